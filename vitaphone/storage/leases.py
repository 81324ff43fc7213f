"""Who runs which job and how far it got: claims, heartbeats, progress, cancel requests, workers.

SQL is the source of truth for the queue: a job is claimed by moving it `queued -> running` with
the claimer's worker id (so two deliveries of one job id cannot both run it), and the running
worker writes stage, progress and a heartbeat at least every second. Any process reads them.

Worker ids are `kind:host:pid:tag` ("arq", "inprocess" or "cli"), so a sweeper on the same host
can tell at once that a worker's process is gone; elsewhere the heartbeat going stale tells it.

Like `records`, nothing here commits: the caller owns the transaction. Heartbeat and progress
writes are plain UPDATEs that do not bump `jobs.version` (they never conflict with transitions).
"""

from __future__ import annotations

import os
import secrets
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, func, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vitaphone.storage.base import utcnow
from vitaphone.storage.models import Job, Worker
from vitaphone.storage.moderation import audit
from vitaphone.storage.records import get_job, transition_job
from vitaphone.storage.states import JobState

# Where each stage starts in the whole job's progress, and its share (from usual CPU timings).
STAGE_SPANS: dict[str, tuple[float, float]] = {
    "start": (0.0, 0.0), "portrait": (0.0, 0.05), "speech": (0.05, 0.15),
    "motion": (0.20, 0.05), "render": (0.25, 0.65), "finish": (0.90, 0.10),
}
WAITING = (JobState.RECEIVED, JobState.AWAITING_CONSENT, JobState.AWAITING_REVIEW,
           JobState.QUEUED)


def overall_progress(stage: str | None, fraction: float) -> float:
    """Progress over the whole job (0..1) from a stage and the fraction of it done."""
    start, share = STAGE_SPANS.get(stage or "start", (0.0, 0.0))
    return round(min(1.0, max(0.0, start + share * min(1.0, max(0.0, fraction)))), 4)


# --- worker ids ------------------------------------------------------------------------------
def new_worker_id(kind: str) -> str:
    """`kind:host:pid:tag` for this process (≤ 100 characters)."""
    host = socket.gethostname()[:60]
    return f"{kind}:{host}:{os.getpid()}:{secrets.token_hex(3)}"


def worker_process_gone(worker_id: str | None) -> bool:
    """True only when `worker_id` names a process on this host that no longer exists."""
    parts = (worker_id or "").split(":")
    if len(parts) != 4 or parts[1] != socket.gethostname()[:60] or not parts[2].isdigit():
        return False
    try:
        os.kill(int(parts[2]), 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's live process
        return False
    return False


@dataclass(frozen=True)
class WorkerInfo:
    id: str
    kind: str
    host: str
    pid: int
    device: str
    concurrency: int
    started_at: datetime
    heartbeat_at: datetime
    running_jobs: int = 0


async def register_worker(session: AsyncSession, worker_id: str, *, device: str,
                          concurrency: int) -> None:
    kind, host, pid, _tag = worker_id.split(":")
    now = utcnow()
    session.add(Worker(id=worker_id, kind=kind, host=host, pid=int(pid), device=device,
                       concurrency=concurrency, started_at=now, heartbeat_at=now))
    await session.flush()


async def worker_beat(session: AsyncSession, worker_id: str) -> None:
    await session.execute(update(Worker).where(Worker.id == worker_id)
                          .values(heartbeat_at=utcnow()))


async def worker_stopped(session: AsyncSession, worker_id: str) -> None:
    await session.execute(update(Worker).where(Worker.id == worker_id)
                          .values(stopped_at=utcnow()))


async def live_workers(session: AsyncSession, within_s: float) -> list[WorkerInfo]:
    """Workers that beat within `within_s` and have not stopped, with their running job counts."""
    since = utcnow() - timedelta(seconds=within_s)
    running = (select(Job.worker_id, func.count().label("n")).where(Job.state == JobState.RUNNING)
               .group_by(Job.worker_id).subquery())
    query = (select(Worker, running.c.n).outerjoin(running, running.c.worker_id == Worker.id)
             .where(Worker.heartbeat_at >= since, Worker.stopped_at.is_(None))
             .order_by(Worker.started_at))
    return [WorkerInfo(w.id, w.kind, w.host, w.pid, w.device, w.concurrency, w.started_at,
                       w.heartbeat_at, int(n or 0))
            for w, n in (await session.execute(query)).all()]


# --- claims, heartbeats, progress ------------------------------------------------------------
class Beat(StrEnum):
    OK = "ok"
    CANCEL = "cancel"  # a user or admin asked to stop
    LOST = "lost"  # the job is no longer ours (re-queued by the sweeper, cancelled, ...)


async def claim(session: AsyncSession, job_id: str, worker_id: str) -> Job | None:
    """Move a `queued` job to `running` for `worker_id`; None (nothing changed) if it is in any
    other state. A queued job whose cancel was requested is cancelled here instead."""
    job = await get_job(session, job_id, for_update=True)
    if job.state is not JobState.QUEUED:
        return None
    if job.cancel_requested_at is not None:
        await transition_job(session, job_id, JobState.CANCELLED, note="cancelled before start")
        return None
    job = await transition_job(session, job_id, JobState.RUNNING, stage="start",
                               note=f"claimed by {worker_id}")
    job.worker_id, job.heartbeat_at = worker_id, utcnow()
    await session.flush()
    return job


async def beat(session: AsyncSession, job_id: str, worker_id: str, stage: str | None,
               progress: float) -> Beat:
    """Record the running job's stage, progress and heartbeat; say whether to go on."""
    result = await session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker_id == worker_id, Job.state == JobState.RUNNING)
        .values(stage=stage, progress=progress, heartbeat_at=utcnow())
        .returning(Job.cancel_requested_at)
        .execution_options(synchronize_session=False))
    row = result.first()
    if row is None:
        return Beat.LOST
    return Beat.CANCEL if row[0] is not None else Beat.OK


