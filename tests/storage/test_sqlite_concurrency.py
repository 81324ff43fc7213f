"""The embedded default (SQLite) takes concurrent jobs without "database is locked" errors."""

from __future__ import annotations

import asyncio
import secrets

from vitaphone.storage import records
from vitaphone.storage.engine import create_engine, make_sessionmaker
from vitaphone.storage.states import JobState


async def test_concurrent_writers_queue_instead_of_failing(migrated_sqlite_url: str) -> None:
    engine = create_engine(migrated_sqlite_url)
    sessions = make_sessionmaker(engine)
    try:
        async with sessions.begin() as session:
            user = await records.get_or_create_user(session, "test", secrets.token_hex(6))
            jobs = [await records.create_job(session, user.id, quote_text=str(i)) for i in range(4)]
            for job in jobs:
                await records.transition_job(session, job.id, JobState.QUEUED)

        async def work(job_id: str, stage: int) -> None:
            # Read first, then write after a pause: the pattern that fails with deferred BEGIN.
            async with sessions.begin() as session:
                await records.get_job(session, job_id)
                await asyncio.sleep(0.02)
                await records.transition_job(session, job_id, JobState.RUNNING, stage=f"s{stage}")

        await asyncio.gather(*(work(job.id, i) for job in jobs for i in range(3)))
        async with sessions() as session:
            for job in jobs:
                history = await records.job_transitions(session, job.id)
                assert sorted(t.stage for t in history if t.to_state is JobState.RUNNING) == [
                    "s0", "s1", "s2"]
                assert (await records.get_job(session, job.id)).attempts == 1
    finally:
        await engine.dispose()
