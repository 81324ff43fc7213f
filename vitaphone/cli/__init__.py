"""The `vitaphone` command: one typer app, one module per command group.

Heavy imports happen inside command bodies so `vitaphone --help` stays instant.
"""

from __future__ import annotations

import typer

app = typer.Typer(
    name="vitaphone",
    help="Portrait + quote -> labelled, watermarked talking-head video.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module registers its commands on `app` when imported.
from vitaphone.cli import animate as _animate  # noqa: E402,F401
from vitaphone.cli import bot as _bot  # noqa: E402,F401
from vitaphone.cli import db as _db  # noqa: E402,F401
from vitaphone.cli import doctor as _doctor  # noqa: E402,F401
from vitaphone.cli import mod as _mod  # noqa: E402,F401
from vitaphone.cli import speak as _speak  # noqa: E402,F401
from vitaphone.cli import verify as _verify  # noqa: E402,F401


def main() -> None:
    app()
