"""Shared fixtures: isolated settings, real PostgreSQL and Redis, migrated databases, sessions.

PostgreSQL and Redis tests run against the servers of this machine (127.0.0.1:5432, trust auth,
and 127.0.0.1:6379). When a server cannot be reached its tests are skipped locally but FAIL when
the environment has CI=true. A test that uses `postgres_url`/`redis_url` (directly or through
`database_url`/`session`) gets the `postgres`/`redis` marker automatically, so
`-m "not postgres"` deselects it.

Override the servers with VITAPHONE_TEST_POSTGRES_URL (an admin URL; a scratch database
vitaphone_test_<random> is created on it for the session and dropped afterwards) and
VITAPHONE_TEST_REDIS_URL.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

POSTGRES_ADMIN_URL = os.environ.get(
    "VITAPHONE_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
REDIS_URL = os.environ.get("VITAPHONE_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")
IN_CI = os.environ.get("CI", "").strip().lower() in ("true", "1", "yes")

_MARKER_FIXTURES = {"postgres_url": "postgres", "fresh_postgres_url": "postgres", "redis_url": "redis"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        for fixture, marker in _MARKER_FIXTURES.items():
            if fixture in names and marker not in item.keywords:
                item.add_marker(getattr(pytest.mark, marker))


def unreachable(what: str, error: BaseException) -> None:
    """Skip (locally) or fail (CI=true) because a server this test needs is not reachable."""
    message = f"{what} is not reachable: {type(error).__name__}: {str(error)[:200]}"
    if IN_CI:
        pytest.fail(f"{message} (CI=true: service tests must not skip)", pytrace=False)
    pytest.skip(message)


@pytest.fixture(autouse=True)
def _isolated_settings(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """No VITAPHONE_* from the outer environment or a developer's .env; a fresh data dir."""
    for name in list(os.environ):
        if name.startswith("VITAPHONE_") and not name.startswith("VITAPHONE_TEST_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("VITAPHONE_ENV_FILE", str(tmp_path / "absent.env"))
    data_dir = tmp_path / "vitaphone-data"
    monkeypatch.setenv("VITAPHONE_DATA_DIR", str(data_dir))
    return data_dir


# --- PostgreSQL -------------------------------------------------------------------------------
def _asyncpg_url(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def _admin(sql: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(_asyncpg_url(POSTGRES_ADMIN_URL), timeout=5)
    try:
        await connection.execute(sql)
    finally:
        await connection.close()


def create_scratch_database(prefix: str = "vitaphone_test") -> str:
    """Create an empty database on the test server; returns its SQLAlchemy asyncpg URL."""
    from sqlalchemy.engine import make_url

    name = f"{prefix}_{secrets.token_hex(4)}"
    try:
        asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # any connection or auth problem
        unreachable(f"PostgreSQL at {POSTGRES_ADMIN_URL}", exc)
    url = make_url(POSTGRES_ADMIN_URL).set(drivername="postgresql+asyncpg", database=name)
    return url.render_as_string(hide_password=False)


def drop_scratch_database(url: str) -> None:
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """An empty scratch PostgreSQL database for this test session (asyncpg URL)."""
    url = create_scratch_database()
    yield url
    drop_scratch_database(url)


@pytest.fixture()
def fresh_postgres_url() -> Iterator[str]:
    """An empty scratch PostgreSQL database for one test (e.g. migrations from scratch)."""
    url = create_scratch_database("vitaphone_test_fresh")
    yield url
    drop_scratch_database(url)


# --- Redis ------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def redis_url() -> str:
    """The test Redis server's URL (verified reachable). Use unique key/queue names per test."""
    import redis

    try:
        client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3, socket_timeout=3)
        client.ping()
        client.close()
    except Exception as exc:
        unreachable(f"Redis at {REDIS_URL}", exc)
    return REDIS_URL


# --- migrated databases and sessions ----------------------------------------------------------
@pytest.fixture(scope="session")
def migrated_sqlite_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    from vitaphone.storage.migrate import upgrade_database

    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'vitaphone.db'}"
    upgrade_database(url)
    return url


@pytest.fixture(scope="session")
def migrated_postgres_url(postgres_url: str) -> str:
    from vitaphone.storage.migrate import upgrade_database

    upgrade_database(postgres_url)
    return postgres_url


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest) -> str:
    """A database migrated to head, once per backend and session. Committed rows persist across
    tests of the session, so tests must not assume empty tables (use unique platform ids)."""
    return request.getfixturevalue(f"migrated_{request.param}_url")


@pytest.fixture()
async def session(database_url: str) -> AsyncIterator[object]:
    """An AsyncSession inside a transaction that is rolled back after the test.

    Code under test may commit: commits become savepoint releases inside the outer transaction.
    """
    from sqlalchemy.ext.asyncio import AsyncSession

    from vitaphone.storage.engine import create_engine

    engine = create_engine(database_url)
    async with engine.connect() as connection:
        transaction = await connection.begin()
        db = AsyncSession(bind=connection, expire_on_commit=False,
                          join_transaction_mode="create_savepoint")
        try:
            yield db
        finally:
            await db.close()
            await transaction.rollback()
    await engine.dispose()
