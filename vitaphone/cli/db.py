"""`vitaphone db upgrade|downgrade|current`: schema migrations of the configured database."""

from __future__ import annotations

import typer
from rich.console import Console
from rich.markup import escape

from vitaphone.cli import app

db_app = typer.Typer(help="Database schema migrations (Alembic).", no_args_is_help=True)
app.add_typer(db_app, name="db")

_console = Console()
_err = Console(stderr=True)


def _database_url(url: str | None) -> str:
    """The URL given on the command line (normalised) or the configured one."""
    from vitaphone.config import load_settings, normalize_database_url
    from vitaphone.core.errors import ConfigError

    try:
        if url:
            try:
                return normalize_database_url(url)
            except ValueError as exc:
                raise ConfigError(f"--url: {exc}.", "Pass a valid database URL.") from None
        return load_settings().database_url
    except ConfigError as exc:
        _err.print(f"[red]error:[/red] {escape(exc.message)}\n{escape(exc.hint)}")
        raise typer.Exit(2) from None


def _fail(exc: Exception) -> typer.Exit:
    from vitaphone.config import mask_url

    _err.print(f"[red]error:[/red] {escape(mask_url(str(exc)).splitlines()[0])}")
    return typer.Exit(1)


def _report(url: str, revision: str | None) -> None:
    from vitaphone.config import mask_url

    shown = revision or "(empty)"
    _console.print(f"[green]✔[/green] {mask_url(url)} is at revision [bold]{shown}[/bold].")


_URL_HELP = "Database URL (default: VITAPHONE_DATABASE_URL or the SQLite file in the data dir)."


@db_app.command("upgrade")
def upgrade(
    revision: str = typer.Argument("head", help="Target revision."),
    url: str | None = typer.Option(None, "--url", help=_URL_HELP),
) -> None:
    """Create or update the schema to REVISION (default: the newest)."""
    from vitaphone.config import mask_url
    from vitaphone.storage.migrate import current_revision, upgrade_database

    target = _database_url(url)
    with _console.status(f"Upgrading {mask_url(target)} to {revision}…"):
        try:
            upgrade_database(target, revision)
            now = current_revision(target)
        except Exception as exc:  # one line for the operator; details are in the exception
            raise _fail(exc) from exc
    _report(target, now)


@db_app.command("downgrade")
def downgrade(
    revision: str = typer.Argument(..., help="Target revision, e.g. -1 or base."),
    url: str | None = typer.Option(None, "--url", help=_URL_HELP),
    yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
) -> None:
    """Downgrade the schema to REVISION (`base` drops every table: all data is lost)."""
    from vitaphone.config import mask_url
    from vitaphone.storage.migrate import current_revision, downgrade_database

    target = _database_url(url)
    if not yes:
        typer.confirm(f"Downgrade {mask_url(target)} to {revision}? Data may be lost", abort=True)
    try:
        downgrade_database(target, revision)
        now = current_revision(target)
    except Exception as exc:
        raise _fail(exc) from exc
    _report(target, now)


@db_app.command("current")
def current(url: str | None = typer.Option(None, "--url", help=_URL_HELP)) -> None:
    """Show the database's revision and the newest one this code knows."""
    from vitaphone.config import mask_url
    from vitaphone.storage.migrate import current_revision, head_revision

    target = _database_url(url)
    try:
        now = current_revision(target)
    except Exception as exc:
        raise _fail(exc) from exc
    head = head_revision()
    state = "[green]up to date[/green]" if now == head else "[yellow]run `vitaphone db upgrade`[/yellow]"
    _console.print(f"{mask_url(target)}: revision {now or '(empty)'}, newest {head}: {state}")
