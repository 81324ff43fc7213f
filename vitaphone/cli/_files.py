"""File and error helpers shared by the CLI commands: one wording for every command."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

err_console = Console(stderr=True)


def read_input(path: Path, what: str = "file") -> bytes:
    """The bytes of a file the user named, or BadOption saying what is wrong with the path."""
    from vitaphone.core.errors import BadOption

    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise BadOption(f"{path} does not exist.", "Check the path.") from None
    except IsADirectoryError:
        raise BadOption(f"{path} is a folder, not a file.", f"Pass {what}.") from None
    except PermissionError:
        raise BadOption(f"{path} cannot be read (permission denied).",
                        "Check the file's permissions.") from None


def check_writable(path: Path, example: str) -> None:
    """Fail before any work when the output path cannot be written."""
    from vitaphone.core.errors import BadOption

    if path.is_dir():
        raise BadOption(f"{path} is a folder.", f"Give a file name, e.g. {example}.")
    if not path.parent.exists():
        raise BadOption(f"The folder {path.parent} does not exist.", "Create it or pick another.")


def print_user_error(exc) -> None:
    """A UserFacingError as the user sees it: the message, then the hint."""
    err_console.print(f"[red]error:[/red] {exc.message}", highlight=False)
    if exc.hint:
        err_console.print(f"  {exc.hint}", highlight=False)


def print_engine_missing(exc) -> None:
    """An EngineUnavailable: the operator's fix."""
    err_console.print(f"[red]error:[/red] {exc.engine} is not available here.", highlight=False)
    err_console.print(f"  Fix: {exc.fix} (or run `vitaphone doctor`).", highlight=False)
