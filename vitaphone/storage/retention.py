"""Retention: delete the blobs nobody needs any more (`vitaphone gc`).

What is due, by the `Retention` settings:
- inputs (portrait, voice sample, recording) of a finished job: a failed, cancelled or rejected
  job's at once, a done job's `input_days` after it finished;
- an output video: once taken down, else `output_days` after it was made unless a posted
  message still references it (`provenance.posted_to`, or a bot outbox row not deleted);
- every blob of a forgotten user, at once.
A blob another live record still uses (the same portrait in a newer job) stays. The rows keep
their hashes (a copy someone kept still verifies) and get `inputs_deleted_at` /
`output_deleted_at`, so a blob is never deleted twice and `verify` can say it is gone.

Blobs are content-addressed, so a request that reuses a blob between our scan and our delete
could lose it; `Studio.submit` stores before it commits, so the window is that of one submit.
Run gc at a quiet hour (e.g. a daily timer), as other content-addressed stores advise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, true, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from vitaphone.storage.base import utcnow
from vitaphone.storage.models import BotOutbox, Job, Provenance, User
from vitaphone.storage.states import JobState

_ENDED_WITHOUT_VIDEO = (JobState.FAILED, JobState.CANCELLED, JobState.REJECTED)
_FINAL = (JobState.DONE, *_ENDED_WITHOUT_VIDEO)
_INPUTS = (Job.portrait_sha256, Job.voice_sample_sha256, Job.audio_sha256)


@dataclass(frozen=True)
class GcReport:
    jobs: int  # finished jobs whose inputs were released
    outputs: int  # videos whose output blob was released
    deleted: tuple[str, ...]  # sha256 of every blob deleted (or, dry run, to delete)
    kept_in_use: int  # blobs due by one record but still used by another
    dry_run: bool = False


async def _due_jobs(session: AsyncSession, now: datetime, input_days: float) -> list[Job]:
    cutoff = now - timedelta(days=input_days)
    query = (select(Job).join(User, User.id == Job.user_id)
             .where(Job.inputs_deleted_at.is_(None), Job.state.in_(_FINAL),
                    or_(Job.state.in_(_ENDED_WITHOUT_VIDEO),
                        func.coalesce(Job.finished_at, Job.updated_at) < cutoff,
                        User.forgotten_at.is_not(None))))
    return list((await session.execute(query)).scalars())


async def _due_outputs(session: AsyncSession, now: datetime,
                       output_days: float) -> list[Provenance]:
    cutoff = now - timedelta(days=output_days)
    query = (select(Provenance, User.forgotten_at)
             .join(Job, Job.id == Provenance.job_id).join(User, User.id == Job.user_id)
             .where(Provenance.output_deleted_at.is_(None),
                    or_(Provenance.taken_down.is_(True), User.forgotten_at.is_not(None),
                        Provenance.created_at < cutoff)))
    rows = (await session.execute(query)).all()
    posted = set((await session.execute(
        select(BotOutbox.job_id).where(BotOutbox.kind == "video",
                                       BotOutbox.posted_at.is_not(None),
                                       BotOutbox.deleted_at.is_(None),
                                       BotOutbox.delete_requested_at.is_(None)))).scalars())
    due = []
    for record, forgotten_at in rows:
        referenced = bool(record.posted_to) or record.job_id in posted
        if record.taken_down or forgotten_at is not None or not referenced:
            due.append(record)
    return due


async def _still_used(session: AsyncSession, hashes: set[str], jobs: set[str],
                      outputs: set[int]) -> set[str]:
    """The hashes of `hashes` a record that is not being released still needs."""
    if not hashes:
        return set()
    used: set[str] = set()
    for column in (*_INPUTS, Job.output_sha256):
        query = select(column).where(column.in_(hashes))
        if column is Job.output_sha256:  # a job's output lives as long as its provenance
            query = query.outerjoin(Provenance, Provenance.job_id == Job.id).where(
                or_(Provenance.id.is_(None), Provenance.output_deleted_at.is_(None)),
                Provenance.id.not_in(outputs) if outputs else true())
        else:
            query = query.where(Job.inputs_deleted_at.is_(None),
                                Job.id.not_in(jobs) if jobs else true())
        used |= set((await session.execute(query)).scalars())
    query = select(Provenance.output_sha256).where(
        Provenance.output_sha256.in_(hashes), Provenance.output_deleted_at.is_(None),
        Provenance.id.not_in(outputs) if outputs else true())
    used |= set((await session.execute(query)).scalars())
    return used


async def collect_garbage(sessions: async_sessionmaker[AsyncSession], blobs, *,
                          input_days: float, output_days: float, now: datetime | None = None,
                          dry_run: bool = False) -> GcReport:
    """Apply the retention policy once; `blobs` is the BlobStore (async `adelete`)."""
    now = now or utcnow()
    async with sessions() as session:
        jobs = await _due_jobs(session, now, input_days)
        outputs = await _due_outputs(session, now, output_days)
        job_ids = {job.id for job in jobs}
        output_ids = {record.id for record in outputs}
        due = {h for job in jobs for h in (job.portrait_sha256, job.voice_sample_sha256,
                                            job.audio_sha256) if h}
        due |= {record.output_sha256 for record in outputs}
        used = await _still_used(session, due, job_ids, output_ids)
    doomed = sorted(due - used)
    if dry_run:
        return GcReport(len(jobs), len(outputs), tuple(doomed), len(due & used), dry_run=True)
    for sha256 in doomed:
        await blobs.adelete(sha256)  # idempotent: a crash here is redone by the next gc
    async with sessions.begin() as session:
        if job_ids:
            await session.execute(update(Job).where(Job.id.in_(job_ids))
                                  .values(inputs_deleted_at=now)
                                  .execution_options(synchronize_session=False))
        if output_ids:
            await session.execute(update(Provenance).where(Provenance.id.in_(output_ids))
                                  .values(output_deleted_at=now)
                                  .execution_options(synchronize_session=False))
    return GcReport(len(jobs), len(outputs), tuple(doomed), len(due & used))
