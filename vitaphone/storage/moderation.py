"""Moderation records: the audit log, bans, user reports, and erasing a user's personal data.

Every moderator or operator action goes through `audit`. Audit targets name internal ids
(`user:12`, `job:ab12…`, `provenance:7`), never platform ids, so the log survives `forget_user`.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from vitaphone.storage.base import utcnow
from vitaphone.storage.models import AuditLog, Ban, ConsentRecord, Job, Provenance, Report, User


async def audit(session: AsyncSession, *, actor: str, action: str, target: str,
                reason: str | None = None) -> AuditLog:
    """Append one entry: `actor` (e.g. "telegram-admin:user:3", "cli:root") did `action` to `target`."""
    entry = AuditLog(actor=actor, action=action, target=target, reason=reason, at=utcnow())
    session.add(entry)
    await session.flush()
    return entry


async def _user(session: AsyncSession, user_id: int) -> User:
    user = await session.get(User, user_id)
    if user is None:
        raise LookupError(f"no user with id {user_id}")
    return user


async def ban_user(session: AsyncSession, user_id: int, *, actor: str, reason: str,
                   chat_id: int | None = None) -> Ban:
    """Ban everywhere (`chat_id` None: also sets `users.banned`) or in one chat; audited."""
    user = await _user(session, user_id)
    ban = Ban(user_id=user_id, chat_id=chat_id, actor=actor, reason=reason, created_at=utcnow())
    session.add(ban)
    if chat_id is None:
        user.banned, user.ban_reason = True, reason
    scope = "everywhere" if chat_id is None else f"chat:{chat_id}"
    await audit(session, actor=actor, action="ban", target=f"user:{user_id}",
                reason=f"{reason} ({scope})")
    return ban


async def unban_user(session: AsyncSession, user_id: int, *, actor: str,
                     reason: str | None = None, chat_id: int | None = None) -> int:
    """Lift the user's active bans (global ones when `chat_id` is None); returns how many."""
    user = await _user(session, user_id)
    now = utcnow()
    query = select(Ban).where(Ban.user_id == user_id, Ban.lifted_at.is_(None))
    query = query.where(Ban.chat_id.is_(None) if chat_id is None else Ban.chat_id == chat_id)
    bans = list((await session.execute(query)).scalars())
    for ban in bans:
        ban.lifted_at = now
    if chat_id is None:
        user.banned, user.ban_reason = False, None
    await audit(session, actor=actor, action="unban", target=f"user:{user_id}", reason=reason)
    return len(bans)


async def file_report(session: AsyncSession, *, reason: str, reporter_id: int | None = None,
                      provenance_id: int | None = None, job_id: str | None = None) -> Report:
    """A user's report about a video or job, left open for moderators."""
    if provenance_id is None and job_id is None:
        raise ValueError("a report needs provenance_id or job_id")
    report = Report(reporter_id=reporter_id, provenance_id=provenance_id, job_id=job_id,
                    reason=reason, created_at=utcnow())
    session.add(report)
    await session.flush()
    return report


@dataclass(frozen=True)
class ForgetResult:
    """What `forget_user` erased. `blob_sha256s`: blobs only this user's records used (portraits,
    voice samples, audio, outputs); the caller deletes them from the blob store after commit."""

    user_id: int
    jobs: int
    provenance: int
    consents: int
    blob_sha256s: frozenset[str]


def _hashes(*rows: tuple[str | None, ...]) -> set[str]:
    return {h for row in rows for h in row if h}


async def _blobs_used_by_others(session: AsyncSession, user_id: int,
                                candidates: set[str]) -> set[str]:
    if not candidates:
        return set()
    cols = (Job.portrait_sha256, Job.voice_sample_sha256, Job.audio_sha256, Job.output_sha256)
    query = select(*cols).where(Job.user_id != user_id, or_(*(c.in_(candidates) for c in cols)))
    used = _hashes(*(tuple(r) for r in (await session.execute(query)).all()))
    ccols = (ConsentRecord.portrait_sha256, ConsentRecord.voice_sample_sha256)
    cquery = select(*ccols).where(ConsentRecord.user_id != user_id,
                                  or_(*(c.in_(candidates) for c in ccols)))
    used |= _hashes(*(tuple(r) for r in (await session.execute(cquery)).all()))
    return used & candidates


async def forget_user(session: AsyncSession, user_id: int, *, actor: str) -> ForgetResult:
    """Erase the user's personal fields; keep hashes, watermark and manifest ids.

    Clears the display name and platform id (the same person returning later is a new user),
    quote texts and reply targets of their jobs, and quote texts and posted message ids of their
    videos' provenance. Consent records keep basis, statement and hashes: past videos still
    verify and still show that consent was given. The action is audited.
    """
    user = await _user(session, user_id)
    jobs = list((await session.execute(select(Job).where(Job.user_id == user_id))).scalars())
    job_ids = [job.id for job in jobs]
    consents = list((await session.execute(
        select(ConsentRecord).where(ConsentRecord.user_id == user_id))).scalars())
    candidates = _hashes(
        *((j.portrait_sha256, j.voice_sample_sha256, j.audio_sha256, j.output_sha256) for j in jobs),
        *((c.portrait_sha256, c.voice_sample_sha256) for c in consents),
    )
    provenance = 0
    if job_ids:
        result = await session.execute(
            update(Provenance).where(Provenance.job_id.in_(job_ids))
            .values(quote_text=None, posted_to=[]).execution_options(synchronize_session="fetch")
        )
        provenance = result.rowcount or 0
        for job in jobs:
            job.quote_text, job.reply_to = None, None
    user.display_name, user.platform_user_id = None, None
    user.forgotten_at = utcnow()
    blobs = candidates - await _blobs_used_by_others(session, user_id, candidates)
    await audit(session, actor=actor, action="forget_user", target=f"user:{user_id}")
    return ForgetResult(user_id, len(jobs), provenance, len(consents), frozenset(blobs))
