"""Async engines and sessions for SQLite (aiosqlite) and PostgreSQL (asyncpg).

Nothing here connects at import time. Callers own transactions:

    engine = create_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    async with sessions.begin() as session:      # commits on success, rolls back on error
        job = await records.create_job(session, ...)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

SQLITE_BUSY_TIMEOUT_S = 30.0


def sqlite_path(url: str) -> Path | None:
    """The file of a SQLite URL, or None for PostgreSQL and in-memory SQLite."""
    parsed = make_url(url)
    if not parsed.drivername.startswith("sqlite") or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) readable by its owner only; tighten it if it exists.

    For folders that are ours alone (the data dir, the blob dir), never for a shared parent."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o700)
    return path


def private_sqlite_file(path: Path) -> None:
    """The SQLite file exists and is owner-only (0600); SQLite gives its -wal and -shm files the
    same mode. A folder we create for it is owner-only too."""
    if not path.parent.exists():
        private_dir(path.parent)
    os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.stat().st_mode & 0o077:
                os.chmod(file, 0o600)
        except FileNotFoundError:
            continue


def _sqlite_setup(engine: AsyncEngine, foreign_keys: bool) -> None:
    """Foreign keys on, WAL journal, and SQLAlchemy (not pysqlite) in charge of BEGIN.

    pysqlite's own transaction handling defers BEGIN and breaks SAVEPOINTs; the recipe from the
    SQLAlchemy docs disables it and emits BEGIN itself. We emit BEGIN IMMEDIATE: a deferred
    transaction that read before another writer committed cannot later write (SQLITE_BUSY_SNAPSHOT,
    "database is locked", not retried by busy_timeout), so concurrent jobs on the embedded default
    would fail at random. IMMEDIATE makes writers queue at BEGIN instead (Rails and Django made
    the same choice). The cost: transactions are serialised, so never hold a session open while
    awaiting another one on the same SQLite database.
    """

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA foreign_keys={'ON' if foreign_keys else 'OFF'}")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={int(SQLITE_BUSY_TIMEOUT_S * 1000)}")
        cursor.close()

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def create_engine(url: str, *, foreign_keys: bool = True, **kwargs: Any) -> AsyncEngine:
    """An async engine for `url`; creates the directory of a SQLite file if needed.

    `foreign_keys=False` only for SQLite migrations (see `migrate._run`); PostgreSQL ignores it.
    """
    path = sqlite_path(url)
    if path is not None:
        private_sqlite_file(path)
        kwargs.setdefault("connect_args", {"timeout": SQLITE_BUSY_TIMEOUT_S})
    else:
        kwargs.setdefault("pool_pre_ping", True)
    engine = create_async_engine(url, **kwargs)
    if url.startswith("sqlite"):
        _sqlite_setup(engine, foreign_keys)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose objects stay readable after commit (no lazy refresh in async code)."""
    return async_sessionmaker(engine, expire_on_commit=False)
