"""The user commands: /status, /cancel, /verify, /forgetme, /report, and the video's buttons."""

from __future__ import annotations

import logging
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from vitaphone.bots import store, wording
from vitaphone.bots.contract import Attachment, Button, Context, MessageRef, Reply
from vitaphone.bots.delivery import SWEEP_WAIT_S
from vitaphone.core.errors import BadOption, BadVideo
from vitaphone.storage import records
from vitaphone.storage.models import Chat, Job, Provenance, User
from vitaphone.storage.states import JobState

if TYPE_CHECKING:
    from vitaphone.bots.service import BotService

log = logging.getLogger(__name__)

_ACTIVE = (JobState.AWAITING_REVIEW, JobState.QUEUED, JobState.RUNNING)
_VIDEO_TYPES = ("video/mp4", "video/quicktime", "video/webm", "video/x-matroska")


class Commands:
    def __init__(self, service: BotService) -> None:
        self.service = service

    async def _user(self, session, ctx: Context) -> User | None:
        return (await session.execute(select(User).where(
            User.platform == ctx.user.platform, User.platform_user_id == ctx.user.user_id))
        ).scalar_one_or_none()

    async def status(self, ctx: Context) -> Reply:
        svc = self.service
        async with svc.studio.sessions() as session:
            user = await self._user(session, ctx)
            jobs = [] if user is None else list((await session.execute(
                select(Job).where(Job.user_id == user.id, Job.state.in_(_ACTIVE))
                .order_by(Job.created_at))).scalars())
        if not jobs:
            return Reply("You have no videos in progress.", private=True)
        lines = []
        for job in jobs:
            st = await svc.queue.status(job.id)
            lines.append(wording.progress(st.state.value, st.stage, st.progress,
                                          st.queue_position, job.id))
        return Reply("\n".join(lines), private=True)

    async def cancel(self, ctx: Context, args: str) -> Reply:
        svc = self.service
        async with svc.studio.sessions() as session:
            user = await self._user(session, ctx)
            query = select(Job).where(Job.user_id == (user.id if user else -1),
                                      Job.state.in_(_ACTIVE))
            if args.strip():
                query = query.where(Job.id == args.strip().split()[0])
            job = (await session.execute(query.order_by(Job.created_at.desc()))).scalars().first()
        if job is None:
            return Reply("You have no video in progress to cancel"
                         + (" with that id." if args.strip() else "."), private=True)
        await svc.queue.cancel(job.id, actor=f"{ctx.user.platform}:{ctx.user.user_id}",
                               reason="cancelled by the requester")
        return Reply(f"Cancelling job {job.id}.", private=True)

    async def verify(self, ctx: Context, attachment: Attachment | None) -> Reply:
        from vitaphone.verification import local_trust_anchor, verify_video

        svc = self.service
        if attachment is None:
            raise BadOption("There is no video to check.",
                            "Send the video with the caption /verify, or reply /verify to it.")
        messenger = svc.messenger(ctx.chat.platform)
        mime = (attachment.mime_type or "").lower()
        if attachment.kind not in ("video", "document") or (
                attachment.kind == "document" and mime and mime not in _VIDEO_TYPES):
            raise BadVideo("That is not a video.", "Send an MP4 video to check.")
        data = await messenger.download(attachment, messenger.max_download_bytes)
        with tempfile.TemporaryDirectory(prefix="vitaphone-verify-") as tmp:
            path = Path(tmp) / "video.mp4"
            path.write_bytes(data)
            verdict = await verify_video(
                path, session_factory=svc.studio.sessions,
                trust_anchor_pem=local_trust_anchor(svc.settings.data_dir))
        return Reply("\n".join(verdict.lines))

    async def forget_ask(self, ctx: Context) -> Reply:
        return Reply("This deletes your name, ids, quotes and files here, and takes down every "
                     "video you made (stopping any still in progress). Videos already "
                     "downloaded elsewhere still verify as ours. Go ahead?",
                     ((Button("Yes, forget me", "f:me:ok", "danger"),
                       Button("No", "f:me:no", "secondary")),), private=True)

    async def forget(self, ctx: Context) -> Reply:
        from vitaphone.bots.moderation import takedown
        from vitaphone.storage.models import BotRequest

        svc = self.service
        actor = f"{ctx.user.platform}:{ctx.user.user_id}"
        # Jobs still waiting or rendering stop first: otherwise one would post a video (with
        # the name and quote we are about to erase) after the user was forgotten.
        async with svc.studio.sessions() as session:
            user = await self._user(session, ctx)
            if user is None:
                return Reply("I have nothing about you.", private=True)
            active = list((await session.execute(select(Job.id).where(
                Job.user_id == user.id, Job.state.in_(_ACTIVE)))).scalars())
        for job_id in active:
            await svc.queue.cancel(job_id, actor=actor, reason="the requester asked to be "
                                   "forgotten")
        async with svc.studio.sessions.begin() as session:
            user = await self._user(session, ctx)
            if user is None:
                return Reply("I have nothing about you.", private=True)
            done = list((await session.execute(select(Job).join(
                Provenance, Provenance.job_id == Job.id).where(
                Job.user_id == user.id, Provenance.taken_down.is_(False)))).scalars())
            for job in done:
                await takedown(session, job, reason="the requester asked to be forgotten",
                               actor=actor, tell_requester=False)
            for row in (await session.execute(select(BotRequest).where(
                    BotRequest.user_id == user.id))).scalars():
                row.request, row.where = {}, {}
                row.closed_at = row.closed_at or _now()
            result = await records.forget_user(session, user.id, actor=actor)
        for sha in result.blob_sha256s:
            await svc.studio.blobs.adelete(sha)
        await svc.delivery.sweep(wait_s=SWEEP_WAIT_S)
        return Reply(wording.forgotten(len(done), len(active)), private=True)

    async def report(self, ctx: Context, reason: str, job_id: str | None,
                     replied_to: MessageRef | None) -> Reply:
        svc = self.service
        async with svc.studio.sessions.begin() as session:
            if job_id is None and replied_to is not None:
                row = await store.outbox_by_message(session, replied_to.platform,
                                                    replied_to.chat_id, replied_to.message_id)
                job_id = row.job_id if row else None
            job = await session.get(Job, job_id) if job_id else None
            if job is None:
                return Reply("Reply /report REASON to one of my videos, or press its Report "
                             "button.", private=True)
            reporter = await records.get_or_create_user(session, ctx.user.platform,
                                                        ctx.user.user_id)
            record = (await session.execute(select(Provenance.id).where(
                Provenance.job_id == job.id))).scalar_one_or_none()
            report = await records.file_report(session, reason=reason or "no reason given",
                                               reporter_id=reporter.id, provenance_id=record,
                                               job_id=job.id)
            chat = await session.get(Chat, job.chat_id) if job.chat_id else None
            mod_log = chat.mod_log_chat_id if chat else None
            report_id = report.id
        if mod_log:
            messenger = svc.messenger(ctx.chat.platform)
            from vitaphone.bots.contract import ChatRef

            await messenger.send_text(
                ChatRef(ctx.chat.platform, mod_log),
                Reply(wording.report_for_mods(report_id, job.id, reason, ctx.chat.title)))
        log.info("report %d filed on job %s", report_id, job.id)
        return Reply("Thank you: the moderators will look at it.", private=True)

    async def delete_button(self, ctx: Context, job_id: str) -> Reply:
        """The video's Delete button: the requester or an admin takes it down."""
        from vitaphone.bots.moderation import takedown

        svc = self.service
        async with svc.studio.sessions() as session:
            job = await session.get(Job, job_id)
            owner = await session.get(User, job.user_id) if job else None
        if job is None:
            return Reply(wording.expired(), private=True)
        is_owner = owner is not None and owner.platform_user_id == ctx.user.user_id \
            and owner.platform == ctx.user.platform
        if not is_owner and not await svc.is_admin(ctx):
            return Reply("Only the person who asked for this video or an admin can delete it.",
                         private=True)
        async with svc.studio.sessions.begin() as session:
            job = await session.get(Job, job_id)
            await takedown(session, job, reason="deleted by " + ("the requester" if is_owner
                                                                  else "an admin"),
                           actor=f"{ctx.user.platform}:{ctx.user.user_id}",
                           tell_requester=not is_owner)
        await svc.delivery.sweep(wait_s=SWEEP_WAIT_S)
        return Reply(wording.deleted_by_requester(job_id) if is_owner else
                     f"Deleted job {job_id}'s video; its requester is told.", private=True)


def _now():
    from vitaphone.storage.base import utcnow

    return utcnow()