async def owns(session: AsyncSession, job_id: str, worker_id: str) -> bool:
    """Lock the job (PostgreSQL) and say whether `worker_id` still runs it."""
    job = await get_job(session, job_id, for_update=True)
    return job.state is JobState.RUNNING and job.worker_id == worker_id


async def release(session: AsyncSession, job_id: str, worker_id: str, to: JobState, *,
                  note: str, error_code: str | None = None,
                  error_message: str | None = None) -> bool:
    """End our run of a job: `queued` (retry later), `cancelled` or `failed`. False (nothing
    changed) when the job is no longer ours.

    A job whose cancel was requested ends `cancelled` whatever stopped it: a retry would undo
    the cancel, and a failure is often the cancel's own doing (/forgetme erases the inputs of
    a job it has just stopped)."""
    if not await owns(session, job_id, worker_id):
        return False
    job = await get_job(session, job_id)
    if job.cancel_requested_at is not None and to is not JobState.CANCELLED:
        to, note = JobState.CANCELLED, f"{note}; cancel requested"
        error_code, error_message = None, None  # keep the cancel's own code and message
    job = await transition_job(session, job_id, to, note=note, error_code=error_code,
                               error_message=error_message)
    job.worker_id = job.heartbeat_at = None
    if to is JobState.QUEUED:
        job.cancel_requested_at = None
    await session.flush()
    return True


async def request_cancel(session: AsyncSession, job_id: str, *, actor: str,
                         reason: str | None = None) -> JobState:
    """Cancel a waiting job at once; flag a running one (its worker stops at its next batch of
    frames). Audited. Returns the job's state afterwards (final states are left alone)."""
    job = await get_job(session, job_id, for_update=True)
    if job.state.is_final:
        return job.state
    await audit(session, actor=actor, action="cancel_job", target=f"job:{job_id}", reason=reason)
    if job.state in WAITING:
        await transition_job(session, job_id, JobState.CANCELLED, note=f"cancelled by {actor}",
                             error_code="cancelled", error_message=_cancel_text(reason))
        return JobState.CANCELLED
    job.cancel_requested_at = utcnow()
    if not job.error_message:
        job.error_code, job.error_message = "cancelled", _cancel_text(reason)
    await session.flush()
    return job.state


def _cancel_text(reason: str | None) -> str:
    return "The job was cancelled." + (f" Reason: {reason}" if reason else "")


# --- reading ---------------------------------------------------------------------------------
async def queue_position(session: AsyncSession, job: Job) -> int | None:
    """1 for the next queued job to start (oldest first), None unless the job is queued."""
    if job.state is not JobState.QUEUED:
        return None
    ahead = select(func.count()).select_from(Job).where(
        Job.state == JobState.QUEUED,
        or_(Job.created_at < job.created_at, and_(Job.created_at == job.created_at,
                                                  Job.id < job.id)))
    return int((await session.execute(ahead)).scalar_one()) + 1


async def queue_length(session: AsyncSession) -> int:
    query = select(func.count()).select_from(Job).where(Job.state == JobState.QUEUED)
    return int((await session.execute(query)).scalar_one())


async def queued_job_ids(session: AsyncSession, *, idle_s: float = 0.0,
                         limit: int = 1000) -> list[str]:
    """Queued jobs, oldest first, not touched in the last `idle_s` seconds."""
    query = select(Job.id).where(Job.state == JobState.QUEUED)
    if idle_s:
        query = query.where(Job.updated_at < utcnow() - timedelta(seconds=idle_s))
    return list((await session.execute(query.order_by(Job.created_at).limit(limit))).scalars())


async def running_jobs(session: AsyncSession) -> list[Job]:
    query = select(Job).where(Job.state == JobState.RUNNING).order_by(Job.started_at)
    return list((await session.execute(query)).scalars())


def heartbeat_stale(job: Job, lease_s: float, now: datetime | None = None) -> bool:
    """No heartbeat for `lease_s` (or never one since it started), or its process is gone."""
    now = now or utcnow()
    last = job.heartbeat_at or job.updated_at
    return last < now - timedelta(seconds=lease_s) or worker_process_gone(job.worker_id)
