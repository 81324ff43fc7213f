"""Moderation actions, the same for `/mod` in a chat and `vitaphone mod` on the command line.

Each action takes an actor ("telegram:123", "cli:root") and, for chat admins, the chat they
moderate (`scope`: a chats.id; None for bot owners and the CLI, who act everywhere). Every
action is written to the audit log. Deleting posted copies and telling the requester happen in
whichever bot process serves the platform (`delivery.sweep`), so the CLI can take a video down
while the bot runs elsewhere. Each action returns the lines to show.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import func, select

from vitaphone.bots import store, wording
from vitaphone.consent import ConsentBasis
from vitaphone.core.errors import BadOption, UserFacingError
from vitaphone.storage import records
from vitaphone.storage.models import AuditLog, Chat, Job, Provenance, Report, User
from vitaphone.storage.states import JobState

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from vitaphone.queue.api import JobQueue
    from vitaphone.studio import Studio

ACTIONS = ("queue", "approve", "reject", "takedown", "ban", "unban", "audit", "settings", "stats")
USAGE = ("/mod queue | approve JOB | reject JOB REASON | takedown JOB REASON | ban USER REASON | "
         "unban USER | audit [USER|JOB] | settings [review on|off, bases self,permission,"
         "public_domain_historical, rate PER_USER PER_CHAT, modlog here|off] | stats")


class NotFound(UserFacingError):
    code = "not_found"


@dataclass(frozen=True)
class Moderator:
    actor: str
    scope: int | None  # chats.id the moderator may act on; None: everywhere
    platform: str | None = None  # for USER given as a platform id


class ModActions:
    def __init__(self, studio: Studio, queue: JobQueue | None) -> None:
        self.studio = studio
        self.queue = queue

    async def run(self, mod: Moderator, action: str, args: list[str],
                  here: dict | None = None) -> list[str]:
        """Dispatch `action` with its words; `here` is the chat ref of a `settings modlog here`."""
        if action not in ACTIONS:
            raise BadOption(f"There is no moderation action “{action[:20]}”.", f"Use {USAGE}")
        handler = getattr(self, f"_{action}")
        return await handler(mod, args, here)

    # --- jobs -------------------------------------------------------------------------------
    async def _queue(self, mod: Moderator, args: list[str], here) -> list[str]:
        async with self.studio.sessions() as session:
            query = select(Job).where(Job.state == JobState.AWAITING_REVIEW).order_by(Job.created_at)
            if mod.scope is not None:
                query = query.where(Job.chat_id == mod.scope)
            jobs = list((await session.execute(query.limit(20))).scalars())
        if not jobs:
            return ["No jobs are waiting for review."]
        return [f"{j.id} user:{j.user_id} “{wording.short(j.quote_text, 50)}”" for j in jobs]

    async def _approve(self, mod: Moderator, args: list[str], here) -> list[str]:
        job_id = _need(args, 1, "approve JOB")[0]
        async with self.studio.sessions.begin() as session:
            await self._job(session, mod, job_id)
            await records.transition_job(session, job_id, JobState.QUEUED, note=f"approved by {mod.actor}")
            await records.audit(session, actor=mod.actor, action="approve", target=f"job:{job_id}")
        if self.queue is not None:
            await self.queue.enqueue(job_id)
        return [f"Approved job {job_id}: it is queued."]

    async def _reject(self, mod: Moderator, args: list[str], here) -> list[str]:
        job_id, reason = _need(args, 2, "reject JOB REASON")[0], " ".join(args[1:])
        async with self.studio.sessions.begin() as session:
            await self._job(session, mod, job_id)
            await records.transition_job(session, job_id, JobState.REJECTED, error_code="rejected",
                                         error_message=reason, note=f"rejected by {mod.actor}")
            await records.audit(session, actor=mod.actor, action="reject", target=f"job:{job_id}",
                                reason=reason)
        return [f"Rejected job {job_id}."]

    async def _takedown(self, mod: Moderator, args: list[str], here) -> list[str]:
        target, reason = _need(args, 2, "takedown JOB REASON")[0], " ".join(args[1:])
        async with self.studio.sessions.begin() as session:
            job_id = await self._job_of(session, target, mod.platform)
            job = await self._job(session, mod, job_id)
            lines = await takedown(session, job, reason=reason, actor=mod.actor)
        return lines

    async def _job(self, session: AsyncSession, mod: Moderator, job_id: str) -> Job:
        job = await session.get(Job, job_id)
        if job is None or (mod.scope is not None and job.chat_id != mod.scope):
            raise NotFound(f"There is no job {job_id[:40]} in this chat.", "Check the job id.")
        return job

    async def _job_of(self, session: AsyncSession, target: str, platform: str | None) -> str:
        """A job id, or a posted message given as CHAT_ID/MESSAGE_ID (or a message link's end)."""
        if "/" in target and platform is not None:
            chat_id, message_id = target.rsplit("/", 2)[-2:]
            row = await store.outbox_by_message(session, platform, chat_id, message_id)
            if row is not None:
                return row.job_id
        return target

    # --- users ------------------------------------------------------------------------------
    async def _ban(self, mod: Moderator, args: list[str], here) -> list[str]:
        who, reason = _need(args, 2, "ban USER REASON")[0], " ".join(args[1:])
        async with self.studio.sessions.begin() as session:
            user = await self._user(session, who, mod.platform)
            await records.ban_user(session, user.id, actor=mod.actor, reason=reason,
                                   chat_id=mod.scope)
        where = "here" if mod.scope is not None else "everywhere"
        return [f"Banned user:{user.id} {where}."]

    async def _unban(self, mod: Moderator, args: list[str], here) -> list[str]:
        who = _need(args, 1, "unban USER")[0]
        async with self.studio.sessions.begin() as session:
            user = await self._user(session, who, mod.platform)
            lifted = await records.unban_user(session, user.id, actor=mod.actor,
                                              chat_id=mod.scope)
        return [f"Lifted {lifted} ban(s) of user:{user.id}."]

    async def _user(self, session: AsyncSession, who: str, platform: str | None) -> User:
        """`user:12` (our id), a platform user id (a number), or a job id (its requester)."""
        user = None
        if who.startswith("user:") and who[5:].isdigit():
            user = await session.get(User, int(who[5:]))
        elif who.isdigit() and platform is not None:
            user = (await session.execute(select(User).where(
                User.platform == platform, User.platform_user_id == who))).scalar_one_or_none()
        elif len(who) == 32:
            job = await session.get(Job, who)
            user = await session.get(User, job.user_id) if job else None
        if user is None:
            raise NotFound(f"There is no user {who[:40]}.",
                           "Give user:N, their numeric id, or one of their job ids.")
        return user

    # --- records ----------------------------------------------------------------------------
    async def _audit(self, mod: Moderator, args: list[str], here) -> list[str]:
        async with self.studio.sessions() as session:
            query = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc()).limit(20)
            if args:
                target = args[0]
                if not target.startswith(("user:", "job:", "provenance:", "chat:")):
                    target = (f"user:{(await self._user(session, target, mod.platform)).id}"
                              if len(target) != 32 else f"job:{target}")
                query = query.where(AuditLog.target == target)
            entries = list((await session.execute(query)).scalars())
        if not entries:
            return ["No audit entries."]
        return [f"{e.at:%Y-%m-%d %H:%M} {e.actor} {e.action} {e.target}"
                + (f": {e.reason}" if e.reason else "") for e in entries]

    async def _settings(self, mod: Moderator, args: list[str], here) -> list[str]:
        if mod.scope is None:
            raise BadOption("Settings belong to a chat.", "Run /mod settings in that chat, or "
                            "pass --chat PLATFORM:CHAT_ID to `vitaphone mod settings`.")
        async with self.studio.sessions.begin() as session:
            chat = await session.get(Chat, mod.scope)
            assert chat is not None
            if args:
                change = _apply_setting(chat, args, here)
                await records.audit(session, actor=mod.actor, action="settings",
                                    target=f"chat:{chat.id}", reason=change)
            return [f"Review required: {'on' if chat.review_required else 'off'}",
                    "Consent bases: " + ", ".join(chat.allowed_consent_bases),
                    f"Videos per user per hour: {chat.user_jobs_per_hour or 'default'}; "
                    f"per chat: {chat.chat_jobs_per_hour or 'default'}",
                    f"Mod log: {chat.mod_log_chat_id or 'off'}"]

    async def _stats(self, mod: Moderator, args: list[str], here) -> list[str]:
        async with self.studio.sessions() as session:
            query = select(Job.state, func.count()).group_by(Job.state)
            reports = select(func.count()).select_from(Report).where(Report.resolved_at.is_(None))
            downs = select(func.count()).select_from(Provenance).where(Provenance.taken_down)
            if mod.scope is not None:
                query = query.where(Job.chat_id == mod.scope)
                reports = reports.join(Job, Report.job_id == Job.id).where(Job.chat_id == mod.scope)
                downs = downs.join(Job, Provenance.job_id == Job.id).where(Job.chat_id == mod.scope)
            counts = dict((await session.execute(query)).all())
            open_reports = (await session.execute(reports)).scalar_one()
            taken = (await session.execute(downs)).scalar_one()
        states = ", ".join(f"{getattr(s, 'value', s)} {n}" for s, n in sorted(
            counts.items(), key=lambda kv: str(kv[0]))) or "no jobs"
        return [f"Jobs: {states}.", f"Open reports: {open_reports}. Taken down: {taken}."]


