"""Schema migrations happen once, under a lock, and only where they are meant to: through
`vitaphone db upgrade`, or on first use of the embedded SQLite default."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import pytest

from vitaphone.storage.migrate import (
    SchemaOutOfDate,
    current_revision,
    ensure_schema_async,
    head_revision,
)


@pytest.mark.postgres
def test_two_concurrent_upgrades_of_a_fresh_postgres_both_succeed(fresh_postgres_url: str) -> None:
    # Two processes, as two hosts would run them (Alembic's context is per process).
    runs = [subprocess.Popen([sys.executable, "-m", "vitaphone", "db", "upgrade", "--url",
                              fresh_postgres_url], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=dict(os.environ))
            for _ in range(2)]
    for run in runs:
        out, err = run.communicate(timeout=120)
        assert run.returncode == 0, err  # the second used to fail: relation already exists
    assert current_revision(fresh_postgres_url) == head_revision()


def test_a_database_behind_is_refused_with_the_command_that_fixes_it(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'operated.db'}"
    with pytest.raises(SchemaOutOfDate) as refused:
        asyncio.run(ensure_schema_async(url, embedded=False))
    assert "vitaphone db upgrade" in refused.value.hint
    assert current_revision(url) is None  # nothing was migrated


def test_the_embedded_default_is_created_on_first_use(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'vitaphone.db'}"
    asyncio.run(ensure_schema_async(url, embedded=True))
    assert current_revision(url) == head_revision()
    asyncio.run(ensure_schema_async(url, embedded=False))  # at head: nothing to say


def test_the_sqlite_file_and_the_data_folder_are_owner_only(tmp_path: Path) -> None:
    from vitaphone.config import load_settings
    from vitaphone.studio import Studio

    data = tmp_path / "data"
    settings = load_settings(env_file=None, data_dir=data)
    assert settings.embedded_database
    asyncio.run(ensure_schema_async(settings.database_url, embedded=True))
    studio = Studio(settings)
    asyncio.run(studio.aclose())
    assert data.stat().st_mode & 0o777 == 0o700
    for name in ("vitaphone.db", "vitaphone.db-wal", "vitaphone.db-shm"):
        if (data / name).exists():
            assert (data / name).stat().st_mode & 0o077 == 0, name
    # An older install's loose modes are tightened on the next start.
    os.chmod(data, 0o755)
    os.chmod(data / "vitaphone.db", 0o644)
    asyncio.run(Studio(settings).aclose())
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "vitaphone.db").stat().st_mode & 0o777 == 0o600
