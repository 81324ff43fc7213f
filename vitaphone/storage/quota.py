"""Hourly job quotas per user and per chat, counted from the jobs table (SQL is the truth).

Only jobs count (a refused request never becomes one). A chat's own `user_jobs_per_hour` /
`chat_jobs_per_hour` override the global limits from settings.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from vitaphone.core.errors import RateLimited
from vitaphone.storage.base import utcnow
from vitaphone.storage.models import Chat, Job, User

WINDOW = timedelta(hours=1)


async def _window(session: AsyncSession, since: datetime, column, value) -> tuple[int, datetime | None]:
    query = select(func.count(), func.min(Job.created_at)).where(Job.created_at >= since,
                                                                  column == value)
    count, oldest = (await session.execute(query)).one()
    return int(count), oldest


def _wait(oldest: datetime | None, now: datetime) -> str:
    if oldest is None:
        return "a few minutes"
    if oldest.tzinfo is None:  # SQLite hands back naive UTC
        from datetime import UTC

        oldest = oldest.replace(tzinfo=UTC)
    minutes = max(1, math.ceil((oldest + WINDOW - now).total_seconds() / 60))
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


async def check_quota(session: AsyncSession, user: User, chat: Chat | None, *,
                      user_jobs_per_hour: int, chat_jobs_per_hour: int,
                      now: datetime | None = None) -> None:
    """Raise RateLimited when the user (in any chat) or the chat has used its hourly quota."""
    now = now or utcnow()
    since = now - WINDOW
    user_limit = (chat.user_jobs_per_hour if chat is not None and chat.user_jobs_per_hour
                  else user_jobs_per_hour)
    used, oldest = await _window(session, since, Job.user_id, user.id)
    if used >= user_limit:
        raise RateLimited(
            f"You have asked for {used} videos in the last hour; the limit is {user_limit} "
            "an hour.", f"Try again in {_wait(oldest, now)}.")
    if chat is None:
        return
    chat_limit = chat.chat_jobs_per_hour or chat_jobs_per_hour
    used, oldest = await _window(session, since, Job.chat_id, chat.id)
    if used >= chat_limit:
        raise RateLimited(
            f"This chat has asked for {used} videos in the last hour; its limit is {chat_limit} "
            "an hour.", f"Try again in {_wait(oldest, now)}.")
