"""The `vitaphone` command: one typer app, one module per command group.

Heavy imports happen inside command bodies so `vitaphone --help` stays instant.
"""

from __future__ import annotations

import typer
from typer.core import TyperGroup


class _Commands(TyperGroup):
    """Every command runs with logging configured, and an unexpected exception reaches the
    user as "Something went wrong (ref …)" (exit 1) with its traceback in the log file."""

    def invoke(self, ctx):  # type: ignore[no-untyped-def]
        from typer._click.exceptions import ClickException

        _configure_logging()
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, ClickException):  # deliberate exits and usage errors
            raise
        except Exception as exc:
            from rich.console import Console
            from rich.markup import escape

            from vitaphone.logs import internal_error, log_file

            sentence = internal_error(exc, f"vitaphone {ctx.invoked_subcommand or ''}".strip())
            where = log_file()
            Console(stderr=True).print(
                f"[red]error:[/red] {escape(sentence)}"
                + (f" Details are in {escape(str(where))}." if where else ""), highlight=False)
            raise typer.Exit(1) from None


def _configure_logging() -> None:
    from vitaphone.config import load_settings
    from vitaphone.core.errors import ConfigError
    from vitaphone.logs import configure_logging

    try:
        data_dir = load_settings().data_dir
    except ConfigError:  # the command itself reports the bad setting
        data_dir = None
    configure_logging(data_dir)


app = typer.Typer(
    name="vitaphone",
    help="Portrait + quote -> labelled, watermarked talking-head video.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    cls=_Commands,
)

# Each module registers its commands on `app` when imported.
from vitaphone.cli import animate as _animate  # noqa: E402,F401
from vitaphone.cli import bot as _bot  # noqa: E402,F401
from vitaphone.cli import db as _db  # noqa: E402,F401
from vitaphone.cli import doctor as _doctor  # noqa: E402,F401
from vitaphone.cli import gc as _gc  # noqa: E402,F401
from vitaphone.cli import jobs as _jobs  # noqa: E402,F401
from vitaphone.cli import mod as _mod  # noqa: E402,F401
from vitaphone.cli import speak as _speak  # noqa: E402,F401
from vitaphone.cli import verify as _verify  # noqa: E402,F401
from vitaphone.cli import worker as _worker  # noqa: E402,F401


def main() -> None:
    app()
