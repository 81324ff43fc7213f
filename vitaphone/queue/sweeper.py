"""The sweeper: finds jobs that SQL says are `queued` or `running` but that nobody will finish.

Runs every `VITAPHONE_QUEUE__SWEEP_S` seconds, as an arq cron job on the Redis backend and as a
task of the in-process backend (and once at its start, which resumes a crashed process's jobs):

- `running` with a stale heartbeat, or whose worker's process on this host is gone (a crash,
  `kill -9`, a lost host): back to `queued` and handed out again; `failed` once it has used
  `max_attempts` runs (a job that keeps killing its worker); `cancelled` if a cancel was asked
  for, or if it was a `vitaphone animate` render whose command is gone (nobody would receive it).
- `queued` that the backend has lost (a Redis restart or flush): handed out again.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vitaphone.config import QueueSettings
from vitaphone.storage import leases, records
from vitaphone.storage.states import JobState

log = logging.getLogger(__name__)

# Hands a job id to the backend again; `force` when a dead worker may still hold it there.
Requeue = Callable[[str, bool], Awaitable[None]]
# Which of these queued job ids the backend still has.
Known = Callable[[list[str]], Awaitable[set[str]]]

QUEUED_GRACE_S = 2.0  # a job just queued may not have reached the backend yet


@dataclass
class SweepReport:
    requeued: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    cancelled: list[str] = field(default_factory=list)
    redelivered: list[str] = field(default_factory=list)

    @property
    def anything(self) -> bool:
        return bool(self.requeued or self.failed or self.cancelled or self.redelivered)


async def sweep(sessions: async_sessionmaker[AsyncSession], queue: QueueSettings, *,
                requeue: Requeue | None = None, known: Known | None = None) -> SweepReport:
    """One pass. Without `requeue`/`known`, only SQL is put right (what `vitaphone animate`
    does for its own crashed renders)."""
    report = SweepReport()
    async with sessions() as session:
        running = await leases.running_jobs(session)
    for job in running:
        if leases.heartbeat_stale(job, queue.lease_s):
            await _settle(sessions, queue, job.id, job.worker_id or "", report)
    if known is not None:
        async with sessions() as session:
            queued = await leases.queued_job_ids(session, idle_s=QUEUED_GRACE_S)
        have = await known(queued) if queued else set()
        report.redelivered.extend(j for j in queued if j not in have)
    if requeue is not None:
        for job_id in report.requeued:
            await requeue(job_id, True)
        for job_id in report.redelivered:
            await requeue(job_id, False)
    if report.anything:
        log.warning("sweeper: %s", report)
    return report


async def _settle(sessions: async_sessionmaker[AsyncSession], queue: QueueSettings, job_id: str,
                  worker_id: str, report: SweepReport) -> None:
    async with sessions.begin() as session:
        job = await records.get_job(session, job_id, for_update=True)
        if (job.state is not JobState.RUNNING or (job.worker_id or "") != worker_id
                or not leases.heartbeat_stale(job, queue.lease_s)):
            return  # it moved on while we looked
        lost = f"worker {worker_id or '?'} stopped"
        if worker_id.startswith("cli:") or job.cancel_requested_at is not None:
            await leases.release(session, job_id, job.worker_id or "", JobState.CANCELLED,
                                 note=f"{lost}; cancelled", error_code="cancelled",
                                 error_message="The render was interrupted.")
            report.cancelled.append(job_id)
        elif job.attempts >= queue.max_attempts:
            await leases.release(
                session, job_id, job.worker_id or "", JobState.FAILED, note=f"{lost}; gave up",
                error_code="worker_lost",
                error_message=(f"This job stopped its worker {job.attempts} times, so it was "
                               "given up. Try a shorter quote or another portrait."))
            report.failed.append(job_id)
        else:
            await leases.release(session, job_id, job.worker_id or "", JobState.QUEUED,
                                 note=f"{lost}; re-queued")
            report.requeued.append(job_id)

