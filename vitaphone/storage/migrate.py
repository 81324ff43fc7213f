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
from sqlalchemy import text
from sqlalchemy.engine import Connection

from vitaphone.core.errors import UserFacingError
from vitaphone.storage.engine import create_engine, sqlite_path

SCRIPT_LOCATION = Path(__file__).resolve().parent / "migrations"
# pg_advisory_xact_lock key of schema migrations (any fixed 64-bit number; "vitaphon" in ASCII).
MIGRATION_LOCK_KEY = 0x7669746170686F6E


class SchemaOutOfDate(UserFacingError):
    """The database's schema is not the one this code needs; the operator migrates it."""

    code = "schema_out_of_date"


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
            # One migrator at a time: a second `db upgrade` (another host, another worker)
            # waits here, then finds the schema at head and does nothing. The lock is held
            # until this transaction ends. SQLite's BEGIN IMMEDIATE (engine.py) already
            # serialises writers.
            if connection.dialect.name == "postgresql":
                await connection.execute(text("SELECT pg_advisory_xact_lock(:key)"),
                                         {"key": MIGRATION_LOCK_KEY})
            await connection.run_sync(run_sync)
    finally:
        await engine.dispose()


async def upgrade_database_async(url: str, revision: str = "head") -> None:
    """Migrate the database at `url` up to `revision` (creates every table on an empty one)."""
    await _run(url, "upgrade", revision)


async def ensure_schema_async(url: str, *, embedded: bool) -> None:
    """Make sure the database at `url` has the schema this code needs, before any query.

    embedded: `url` is the embedded default (the SQLite file in the data dir, no operator):
    it is created or upgraded here, on first use. Any other database is migrated only by
    `vitaphone db upgrade`; raises SchemaOutOfDate saying so when it is behind (or ahead).
    """
    head = head_revision()
    if embedded:
        path = sqlite_path(url)
        if path is None or not path.exists() or await current_revision_async(url) != head:
            await upgrade_database_async(url)
        return
    now = await current_revision_async(url)
    if now == head:
        return
    if now is None:
        raise SchemaOutOfDate("The database has no Vitaphone tables yet.",
                              "Create them with `vitaphone db upgrade`.")
    raise SchemaOutOfDate(
        f"The database schema is at revision {now}; this Vitaphone needs {head}.",
        "Run `vitaphone db upgrade` (after updating every host, if the database is newer).")


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
