"""Run Alembic migrations from code: `vitaphone db …`, tests, and first use of the default SQLite.

The migration scripts ship inside the package (`vitaphone/storage/migrations/`), so a wheel install
can migrate too; `alembic.ini` at the repository root serves the `alembic` command itself.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from vitaphone.storage.engine import create_engine

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"


def alembic_config(url: str | None = None) -> Config:
    """An Alembic config pointing at our scripts (no ini file needed)."""
    if not (SCRIPT_LOCATION / "env.py").is_file():
        raise FileNotFoundError(
            f"migration scripts not found at {SCRIPT_LOCATION}; reinstall Vitaphone "
            "(`pip install -e .` from its checkout)"
        )
    config = Config()
    config.set_main_option("script_location", str(SCRIPT_LOCATION))
    if url is not None:
        # ConfigParser interpolation: a literal % in a password must be doubled.
        config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def _run(url: str, action: str, revision: str) -> None:
    """Run `alembic <action> <revision>` on one connection, in one transaction.

    SQLite foreign keys are off while migrating: batch mode rebuilds tables by copy-and-rename,
    which enforced foreign keys would break (the Alembic docs give the same advice).
    """
    config = alembic_config(url)

    def run_sync(connection: Connection) -> None:
        config.attributes["connection"] = connection
        getattr(command, action)(config, revision)

    engine = create_engine(url, foreign_keys=False)
    try:
        async with engine.begin() as connection:
            await connection.run_sync(run_sync)
    finally:
        await engine.dispose()


async def upgrade_database_async(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision` (creates every table on an empty one)."""
    await _run(url, "upgrade", revision)


async def downgrade_database_async(url: str, revision: str) -> None:
    await _run(url, "downgrade", revision)


async def current_revision_async(url: str) -> str | None:
    """The database's Alembic revision, None when it has no schema yet."""
    engine = create_engine(url)
    try:
        async with engine.connect() as connection:
            return await connection.run_sync(
                lambda sync: MigrationContext.configure(sync).get_current_revision()
            )
    finally:
        await engine.dispose()


def _no_running_loop(name: str) -> None:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return
    raise RuntimeError(f"{name}() called inside an event loop; await {name}_async() instead")


def upgrade_database(url: str, revision: str = "head") -> None:
    """Synchronous `upgrade_database_async` for CLI commands (not inside an event loop)."""
    _no_running_loop("upgrade_database")
    asyncio.run(upgrade_database_async(url, revision))


def downgrade_database(url: str, revision: str) -> None:
    _no_running_loop("downgrade_database")
    asyncio.run(downgrade_database_async(url, revision))


def current_revision(url: str) -> str | None:
    _no_running_loop("current_revision")
    return asyncio.run(current_revision_async(url))
