"""`vitaphone worker` processes on Redis and PostgreSQL: start-up checks, exactly-once under
redelivery, bad input, cancellation, SIGTERM."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import pytest
from queue_helpers import (  # noqa: F401 - fixtures
    LONG,
    child_env,
    pg_env,
    pg_studio,
    queue_env,
    settings_of,
    start_worker,
    stop,
    submit,
    wait_for,
)
from sample_images import gradient_png
from sqlalchemy import func, select

from vitaphone.cli.doctor import check_queue
from vitaphone.queue.arq_queue import ArqQueue
from vitaphone.storage import records
from vitaphone.storage.models import Job, Provenance
from vitaphone.storage.states import JobState
from vitaphone.studio import JobFailed, Studio

pytestmark = pytest.mark.redis


def _worker_once(env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "vitaphone", "worker", "--no-warm"],
                          env=child_env(env), capture_output=True, text=True, timeout=60)


def test_unreachable_database_is_one_line_and_exit_1(tmp_path: Path, redis_url: str) -> None:
    env = queue_env("postgresql+asyncpg://postgres@127.0.0.1:1/nowhere", tmp_path, redis_url)
    done = _worker_once(env)
    assert done.returncode == 1
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("vitaphone worker: cannot reach the database at "
                               "postgresql+asyncpg://postgres@127.0.0.1:1/nowhere"), lines


def test_unreachable_redis_is_one_line_and_exit_1(migrated_postgres_url: str,
                                                  tmp_path: Path) -> None:
    env = queue_env(migrated_postgres_url, tmp_path, "redis://127.0.0.1:1/0")
    done = _worker_once(env)
    assert done.returncode == 1
    lines = (done.stdout + done.stderr).strip().splitlines()
    assert lines == [lines[0]] and lines[0].startswith(
        "vitaphone worker: cannot reach Redis at redis://127.0.0.1:1/0"), lines


async def _job(studio: Studio, job_id: str) -> Job:
    async with studio.sessions() as session:
        return await records.get_job(session, job_id)


async def _final(studio: Studio, job_id: str, timeout: float = 60) -> Job:
    async def final():
        job = await _job(studio, job_id)
        return job if job.state.is_final else None
    return await wait_for(final, timeout, f"job {job_id} to end")


@pytest.mark.slow
async def test_worker_renders_fails_bad_input_once_and_cancels_mid_render(
        pg_env: dict[str, str], pg_studio: Studio, tmp_path: Path) -> None:
    settings = settings_of(pg_env)
    queue = await ArqQueue.connect(settings, pg_studio)
    worker = start_worker(pg_env, "--concurrency", "2", log=tmp_path / "worker.log")
    try:
        good = await submit(pg_studio)
        bad = await submit(pg_studio, portrait=gradient_png())
        long = await submit(pg_studio, text=LONG)
        for job_id in (good, bad, long):
            await queue.enqueue(job_id)
            await queue.enqueue(job_id)  # a second delivery of the same id is a no-op
        seen = [s async for s in queue.watch(good, interval_s=0.1)]
        doctor = await asyncio.to_thread(check_queue, settings)
        assert doctor.status == "ok" and "1 live worker(s): arq@" in doctor.detail
        assert seen[-1].state is JobState.DONE and seen[-1].progress == 1.0
        result = await queue.result(good)
        assert pg_studio.blobs.exists(result.output_sha256) and result.duration_s > 0

        failed = await _final(pg_studio, bad)
        assert failed.state is JobState.FAILED and failed.attempts == 1
        with pytest.raises(JobFailed) as caught:
            await queue.result(bad)
        assert caught.value.code == failed.error_code != "internal"
        assert "face" in caught.value.message.lower()

        work = settings.data_dir / "work" / f".vitaphone-{long}"
        await wait_for(lambda: (work.exists() and _render_started(pg_studio, long)), 60,
                       "the long job to render")
        status = await queue.cancel(long, actor="test", reason="changed my mind")
        assert status.state in (JobState.RUNNING, JobState.CANCELLED)
        cancelled = await _final(pg_studio, long, timeout=10)
        assert cancelled.state is JobState.CANCELLED
        assert not work.exists()
        assert not list((settings.data_dir / "work").glob(f"{long}*"))
        async with pg_studio.sessions() as session:
            trail = await records.job_transitions(session, bad)
        claims = [t for t in trail if t.from_state is JobState.QUEUED
                  and t.to_state is JobState.RUNNING]
        assert len(claims) == 1  # never retried
    finally:
        assert stop(worker) == 0
        await queue.aclose()


async def _render_started(studio: Studio, job_id: str) -> bool:
    job = await _job(studio, job_id)
    return job.state is JobState.RUNNING and job.stage in ("render", "finish")


async def provenance_count(studio: Studio, job_ids: list[str]) -> int:
    async with studio.sessions() as session:
        return int((await session.execute(select(func.count()).select_from(Provenance)
                                          .where(Provenance.job_id.in_(job_ids)))).scalar_one())


@pytest.mark.slow
async def test_sigterm_mid_job_puts_it_back_and_another_worker_finishes_it(
        pg_env: dict[str, str], pg_studio: Studio, tmp_path: Path) -> None:
    env = {**pg_env, "VITAPHONE_QUEUE__DRAIN_S": "1"}
    queue = await ArqQueue.connect(settings_of(env), pg_studio)
    first = start_worker(env, log=tmp_path / "first.log")
    second = None
    try:
        job_id = await submit(pg_studio, text=LONG)
        await queue.enqueue(job_id)
        await wait_for(lambda: _render_started(pg_studio, job_id), 90, "the render")
        assert stop(first, timeout=15) == 0  # graceful: drained, then put back
        job = await _job(pg_studio, job_id)
        assert job.state in (JobState.QUEUED, JobState.DONE)
        assert not list((settings_of(env).data_dir / "work").glob(".vitaphone-*"))
        second = start_worker(env, log=tmp_path / "second.log")
        done = await _final(pg_studio, job_id, timeout=90)
        assert done.state is JobState.DONE
        assert await provenance_count(pg_studio, [job_id]) == 1
    finally:
        stop(first)
        if second is not None:
            stop(second)
        await queue.aclose()
