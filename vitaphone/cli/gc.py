"""`vitaphone gc`: apply the retention policy (delete inputs and videos nobody needs any more)."""

from __future__ import annotations

import typer
from rich.console import Console

from vitaphone.cli import app

_console = Console()


@app.command()
def gc(
    dry_run: bool = typer.Option(False, "--dry-run", help="Say what would go; delete nothing."),
) -> None:
    """Delete old inputs, unposted old videos, taken-down videos and forgotten users' files.

    How long things are kept: VITAPHONE_RETENTION__INPUT_DAYS (7) and
    VITAPHONE_RETENTION__OUTPUT_DAYS (30). Run it daily, e.g. from a systemd timer or cron.
    """
    import asyncio

    from vitaphone.cli._files import print_user_error
    from vitaphone.config import load_settings
    from vitaphone.core.errors import UserFacingError

    try:
        settings = load_settings()
        report = asyncio.run(_collect(settings, dry_run))
    except UserFacingError as exc:
        print_user_error(exc)
        raise typer.Exit(2) from None
    verb = "would delete" if dry_run else "deleted"
    _console.print(
        f"[green]✔[/green] {verb} {len(report.deleted)} file(s): the inputs of {report.jobs} "
        f"finished job(s) and {report.outputs} video(s); {report.kept_in_use} still in use "
        "by newer jobs were kept.", highlight=False)


async def _collect(settings, dry_run: bool):
    from vitaphone.storage.blobs import open_blob_store
    from vitaphone.storage.engine import create_engine, make_sessionmaker
    from vitaphone.storage.migrate import ensure_schema_async
    from vitaphone.storage.retention import collect_garbage

    await ensure_schema_async(settings.database_url, embedded=settings.embedded_database)
    engine = create_engine(settings.database_url)
    try:
        policy = settings.retention
        return await collect_garbage(make_sessionmaker(engine), open_blob_store(settings),
                                     input_days=policy.input_days,
                                     output_days=policy.output_days, dry_run=dry_run)
    finally:
        await engine.dispose()