async def takedown(session: AsyncSession, job: Job, *, reason: str, actor: str,
                   tell_requester: bool = True) -> list[str]:
    """Revoke the job's video (provenance), ask the bots to delete every posted copy, and
    queue a notice to the requester (not when they took it down themselves); audited."""
    record = (await session.execute(
        select(Provenance).where(Provenance.job_id == job.id))).scalar_one_or_none()
    if record is None:
        raise NotFound(f"Job {job.id} has no video to take down.", "Check the job id.")
    await records.take_down(session, record.id, reason=reason, actor=actor)
    copies = await store.request_deletion(session, job.id)
    request = await store.request_for_job(session, job.id)
    if tell_requester and request is not None and request.where.get("chat"):
        await store.queue_notice(session, job_id=job.id, kind="takedown",
                                 platform=request.platform, chat=request.where["chat"],
                                 text=wording.taken_down_notice(job.id, reason),
                                 reply_to=request.where.get("origin"))
    return [f"Took down job {job.id}: {copies} posted cop{'y' if copies == 1 else 'ies'} "
            "will be deleted and the requester told."]


def _apply_setting(chat: Chat, args: list[str], here: dict | None) -> str:
    key, values = args[0].lower(), args[1:]
    if key == "review" and values and values[0].lower() in ("on", "off"):
        chat.review_required = values[0].lower() == "on"
    elif key == "bases" and values:
        names = [v.strip().lower() for v in ",".join(values).split(",") if v.strip()]
        valid = {b.value for b in ConsentBasis}
        if not names or not set(names) <= valid:
            raise BadOption("Unknown consent basis.", "Use: " + ", ".join(sorted(valid)) + ".")
        chat.allowed_consent_bases = [b.value for b in ConsentBasis if b.value in names]
    elif key == "rate" and len(values) == 2 and all(v.isdigit() and int(v) > 0 for v in values):
        chat.user_jobs_per_hour, chat.chat_jobs_per_hour = int(values[0]), int(values[1])
    elif key == "modlog" and values and values[0].lower() in ("here", "off"):
        chat.mod_log_chat_id = (here or {}).get("chat_id") if values[0].lower() == "here" else None
    elif key == "modlog" and values:
        chat.mod_log_chat_id = values[0][:64]
    else:
        raise BadOption("I did not understand that setting.", f"Use {USAGE}")
    return " ".join(args)[:200]


def _need(args: list[str], n: int, usage: str) -> list[str]:
    if len(args) < n:
        raise BadOption("Something is missing.", f"Use /mod {usage}.")
    return args
