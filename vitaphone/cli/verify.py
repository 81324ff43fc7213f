"""`vitaphone verify FILE [--json]`: is this video one of ours, and what does its record say?

Exit codes: 0 a Vitaphone mark was found (watermark or manifest) and nothing contradicts it,
1 no marks, 2 error (bad file, bad configuration), 3 our watermark on a picture that is not the
one we made (possible forgery).
"""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console

from vitaphone.cli import app

_console = Console()
_err = Console(stderr=True)


@app.command("verify")
def verify(
    file: Path = typer.Argument(..., help="The video to check (MP4 or anything FFmpeg reads)."),
    as_json: bool = typer.Option(False, "--json", help="Print the full result as JSON."),
) -> None:
    """Check a video's Content Credentials and invisible watermark, and look up its record."""
    import asyncio

    from rich.markup import escape

    from vitaphone.core.errors import UserFacingError
    from vitaphone.verification import KIND_MISMATCH

    try:
        verdict = asyncio.run(_verify(file))
    except UserFacingError as exc:
        _err.print(f"[red]error:[/red] {escape(exc.message)}\n{escape(exc.hint)}".rstrip())
        raise typer.Exit(2) from None
    if as_json:
        typer.echo(json.dumps(verdict.as_json(), indent=2, ensure_ascii=False))
    else:
        forged = verdict.kind == KIND_MISMATCH
        style = "bold red" if forged else ("bold green" if verdict.marked else "bold")
        _console.print(verdict.lines[0], style=style, highlight=False, markup=False)
        for line in verdict.lines[1:]:
            _console.print(f"  {line}", highlight=False, markup=False)
    if verdict.kind == KIND_MISMATCH:
        raise typer.Exit(3)
    raise typer.Exit(0 if verdict.marked else 1)


async def _verify(file: Path):
    """Settings -> trust anchor and (when the database exists) a session factory -> verdict."""
    from vitaphone.config import load_settings
    from vitaphone.storage.engine import create_engine, make_sessionmaker, sqlite_path
    from vitaphone.verification import local_trust_anchor, verify_video

    settings = load_settings()
    trust_anchor = local_trust_anchor(settings.data_dir)
    db_file = sqlite_path(settings.database_url)
    if db_file is not None and not db_file.is_file():  # never create an empty database here
        return await verify_video(file, trust_anchor_pem=trust_anchor)
    engine = create_engine(settings.database_url)
    try:
        return await verify_video(
            file, session_factory=make_sessionmaker(engine), trust_anchor_pem=trust_anchor
        )
    finally:
        await engine.dispose()
