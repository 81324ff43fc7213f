"""No job lost, none done twice: real `vitaphone worker` processes killed with SIGKILL, Redis
restarted and flushed, the in-process host killed and restarted, 50 jobs over 2 workers."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from queue_helpers import (  # noqa: F401 - fixtures
    LONG,
    REPO,
    PrivateRedis,
    child_env,
    pg_env,
    pg_studio,
    private_redis,
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
from vitaphone.storage.models import Job, Provenance
from vitaphone.storage.states import JobState
from vitaphone.studio import Studio

MEDIUM = "The search for truth is one of the highest of our qualities."
pytestmark = pytest.mark.slow


async def _jobs(studio: Studio, job_ids: list[str]) -> list[Job]:
    async with studio.sessions() as session:
        rows = (await session.execute(select(Job).where(Job.id.in_(job_ids)))).scalars()
        return list(rows)


async def _all_final(studio: Studio, job_ids: list[str], timeout: float) -> list[Job]:
    async def final():
        jobs = await _jobs(studio, job_ids)
        return jobs if all(j.state.is_final for j in jobs) else None
    return await wait_for(final, timeout, f"{len(job_ids)} jobs to end", interval=0.3)


async def _provenance(studio: Studio, job_ids: list[str]) -> int:
    async with studio.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Provenance)
                                          .where(Provenance.job_id.in_(job_ids)))).scalar_one())


async def _claims(studio: Studio, job_id: str) -> list[str]:
    async with studio.sessions() as session:
        trail = await records.job_transitions(session, job_id)
    return [t.note or "" for t in trail
            if t.from_state is JobState.QUEUED and t.to_state is JobState.RUNNING]


async def _rendering(studio: Studio, job_id: str) -> Job | None:
    async with studio.sessions() as session:
        job = await records.get_job(session, job_id)
    return job if job.state is JobState.RUNNING and job.stage in ("render", "finish") else None


async def test_fifty_jobs_over_two_workers_each_done_exactly_once(
        pg_env: dict[str, str], pg_studio: Studio, tmp_path: Path) -> None:
    queue = await ArqQueue.connect(settings_of(pg_env), pg_studio)
    workers = [start_worker(pg_env, log=tmp_path / f"w{i}.log") for i in range(2)]
    try:
        job_ids = [await submit(pg_studio) for _ in range(50)]
        for job_id in job_ids:
            await queue.enqueue(job_id)
        for job_id in job_ids[::5]:  # at-least-once delivery: some ids arrive twice
            await queue.pool.enqueue_job("render_job", job_id, _queue_name=queue.queue_name)
        jobs = await _all_final(pg_studio, job_ids, timeout=240)
        assert {j.state for j in jobs} == {JobState.DONE}
        assert await _provenance(pg_studio, job_ids) == 50
        assert all(j.attempts == 1 for j in jobs)
        runners = {j.worker_id for j in jobs}
        assert len(runners) == 2  # both workers took a share
        for job_id in job_ids[::5]:
            assert len(await _claims(pg_studio, job_id)) == 1
    finally:
        for worker in workers:
            assert stop(worker) == 0
        await queue.aclose()


async def test_kill_9_mid_job_completes_on_the_other_worker(
        pg_env: dict[str, str], pg_studio: Studio, tmp_path: Path) -> None:
    queue = await ArqQueue.connect(settings_of(pg_env), pg_studio)
    workers = [start_worker(pg_env, log=tmp_path / f"w{i}.log") for i in range(2)]
    try:
        job_id = await submit(pg_studio, text=LONG)
        await queue.enqueue(job_id)
        running = await wait_for(lambda: _rendering(pg_studio, job_id), 90, "the render")
        victim = next(w for w in workers if f":{w.pid}:" in running.worker_id)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)  # reaped: its pid is gone, which the sweeper notices at once
        [job] = await _all_final(pg_studio, [job_id], timeout=90)
        assert job.state is JobState.DONE and job.attempts == 2
        survivor = next(w for w in workers if w is not victim)
        assert f":{survivor.pid}:" in job.worker_id
        assert await _provenance(pg_studio, [job_id]) == 1
        claims = await _claims(pg_studio, job_id)
        assert len(claims) == 2 and f":{victim.pid}:" in claims[0]
    finally:
        for worker in workers:
            stop(worker)
        await queue.aclose()


@pytest.mark.parametrize("mishap", ["restart", "flush"])
async def test_redis_restart_or_flush_loses_no_job(
        mishap: str, migrated_postgres_url: str, private_redis: PrivateRedis,
        tmp_path: Path) -> None:
    env = queue_env(migrated_postgres_url, tmp_path / "data", private_redis.url)
    studio = Studio(settings_of(env))
    queue = await ArqQueue.connect(settings_of(env), studio)
    worker = start_worker(env, log=tmp_path / "worker.log")
    try:
        job_ids = [await submit(studio, text=MEDIUM) for _ in range(4)]
        for job_id in job_ids:
            await queue.enqueue(job_id)
        await wait_for(lambda: _rendering(studio, job_ids[0]), 90, "the first render")
        if mishap == "restart":
            private_redis.stop()
            private_redis.start()
        else:
            private_redis.flushall()
        jobs = await _all_final(studio, job_ids, timeout=120)
        assert {j.state for j in jobs} == {JobState.DONE}, [j.error_message for j in jobs]
        assert await _provenance(studio, job_ids) == 4
        assert worker.poll() is None  # the worker rode it out
    finally:
        stop(worker)
        await queue.aclose()
        await studio.aclose()


async def test_inprocess_host_killed_mid_job_resumes_on_restart(tmp_path: Path) -> None:
    env = queue_env(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'vitaphone.db'}",
                    tmp_path / "data")
    settings = settings_of(env)
    from vitaphone.storage.migrate import upgrade_database_async

    await upgrade_database_async(settings.database_url)
    studio = Studio(settings)
    host = [sys.executable, str(Path(__file__).parent / "inprocess_host.py")]
    try:
        job_id = await submit(studio, text=LONG)
        first = subprocess.Popen([*host, job_id], env=child_env(env), cwd=REPO,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        await wait_for(lambda: _rendering(studio, job_id), 90, "the render")
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        [job] = await _jobs(studio, [job_id])
        assert job.state is JobState.RUNNING  # left behind by the dead process
        second = subprocess.run([*host, job_id], env=child_env(env), cwd=REPO, timeout=120,
                                capture_output=True, text=True)
        assert second.returncode == 0, second.stderr[-2000:]
        [job] = await _jobs(studio, [job_id])
        assert job.state is JobState.DONE and job.attempts == 2
        assert await _provenance(studio, [job_id]) == 1
        assert not list((settings.data_dir / "work").glob(".vitaphone-*"))
    finally:
        await studio.aclose()
        await asyncio.sleep(0)
