"""The repository API the bots, the queue and the CLI call: async functions taking an AsyncSession.

No function commits: each flushes so ids exist and constraints are checked, and the caller owns
the transaction (`async with sessions.begin() as session: ...`). Hashes are lowercase hex sha256.
Provenance, moderation and "forget me" live in `provenance.py` and `moderation.py` and are
re-exported here, so callers import everything from `vitaphone.storage.records`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from vitaphone.consent import STATEMENT_VERSION, ConsentBasis, statement_sha256
from vitaphone.core.errors import VitaphoneError
from vitaphone.storage.base import check_sha256, utcnow
from vitaphone.storage.models import Chat, ConsentRecord, Job, JobTransition, User
from vitaphone.storage.moderation import (  # re-exported: one import for callers
    ForgetResult,
    audit,
    ban_user,
    file_report,
    forget_user,
    unban_user,
)
from vitaphone.storage.provenance import (
    add_posted_to,
    find_provenance_by_manifest,
    find_provenance_by_output,
    find_provenance_by_watermark,
    new_watermark_payload,
    record_provenance,
    take_down,
)
from vitaphone.storage.states import NEEDS_ERROR, IllegalTransition, JobNotFound, JobState, is_legal


class ConcurrentJobUpdate(VitaphoneError):
    """Another session changed the job between our read and our write; retry the transaction."""


# --- users and chats ------------------------------------------------------------------------
async def _get_or_create(session: AsyncSession, model: type[Any], key: Mapping[str, Any],
                         fresh: Mapping[str, Any]) -> Any:
    """Select by `key`, else insert key+fresh in a savepoint; a concurrent insert wins cleanly."""
    query = select(model).filter_by(**key)
    found = (await session.execute(query)).scalar_one_or_none()
    if found is not None:
        for name, value in fresh.items():
            if value is not None and getattr(found, name) != value:
                setattr(found, name, value)
        return found
    try:
        async with session.begin_nested():
            row = model(**key, **fresh)
            session.add(row)
        return row
    except IntegrityError:
        return (await session.execute(query)).scalar_one()


async def get_or_create_user(session: AsyncSession, platform: str, platform_user_id: str,
                             display_name: str | None = None) -> User:
    """The user with this platform id, created on first sight; `display_name` is kept current."""
    return await _get_or_create(
        session, User, {"platform": platform, "platform_user_id": str(platform_user_id)},
        {"display_name": display_name},
    )


async def get_or_create_chat(session: AsyncSession, platform: str, platform_chat_id: str,
                             title: str | None = None) -> Chat:
    """The chat with this platform id, created with default settings on first sight."""
    return await _get_or_create(
        session, Chat, {"platform": platform, "platform_chat_id": str(platform_chat_id)},
        {"title": title},
    )


# --- consent --------------------------------------------------------------------------------
async def record_consent(session: AsyncSession, user: User, basis: ConsentBasis, *,
                         portrait_sha256: str, voice_sample_sha256: str | None = None,
                         chat_id: int | None = None) -> ConsentRecord:
    """Record that `user` agreed to the current statement for `basis` (see vitaphone.consent)."""
    record = ConsentRecord(
        user_id=user.id,
        chat_id=chat_id,
        platform=user.platform,
        basis=ConsentBasis(basis),
        statement_version=STATEMENT_VERSION,
        statement_text_sha256=statement_sha256(ConsentBasis(basis)),
        portrait_sha256=check_sha256(portrait_sha256, "portrait_sha256"),
        voice_sample_sha256=check_sha256(voice_sample_sha256, "voice_sample_sha256"),
        created_at=utcnow(),
    )
    session.add(record)
    await session.flush()
    return record


async def find_consent(session: AsyncSession, user_id: int, portrait_sha256: str,
                       voice_sample_sha256: str | None = None) -> ConsentRecord | None:
    """The newest unrevoked consent of `user_id` covering this portrait (and voice sample)."""
    query = (
        select(ConsentRecord)
        .where(
            ConsentRecord.user_id == user_id,
            ConsentRecord.portrait_sha256 == portrait_sha256.lower(),
            ConsentRecord.revoked_at.is_(None),
        )
        .order_by(ConsentRecord.created_at.desc(), ConsentRecord.id.desc())
        .limit(1)
    )
    if voice_sample_sha256 is not None:
        query = query.where(ConsentRecord.voice_sample_sha256 == voice_sample_sha256.lower())
    return (await session.execute(query)).scalar_one_or_none()


async def revoke_consent(session: AsyncSession, consent_id: int) -> ConsentRecord:
    record = await session.get(ConsentRecord, consent_id)
    if record is None:
        raise LookupError(f"no consent record with id {consent_id}")
    if record.revoked_at is None:
        record.revoked_at = utcnow()
        await session.flush()
    return record


# --- jobs -----------------------------------------------------------------------------------
async def create_job(session: AsyncSession, user_id: int, *, chat_id: int | None = None,
                     quote_text: str | None = None, portrait_sha256: str | None = None,
                     voice_sample_sha256: str | None = None, audio_sha256: str | None = None,
                     params: Mapping[str, Any] | None = None,
                     reply_to: Mapping[str, Any] | None = None,
                     consent_id: int | None = None, job_id: str | None = None) -> Job:
    """A new job in state `received` (its first transition recorded). `params` must be JSON."""
    now = utcnow()
    job = Job(
        user_id=user_id, chat_id=chat_id, consent_id=consent_id, quote_text=quote_text,
        portrait_sha256=check_sha256(portrait_sha256, "portrait_sha256"),
        voice_sample_sha256=check_sha256(voice_sample_sha256, "voice_sample_sha256"),
        audio_sha256=check_sha256(audio_sha256, "audio_sha256"),
        params=dict(params or {}), reply_to=dict(reply_to) if reply_to is not None else None,
        state=JobState.RECEIVED, created_at=now, updated_at=now,
    )
    if job_id is not None:
        job.id = job_id
    session.add(job)
    await session.flush()
    session.add(JobTransition(job_id=job.id, from_state=None, to_state=JobState.RECEIVED, at=now))
    await session.flush()
    return job


async def get_job(session: AsyncSession, job_id: str, *, for_update: bool = False) -> Job:
    """The job, re-read from the database; `for_update` locks its row (PostgreSQL) until commit."""
    query = select(Job).where(Job.id == job_id).execution_options(populate_existing=True)
    if for_update:
        query = query.with_for_update()
    job = (await session.execute(query)).scalar_one_or_none()
    if job is None:
        raise JobNotFound(job_id)
    return job


def _apply(job: Job, to: JobState, now: datetime, stage: str | None,
           progress: float | None) -> None:
    """Side effects of entering `to`: attempts, timestamps, stage and progress bookkeeping."""
    if to is JobState.RUNNING:
        if job.state is not JobState.RUNNING:
            job.attempts += 1
            job.started_at = job.started_at or now
            job.progress = 0.0
        if stage is not None:
            job.stage = stage
    elif to is JobState.QUEUED:
        job.stage, job.progress = None, 0.0
    elif to is JobState.DONE:
        job.progress = 1.0
    if progress is not None:
        if not 0.0 <= progress <= 1.0:
            raise ValueError(f"progress must be within [0, 1], got {progress}")
        job.progress = progress
    if to.is_final:
        job.finished_at = now


async def transition_job(session: AsyncSession, job_id: str, to: JobState, *,
                         stage: str | None = None, progress: float | None = None,
                         note: str | None = None, error_code: str | None = None,
                         error_message: str | None = None, consent_id: int | None = None,
                         output_sha256: str | None = None) -> Job:
    """Move the job to `to` and record the transition; raises IllegalTransition if not allowed.

    Reads the job under a row lock on PostgreSQL (concurrent callers queue up and each sees the
    previous one's result), and the version column makes a stale write on any backend raise
    ConcurrentJobUpdate instead of overwriting. `failed` and `rejected` need `error_code` and
    `error_message` (the user-facing text). `running -> running` records a new stage/progress.
    """
    to = JobState(to)
    job = await get_job(session, job_id, for_update=True)
    from_state = job.state
    if not is_legal(from_state, to):
        raise IllegalTransition(job_id, from_state, to)
    if to in NEEDS_ERROR and not (error_code and error_message):
        raise ValueError(f"entering {to.value} needs error_code and error_message")
    now = utcnow()
    _apply(job, to, now, stage, progress)
    job.state = to
    if error_code is not None:
        job.error_code, job.error_message = error_code, error_message
    if consent_id is not None:
        job.consent_id = consent_id
    if output_sha256 is not None:
        job.output_sha256 = check_sha256(output_sha256, "output_sha256")
    job.updated_at = now
    session.add(JobTransition(job_id=job.id, from_state=from_state, to_state=to, at=now,
                              stage=job.stage, progress=job.progress, note=note))
    try:
        await session.flush()
    except StaleDataError as exc:
        raise ConcurrentJobUpdate(f"job {job_id} changed under us; retry") from exc
    return job


async def job_transitions(session: AsyncSession, job_id: str) -> list[JobTransition]:
    """The job's recorded transitions, oldest first."""
    query = (select(JobTransition).where(JobTransition.job_id == job_id)
             .order_by(JobTransition.at, JobTransition.id))
    return list((await session.execute(query)).scalars())


async def count_recent_jobs(session: AsyncSession, since: datetime, *, user_id: int | None = None,
                            chat_id: int | None = None) -> int:
    """Jobs created at or after `since` by this user and/or in this chat (for rate limits)."""
    if user_id is None and chat_id is None:
        raise ValueError("count_recent_jobs needs user_id or chat_id")
    query = select(func.count()).select_from(Job).where(Job.created_at >= since)
    if user_id is not None:
        query = query.where(Job.user_id == user_id)
    if chat_id is not None:
        query = query.where(Job.chat_id == chat_id)
    return int((await session.execute(query)).scalar_one())


__all__ = [
    "ConcurrentJobUpdate", "ForgetResult", "IllegalTransition", "JobNotFound", "JobState",
    "add_posted_to", "audit", "ban_user", "check_sha256", "count_recent_jobs", "create_job",
    "file_report", "find_consent", "find_provenance_by_manifest", "find_provenance_by_output",
    "find_provenance_by_watermark", "forget_user", "get_job", "get_or_create_chat",
    "get_or_create_user", "job_transitions", "new_watermark_payload", "record_consent",
    "record_provenance", "revoke_consent", "take_down", "transition_job", "unban_user",
]
