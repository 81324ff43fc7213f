"""Migrations run from empty to head and back on SQLite and PostgreSQL, and match the models."""

from __future__ import annotations

import asyncio

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from vitaphone.storage import models  # noqa: F401  (registers tables)
from vitaphone.storage.base import Base
from vitaphone.storage.engine import create_engine
from vitaphone.storage.migrate import (
    current_revision,
    downgrade_database,
    head_revision,
    upgrade_database,
)

MODEL_TABLES = set(Base.metadata.tables)


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                names = await connection.run_sync(lambda sync: inspect(sync).get_table_names())
        finally:
            await engine.dispose()
        return set(names)

    return asyncio.run(read())


def _diff(url: str) -> list[object]:
    async def compare() -> list[object]:
        engine = create_engine(url)
        try:
            async with engine.connect() as connection:
                return await connection.run_sync(
                    lambda sync: compare_metadata(
                        MigrationContext.configure(
                            sync, opts={"compare_type": True, "compare_server_default": True}
                        ),
                        Base.metadata,
                    )
                )
        finally:
            await engine.dispose()

    return asyncio.run(compare())


def _round_trip(url: str) -> None:
    assert current_revision(url) is None
    upgrade_database(url)
    assert current_revision(url) == head_revision()
    assert _tables(url) == MODEL_TABLES | {"alembic_version"}
    assert _diff(url) == []
    downgrade_database(url, "base")
    assert current_revision(url) is None
    assert _tables(url) <= {"alembic_version"}
    assert len(_diff(url)) >= len(MODEL_TABLES)  # the comparison does see missing tables
    upgrade_database(url)  # and up again: the downgrade left nothing behind that breaks it
    assert current_revision(url) == head_revision()


def test_sqlite_upgrade_downgrade_upgrade(tmp_path) -> None:
    _round_trip(f"sqlite+aiosqlite:///{tmp_path / 'nested' / 'm.db'}")


@pytest.mark.postgres
def test_postgres_upgrade_downgrade_upgrade(fresh_postgres_url: str) -> None:
    _round_trip(fresh_postgres_url)


def test_models_match_migrations(database_url: str) -> None:
    """Autogenerate against a database migrated to head finds nothing to add or change."""
    assert _diff(database_url) == []


def test_head_is_a_single_revision() -> None:
    assert head_revision() is not None
