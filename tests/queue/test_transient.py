"""Transient errors retry with back-off, up to `max_attempts`, against a real failure: a real
`vitaphone worker` process whose PostgreSQL connection is terminated from outside while it
commits the job's result.

To hit the worker inside that transaction (its idle pooled connections would simply be
re-opened by the pool's pre-ping), the test holds `LOCK TABLE provenance IN EXCLUSIVE MODE`:
the worker's provenance INSERT then waits on the lock, the test sees it waiting in
pg_stat_activity and terminates every other backend of the scratch database.
"""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Self

import asyncpg
import pytest
from queue_helpers import (
    queue_env,
    settings_of,
    start_worker,
    stop,
    submit,
    wait_for,
)
from sqlalchemy import func, select

from vitaphone.queue.arq_queue import ArqQueue
from vitaphone.storage import records
from vitaphone.storage.models import Job, JobTransition, Provenance
from vitaphone.storage.states import JobState
from vitaphone.studio import Studio

pytestmark = [pytest.mark.slow, pytest.mark.redis, pytest.mark.postgres]

_WAITING = """SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()
              AND wait_event_type = 'Lock' AND query ILIKE '%provenance%'"""
_TERMINATE = """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                WHERE datname = $1 AND pid <> pg_backend_pid() AND pid <> $2"""


def _dsn(url: str) -> tuple[str, str]:
    dsn = url.replace("postgresql+asyncpg://", "postgresql://", 1)
    return dsn, dsn.rsplit("/", 1)[1].split("?", 1)[0]


class Saboteur:
    """Holds the provenance table locked and kills the worker's connections from outside."""

    def __init__(self, url: str) -> None:
        self.dsn, self.db = _dsn(url)

    async def __aenter__(self) -> Self:
        self.holder = await asyncpg.connect(self.dsn)
        self.admin = await asyncpg.connect(self.dsn)
        self.tx = self.holder.transaction()
        await self.tx.start()
        await self.holder.execute("LOCK TABLE provenance IN EXCLUSIVE MODE")
        self.holder_pid = self.holder.get_server_pid()
        return self

    async def worker_waiting(self) -> bool:
        return bool(await self.admin.fetch(_WAITING, self.db))

    async def terminate(self) -> int:
        """pg_terminate_backend on every backend of the database but ours."""
        return int(await self.admin.fetchval(_TERMINATE, self.db, self.holder_pid))

    async def unlock(self) -> None:
        await self.tx.rollback()

    async def __aexit__(self, *exc: object) -> None:
        if not self.holder.is_closed():
            await self.holder.close()
        await self.admin.close()


async def _job(studio: Studio, job_id: str) -> Job:
    async with studio.sessions() as session:
        return await records.get_job(session, job_id)


async def _trail(studio: Studio, job_id: str) -> list[JobTransition]:
    async with studio.sessions() as session:
        trail = [t for t in await records.job_transitions(session, job_id)
                 if t.from_state is not t.to_state]  # leave out running -> running stage rows
    first_claim = next(i for i, t in enumerate(trail) if t.to_state is JobState.RUNNING)
    return trail[first_claim:]  # from the first run on (intake's states come before)


async def _provenance(studio: Studio, job_id: str) -> int:
    async with studio.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Provenance)
                                          .where(Provenance.job_id == job_id))).scalar_one())


async def _final(studio: Studio, job_id: str, timeout: float) -> Job:
    async def final():
        job = await _job(studio, job_id)
        return job if job.state.is_final else None
    return await wait_for(final, timeout, f"job {job_id} to end", interval=0.2)


async def test_lost_database_connection_mid_commit_retries_with_backoff_and_is_done_once(
        migrated_postgres_url: str, redis_url: str, tmp_path: Path) -> None:
    env = queue_env(migrated_postgres_url, tmp_path / "data", redis_url, retry_base_s=1.5)
    studio = Studio(settings_of(env))
    queue = await ArqQueue.connect(settings_of(env), studio)
    worker = start_worker(env, log=tmp_path / "worker.log")
    try:
        async with Saboteur(migrated_postgres_url) as saboteur:
            job_id = await submit(studio)
            await queue.enqueue(job_id)
            await wait_for(saboteur.worker_waiting, 40, "the worker's provenance INSERT to wait")
            assert await saboteur.terminate() >= 1
            await saboteur.unlock()
        job = await _final(studio, job_id, 40)
        assert job.state is JobState.DONE, (job.state, job.error_message)
        assert job.attempts == 2
        assert await _provenance(studio, job_id) == 1
        trail = await _trail(studio, job_id)
        assert [(t.from_state, t.to_state) for t in trail] == [
            (JobState.QUEUED, JobState.RUNNING),
            (JobState.RUNNING, JobState.QUEUED), (JobState.QUEUED, JobState.RUNNING),
            (JobState.RUNNING, JobState.DONE)], [(t.from_state, t.to_state, t.note) for t in trail]
        requeue, reclaim = trail[1], trail[2]
        assert re.fullmatch(r"transient \w+; retry in 1\.5 s", requeue.note or ""), requeue.note
        waited = (reclaim.at - requeue.at).total_seconds()
        assert 1.4 <= waited < 10, f"re-claimed {waited:.2f} s after the back-off of 1.5 s"
    finally:
        stop(worker)
        await queue.aclose()
        await studio.aclose()


async def test_failure_that_persists_past_max_attempts_fails_with_a_reference(
        migrated_postgres_url: str, redis_url: str, tmp_path: Path) -> None:
    env = queue_env(migrated_postgres_url, tmp_path / "data", redis_url, max_attempts=2,
                    retry_base_s=0.5)
    studio = Studio(settings_of(env))
    queue = await ArqQueue.connect(settings_of(env), studio)
    log = tmp_path / "worker.log"
    worker = start_worker(env, log=log)
    try:
        async with Saboteur(migrated_postgres_url) as saboteur:
            job_id = await submit(studio)
            await queue.enqueue(job_id)
            kills = 0

            async def killed_or_final() -> Job | None:
                nonlocal kills
                if await saboteur.worker_waiting():
                    kills += 1
                    await saboteur.terminate()
                job = await _job(studio, job_id)
                return job if job.state.is_final else None

            job = await wait_for(killed_or_final, 50, "the job to end", interval=0.1)
            await asyncio.sleep(2)  # the back-off is 0.5 s: a further retry would show by now
            job = await _job(studio, job_id)
        assert kills == 2
        assert job.state is JobState.FAILED
        assert job.attempts == 2
        match = re.fullmatch(r"Something went wrong \(ref ([0-9a-f]{8})\)\.", job.error_message or "")
        assert match, job.error_message
        assert job.error_code == "internal"
        assert await _provenance(studio, job_id) == 0
        trail = await _trail(studio, job_id)
        assert [t.to_state for t in trail] == [JobState.RUNNING, JobState.QUEUED,
                                              JobState.RUNNING, JobState.FAILED]
        assert f"(ref {match.group(1)})" in log.read_text()  # the traceback is in the log
    finally:
        stop(worker)
        await queue.aclose()
        await studio.aclose()
