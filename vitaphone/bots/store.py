"""SQL for the bots' own tables: requests on their way through consent, and the outbox.

Functions take an AsyncSession and never commit (the caller owns the transaction), like
`storage.records`. Platform refs are stored as plain dicts (`ref_dict` / `message_ref`).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from vitaphone.bots.contract import ChatRef, MessageRef
from vitaphone.storage.base import utcnow
from vitaphone.storage.models import BotOutbox, BotRequest, Provenance

ASKING, SUBMITTED, CANCELLED = "asking", "submitted", "cancelled"


def ref_dict(ref: MessageRef | ChatRef | None) -> dict[str, Any] | None:
    if ref is None:
        return None
    if isinstance(ref, MessageRef):
        return {"platform": ref.platform, "chat_id": ref.chat_id, "message_id": ref.message_id,
                "extra": dict(ref.extra)}
    return {"platform": ref.platform, "chat_id": ref.chat_id, "title": ref.title,
            "is_private": ref.is_private, "guild_id": ref.guild_id}


def message_ref(data: dict[str, Any] | None) -> MessageRef | None:
    if not data:
        return None
    return MessageRef(data["platform"], data["chat_id"], data["message_id"],
                      data.get("extra") or {})


def chat_ref(data: dict[str, Any]) -> ChatRef:
    return ChatRef(data["platform"], data["chat_id"], data.get("title"),
                   bool(data.get("is_private")), data.get("guild_id"))


async def create_request(session: AsyncSession, *, platform: str, user_id: int,
                         chat_id: int | None, request: dict[str, Any],
                         where: dict[str, Any]) -> BotRequest:
    row = BotRequest(id=secrets.token_hex(6), platform=platform, user_id=user_id,
                     chat_id=chat_id, state=ASKING, request=request, answers={}, where=where,
                     created_at=utcnow())
    session.add(row)
    await session.flush()
    return row


async def get_request(session: AsyncSession, request_id: str) -> BotRequest | None:
    return await session.get(BotRequest, request_id, populate_existing=True)


async def request_for_job(session: AsyncSession, job_id: str) -> BotRequest | None:
    query = select(BotRequest).where(BotRequest.job_id == job_id)
    return (await session.execute(query)).scalar_one_or_none()


async def open_requests(session: AsyncSession, platforms: Iterable[str]) -> list[BotRequest]:
    """Submitted requests whose delivery is not finished (resumed after a restart)."""
    query = (select(BotRequest)
             .where(BotRequest.state == SUBMITTED, BotRequest.closed_at.is_(None),
                    BotRequest.platform.in_(list(platforms)))
             .order_by(BotRequest.created_at))
    return list((await session.execute(query)).scalars())


def update_where(row: BotRequest, **refs: dict[str, Any] | None) -> None:
    row.where = {**row.where, **refs}  # a new dict: JSON columns track assignment only


async def claim_outbox(session: AsyncSession, *, job_id: str, kind: str, platform: str,
                       chat_id: str | None) -> tuple[BotOutbox, bool]:
    """The outbox row for (job, kind), created if new. Returns (row, should_post): False when
    the message was posted already, so a restarted bot does not post it twice."""
    query = select(BotOutbox).where(BotOutbox.job_id == job_id, BotOutbox.kind == kind)
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        try:
            async with session.begin_nested():
                row = BotOutbox(job_id=job_id, kind=kind, platform=platform,
                                platform_chat_id=chat_id, extra={}, claimed_at=utcnow())
                session.add(row)
            return row, True
        except IntegrityError:
            row = (await session.execute(query)).scalar_one()
    return row, row.posted_at is None


async def mark_posted(session: AsyncSession, row_id: int, message: MessageRef) -> BotOutbox:
    """Record the posted message. A takedown that came while the video was uploading found no
    message to delete: then this copy is marked for deletion at once (`delete_requested_at`).
    The provenance row is locked so a concurrent takedown is seen either here or, once this
    commits, by the takedown's own search for copies (PostgreSQL; SQLite serialises writers)."""
    row = await session.get(BotOutbox, row_id, populate_existing=True)
    assert row is not None
    row.platform_chat_id, row.platform_message_id = message.chat_id, message.message_id
    row.extra, row.posted_at = dict(message.extra), utcnow()
    taken_down = (await session.execute(
        select(Provenance.taken_down).where(Provenance.job_id == row.job_id)
        .with_for_update())).scalar_one_or_none()
    if taken_down:
        row.delete_requested_at = row.delete_requested_at or utcnow()
    await session.flush()
    return row


async def posted_copies(session: AsyncSession, job_id: str) -> list[BotOutbox]:
    """Every message still up for this job."""
    query = select(BotOutbox).where(BotOutbox.job_id == job_id,
                                    BotOutbox.kind.not_like("notice:%"),
                                    BotOutbox.platform_message_id.is_not(None),
                                    BotOutbox.deleted_at.is_(None))
    return list((await session.execute(query)).scalars())


async def outbox_by_message(session: AsyncSession, platform: str, chat_id: str,
                            message_id: str) -> BotOutbox | None:
    query = select(BotOutbox).where(BotOutbox.platform == platform,
                                    BotOutbox.platform_chat_id == chat_id,
                                    BotOutbox.platform_message_id == message_id)
    return (await session.execute(query)).scalars().first()


async def pending_deletions(session: AsyncSession, platforms: Iterable[str]) -> list[BotOutbox]:
    """Copies a takedown asked to delete (e.g. from `vitaphone mod` in another process)."""
    query = select(BotOutbox).where(BotOutbox.platform.in_(list(platforms)),
                                    BotOutbox.delete_requested_at.is_not(None),
                                    BotOutbox.deleted_at.is_(None))
    return list((await session.execute(query)).scalars())


async def request_deletion(session: AsyncSession, job_id: str) -> int:
    """Mark every posted copy of the job for deletion by the bot serving its platform."""
    copies = await posted_copies(session, job_id)
    for copy in copies:
        copy.delete_requested_at = copy.delete_requested_at or utcnow()
    await session.flush()
    return len(copies)


async def mark_deleted(session: AsyncSession, row_id: int) -> None:
    row = await session.get(BotOutbox, row_id, populate_existing=True)
    if row is not None:
        row.deleted_at = utcnow()
        await session.flush()


async def queue_notice(session: AsyncSession, *, job_id: str, kind: str, platform: str,
                       chat: dict[str, Any], text: str,
                       reply_to: dict[str, Any] | None = None) -> None:
    """A message for the bot serving `platform` to send (e.g. "your video was taken down");
    at most one per job and kind."""
    row, new = await claim_outbox(session, job_id=job_id, kind=f"notice:{kind}",
                                  platform=platform, chat_id=chat.get("chat_id"))
    if new:
        row.extra = {"chat": chat, "text": text, "reply_to": reply_to}
        await session.flush()


async def pending_notices(session: AsyncSession, platforms: Iterable[str]) -> list[BotOutbox]:
    query = select(BotOutbox).where(BotOutbox.platform.in_(list(platforms)),
                                    BotOutbox.kind.like("notice:%"),
                                    BotOutbox.posted_at.is_(None))
    return list((await session.execute(query)).scalars())


async def mark_notice_sent(session: AsyncSession, row_id: int,
                           message: MessageRef | None) -> None:
    row = await session.get(BotOutbox, row_id, populate_existing=True)
    if row is not None:
        row.posted_at = utcnow()
        row.extra = {}  # the text was for the requester, not for the record
        if message is not None:
            row.platform_message_id = message.message_id
        await session.flush()
