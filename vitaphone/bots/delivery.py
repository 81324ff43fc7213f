"""Delivery: watch each submitted job, edit one progress message, post the video exactly once.

One task per open request (`bot_requests` with a job and no `closed_at`). The video's outbox row
is claimed (unique per job) before posting and gets its message id right after, so a bot that
restarts resumes every open request and skips a video already posted. The one gap: a crash
between the platform accepting the upload and the row being marked posts it again on restart.

A sweep every `sweep_s` does what other processes asked through SQL: delete the copies a
takedown marked (`delete_requested_at`), send notices queued for requesters, and hand jobs a
moderator approved from the CLI to this process's queue.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from vitaphone.bots import store, wording
from vitaphone.bots.contract import Button, PlatformError, Reply
from vitaphone.storage.states import JobState

if TYPE_CHECKING:
    from vitaphone.bots.service import BotService
    from vitaphone.queue.api import JobStatus

log = logging.getLogger(__name__)

EDIT_EVERY_S = 1.0  # progress edits at most this often (flood limits), state changes at once
SWEEP_WAIT_S = 15.0  # a command that deletes copies waits this long for them to go


def video_buttons(job_id: str) -> tuple[tuple[Button, ...], ...]:
    return ((Button("Report", f"r:{job_id}", "secondary"),
             Button("Delete", f"d:{job_id}", "danger")),)


class Delivery:
    def __init__(self, service: BotService, *, sweep_s: float = 2.0) -> None:
        self.service = service
        self.sweep_s = sweep_s
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._sweeper: asyncio.Task[None] | None = None
        # A command asks for a sweep while the periodic one may be running. Two sweeps at once
        # read the same pending notice and tell the requester twice. So one sweeps at a time,
        # and a request during a sweep makes it go round once more; a command that tells the
        # user "deleted" waits (bounded: a platform call may stall) for the round that covers
        # its request.
        self._sweeping = False
        self._asked = 0  # sweep requests so far
        self._covered = 0  # requests that a finished round started after
        self._round_done = asyncio.Condition()

    async def start(self) -> None:
        async with self.service.studio.sessions() as session:
            rows = await store.open_requests(session, self.service.messengers)
        for row in rows:
            self.track(row.id)
        log.info("delivery: resumed %d open request(s)", len(rows))
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="bots-sweep")

    async def aclose(self) -> None:
        tasks = [*self._tasks.values(), *([self._sweeper] if self._sweeper else [])]
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()

    def track(self, request_id: str) -> None:
        """Watch this request's job until it is delivered (idempotent)."""
        task = self._tasks.get(request_id)
        if task is None or task.done():
            self._tasks[request_id] = asyncio.create_task(self._deliver(request_id),
                                                          name=f"deliver-{request_id}")

    async def wait(self, request_id: str) -> None:
        """For tests and benchmarks: until this request's delivery task ends."""
        task = self._tasks.get(request_id)
        if task is not None:
            await task

    # --- one request ------------------------------------------------------------------------
    async def _deliver(self, rid: str) -> None:
        try:
            await self._deliver_once(rid)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("delivery of request %s failed; it is retried on restart", rid)

    async def _deliver_once(self, rid: str) -> None:
        svc = self.service
        async with svc.studio.sessions() as session:
            row = await store.get_request(session, rid)
        if row is None or row.job_id is None or row.closed_at is not None:
            return
        job_id, where = row.job_id, dict(row.where)
        messenger = svc.messenger(row.platform)
        progress_ref = store.message_ref(where.get("progress"))
        shown, shown_at, state = None, 0.0, None
        async for status in svc.queue.watch(job_id):
            if status.is_final:
                break
            text = _progress_text(status)
            now = time.monotonic()
            if text != shown and (status.state != state or now - shown_at >= EDIT_EVERY_S):
                progress_ref = await self._edit(messenger, progress_ref, text)
                shown, shown_at, state = text, now, status.state
        final = await svc.queue.status(job_id)
        if final.state is JobState.DONE:
            text = await self._post_video(row, final)
        elif final.state is JobState.FAILED:
            text = wording.failed(final.error_message)
        elif final.state is JobState.REJECTED:
            text = wording.rejected(job_id, final.error_message)
        else:
            text = wording.cancelled_job(job_id)
        await self._edit(messenger, progress_ref, text)
        async with svc.studio.sessions.begin() as session:
            row = await store.get_request(session, rid)
            if row is not None:
                row.closed_at = _now()

    async def _edit(self, messenger, ref, text: str):
        if ref is None:
            return None
        try:
            return await messenger.edit_text(ref, Reply(text, private=True))
        except PlatformError as exc:
            log.info("progress message not edited: %s", exc)
            return ref

    async def _post_video(self, row, status: JobStatus) -> str:
        """Post the video once; the text for the progress message."""
        from vitaphone.storage import records

        svc = self.service
        job_id = status.job_id
        chat = store.chat_ref(row.where["chat"])
        messenger = svc.messenger(row.platform)
        result = await svc.queue.result(job_id)
        async with svc.studio.sessions.begin() as session:
            fresh = await store.get_request(session, row.id)
            if fresh is None or not fresh.request:  # /forgetme while it rendered: not posted
                return wording.cancelled_job(job_id)
            outbox, should_post = await store.claim_outbox(
                session, job_id=job_id, kind="video", platform=row.platform,
                chat_id=chat.chat_id)
            outbox_id = outbox.id
        if not should_post:
            log.info("job %s: video already posted, not posting again", job_id)
            return wording.finished(job_id)
        limit = min(messenger.max_upload_bytes,
                    row.request.get("max_upload_bytes") or messenger.max_upload_bytes)
        if result.size_bytes > limit:
            return wording.too_big_to_post(result.size_bytes / 1e6, limit / 1e6)
        caption = wording.caption(row.request.get("display_name"), row.request.get("quote"),
                                  svc.settings.label_text)
        with tempfile.TemporaryDirectory(prefix="vitaphone-post-") as tmp:
            path = Path(tmp) / f"vitaphone-{job_id[:8]}.mp4"
            await svc.studio.blobs.afetch_to(result.output_sha256, path)
            message = await messenger.send_video(
                chat, path, caption, buttons=video_buttons(job_id),
                reply_to=store.message_ref(row.where.get("origin")))
        async with svc.studio.sessions.begin() as session:
            posted = await store.mark_posted(session, outbox_id, message)
            await records.add_posted_to(session, result.provenance_id, {
                "platform": message.platform, "chat_id": message.chat_id,
                "message_id": message.message_id})
        log.info("job %s: video posted", job_id)
        if posted.delete_requested_at is not None:  # taken down while it was uploading
            await self.sweep()
        return wording.finished(job_id)

    # --- what other processes asked for -----------------------------------------------------
    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self.sweep_s)
            try:
                await self.sweep()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("bots sweep failed; trying again")

    async def sweep(self, *, wait_s: float = 0.0) -> None:
        """Delete copies marked for deletion, send queued notices, resume approved jobs.

        When a sweep is already running, that one sweeps again afterwards; this call then
        returns at once, or waits up to `wait_s` for that next round to finish."""
        self._asked += 1
        mine = self._asked
        if self._sweeping:
            if wait_s > 0:
                with contextlib.suppress(TimeoutError):
                    async with self._round_done:
                        await asyncio.wait_for(self._round_done.wait_for(
                            lambda: self._covered >= mine), wait_s)
            return
        self._sweeping = True
        try:
            while self._covered < self._asked:
                starting = self._asked
                await self._sweep_once()
                self._covered = starting
                async with self._round_done:
                    self._round_done.notify_all()
        finally:
            self._sweeping = False

    async def _sweep_once(self) -> None:
        svc = self.service
        async with svc.studio.sessions() as session:
            doomed = await store.pending_deletions(session, svc.messengers)
            notices = await store.pending_notices(session, svc.messengers)
            rows = await store.open_requests(session, svc.messengers)
        for copy in doomed:
            await self._delete(copy)
        for notice in notices:
            await self._notify(notice)
        for row in rows:
            self.track(row.id)

    async def _delete(self, copy) -> None:
        svc = self.service
        messenger = svc.messenger(copy.platform)
        ref = store.message_ref({"platform": copy.platform, "chat_id": copy.platform_chat_id,
                                 "message_id": copy.platform_message_id, "extra": copy.extra})
        try:
            await messenger.delete_message(ref)
        except PlatformError as exc:
            if not exc.gone:
                log.warning("could not delete a taken-down message (will retry): %s", exc)
                return
        async with svc.studio.sessions.begin() as session:
            await store.mark_deleted(session, copy.id)

    async def _notify(self, notice) -> None:
        svc = self.service
        messenger = svc.messenger(notice.platform)
        chat = store.chat_ref(notice.extra["chat"])
        try:
            message = await messenger.send_text(
                chat, Reply(notice.extra["text"]),
                reply_to=store.message_ref(notice.extra.get("reply_to")))
        except PlatformError as exc:
            if not exc.gone:
                log.warning("could not send a notice (will retry): %s", exc)
                return
            message = None
        async with svc.studio.sessions.begin() as session:
            await store.mark_notice_sent(session, notice.id, message)


def _progress_text(status: JobStatus) -> str:
    return wording.progress(status.state.value, status.stage, status.progress,
                            status.queue_position, status.job_id)


def _now():
    from vitaphone.storage.base import utcnow

    return utcnow()
