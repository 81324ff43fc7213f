"""File and error helpers shared by the CLI commands: one wording for every command.

Everything a user typed (paths, quotes) is printed through `rich.markup.escape`: a file called
`[/x].jpg` is a name, not markup.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from rich.console import Console
from rich.markup import escape

err_console = Console(stderr=True)

# Bound for files that have no limit setting of their own (e.g. `speak --voice`).
DEFAULT_MAX_BYTES = 50 * 1024 * 1024


def read_input(path: Path, what: str = "a file", max_bytes: int = DEFAULT_MAX_BYTES) -> bytes:
    """The bytes of a file the user named, never reading more than `max_bytes` + 1 bytes;
    BadOption saying what is wrong with the path (missing, a folder, unreadable, too large)."""
    from vitaphone.intake import read_file

    return read_file(path, max_bytes=max_bytes, what=what)


def check_writable(path: Path, example: str, *, inputs: Iterable[Path | None] = (),
                   force: bool = False) -> None:
    """Fail before any work when the output path cannot or must not be written.

    Refuses a folder, a missing parent folder, any of `inputs` (even with --force: it would
    destroy what is being read), and an existing file unless `force`.
    """
    from vitaphone.core.errors import BadOption

    if path.is_dir():
        raise BadOption(f"{path} is a folder.", f"Give a file name, e.g. {example}.")
    if not path.parent.exists():
        raise BadOption(f"The folder {path.parent} does not exist.", "Create it or pick another.")
    for source in inputs:
        if source is not None and _same_file(path, source):
            raise BadOption(f"The output {path} is also an input ({source}); writing it would "
                            "destroy the input.", f"Choose another output name, e.g. {example}.")
    if path.exists() and not force:
        raise BadOption(f"{path} already exists.",
                        "Pass --force to replace it, or choose another output name.")


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:  # one of them does not exist (yet)
        return a.resolve() == b.resolve()


def print_user_error(exc) -> None:
    """A UserFacingError as the user sees it: the message, then the hint."""
    err_console.print(f"[red]error:[/red] {escape(exc.message)}", highlight=False)
    if exc.hint:
        err_console.print(f"  {escape(exc.hint)}", highlight=False)


def print_engine_missing(exc) -> None:
    """An EngineUnavailable: the operator's fix."""
    err_console.print(f"[red]error:[/red] {escape(exc.engine)} is not available here.",
                      highlight=False)
    err_console.print(f"  Fix: {escape(exc.fix)} (or run `vitaphone doctor`).", highlight=False)
