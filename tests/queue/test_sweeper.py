"""The sweeper on real databases: jobs of dead workers go back to the queue, a job that keeps
killing its worker is failed after `max_attempts`, an interrupted CLI render is cancelled, and
queued jobs the backend lost are handed out again."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from queue_helpers import queue_env, settings_of, submit

from vitaphone.queue.sweeper import sweep
from vitaphone.storage import leases, records
from vitaphone.storage.base import utcnow
from vitaphone.storage.states import JobState
from vitaphone.studio import Studio


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


async def _running_as(studio: Studio, job_id: str, worker_id: str, attempts: int = 1,
                      beat_age_s: float = 0.0) -> None:
    async with studio.sessions.begin() as session:
        job = await leases.claim(session, job_id, worker_id)
        job.attempts = attempts
        job.heartbeat_at = utcnow() - timedelta(seconds=beat_age_s)


async def test_sweeper_requeues_fails_and_cancels(database_url: str, tmp_path: Path) -> None:
    settings = settings_of(queue_env(database_url, tmp_path / "data", max_attempts=3,
                                     lease_s=30))
    studio = Studio(settings)
    try:
        dead = f"arq:{leases.new_worker_id('x').split(':')[1]}:{_dead_pid()}:aaaaaa"
        lost, doomed, cli, stale, alive, queued = [await submit(studio) for _ in range(6)]
        await _running_as(studio, lost, dead, attempts=1)
        await _running_as(studio, doomed, dead, attempts=3)
        await _running_as(studio, cli, "cli" + dead[3:], attempts=1)
        await _running_as(studio, stale, "arq:elsewhere:1:bbbbbb", beat_age_s=60)
        await _running_as(studio, alive, "arq:elsewhere:1:cccccc", beat_age_s=1)
        handed: list[tuple[str, bool]] = []

        async def requeue(job_id: str, force: bool) -> None:
            handed.append((job_id, force))

        async def known(job_ids: list[str]) -> set[str]:
            return set()  # the backend lost everything (a Redis flush)

        async with studio.sessions.begin() as session:  # queued long enough ago
            job = await records.get_job(session, queued)
            job.updated_at = utcnow() - timedelta(seconds=10)
        report = await sweep(studio.sessions, settings.queue, requeue=requeue, known=known)
        # (other tests' rows share this database: look only at ours)
        assert {lost, stale} <= set(report.requeued) and alive not in report.requeued
        assert doomed in report.failed and cli in report.cancelled
        assert queued in report.redelivered
        assert (lost, True) in handed and (stale, True) in handed and (queued, False) in handed
        async with studio.sessions() as session:
            states = {j: (await records.get_job(session, j)) for j in
                      (lost, doomed, cli, stale, alive)}
        assert states[lost].state is JobState.QUEUED and states[lost].worker_id is None
        assert states[doomed].state is JobState.FAILED
        assert states[doomed].error_code == "worker_lost"
        assert "stopped its worker 3 times" in states[doomed].error_message
        assert states[cli].state is JobState.CANCELLED
        assert states[alive].state is JobState.RUNNING  # its heartbeat is fresh
    finally:
        await studio.aclose()
