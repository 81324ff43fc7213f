"""The platform-free bot service: every rule the Telegram and Discord adapters share.

An adapter builds one `BotService`, attaches its `Messenger` (contract.py), and turns platform
events into these calls. Each returns what to show (a `Reply`) and never raises for user error:
a `UserFacingError` becomes one polite sentence, anything else "Something went wrong (ref …)"
with the traceback logged.

    service = BotService(settings, studio, queue)
    service.attach(messenger)                        # one per platform in this process
    await service.start()                            # delivery loop; resumes unfinished jobs
    reply = await service.on_animate(ctx, AnimateRequest(...))   # check early -> consent step
    reply = await service.on_button(ctx, action)     # a Button.action came back (None: nothing
                                                     # to show; the service edited the message)
    reply = await service.on_command(ctx, "status", args="", attachment=None)
        # help, emotions, voices, status, cancel, verify, forgetme, report, mod
    reply = await service.on_media_reply(ctx, attachment, replied_to)
        # Telegram: a voice note/audio sent as a reply to a photo -> "voice sample or recording?"
    await service.aclose()

Where the consent step is answered: `on_animate` downloads the portrait within the size limit,
decodes it and finds a face (so a bad photo is refused in seconds), then answers with the first
consent question and its buttons. The buttons walk: who is in the portrait -> (whose voice) ->
the label acknowledgement -> Confirm / Cancel. Confirm writes the consent record and the job
(`Studio.submit`), enqueues it, and posts the progress message the delivery loop edits.

Delivery (`delivery.py`): one task per unfinished job watches it through the queue, edits one
progress message, posts the video with its caption through `Messenger.send_video`, and records
an outbox row per posted message, claimed before posting, so a restarted bot delivers a
finished job exactly once and a takedown finds every copy.
"""

from __future__ import annotations

import logging
import secrets
from typing import TYPE_CHECKING

from vitaphone.bots import consent_step, wording
from vitaphone.bots.commands import Commands
from vitaphone.bots.contract import (
    AnimateRequest,
    Attachment,
    Context,
    MessageRef,
    Messenger,
    Platform,
    PlatformError,
    Reply,
)
from vitaphone.bots.delivery import SWEEP_WAIT_S, Delivery
from vitaphone.bots.moderation import USAGE, ModActions, Moderator
from vitaphone.bots.request_flow import RequestFlow
from vitaphone.core.errors import UserFacingError

if TYPE_CHECKING:
    from vitaphone.config import Settings
    from vitaphone.queue.api import JobQueue
    from vitaphone.studio import Studio

log = logging.getLogger(__name__)

# Commands every adapter routes to `on_command` (Discord: `/mod` with a sub-command in args).
COMMANDS = ("start", "help", "emotions", "voices", "status", "cancel", "verify", "forgetme",
            "report", "mod")
MAX_ACTIVE_JOBS = 3  # a user's jobs waiting or running at once


class BotService:
    """Holds the studio, the queue and the attached messengers of one bot process."""

    def __init__(self, settings: Settings, studio: Studio, queue: JobQueue, *,
                 sweep_s: float = 2.0) -> None:
        self.settings = settings
        self.studio = studio
        self.queue = queue
        self.messengers: dict[Platform, Messenger] = {}
        self.max_active_jobs = getattr(settings.limits, "max_active_jobs_per_user",
                                       MAX_ACTIVE_JOBS)
        self.requests = RequestFlow(self)
        self.commands = Commands(self)
        self.delivery = Delivery(self, sweep_s=sweep_s)
        self.mod = ModActions(studio, queue)

    def attach(self, messenger: Messenger) -> None:
        """Register the adapter's messenger (one per platform)."""
        self.messengers[messenger.platform] = messenger

    def messenger(self, platform: Platform | str) -> Messenger:
        return self.messengers[platform]  # type: ignore[index]

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the delivery loop and resume every unfinished job of the attached platforms."""
        await self.delivery.start()

    async def aclose(self) -> None:
        """Stop the delivery tasks (jobs keep running; a restart resumes their delivery)."""
        await self.delivery.aclose()

    # --- entry points ----------------------------------------------------------------------
    async def on_animate(self, ctx: Context, request: AnimateRequest) -> Reply:
        """Check the request early, then ask the first consent question (or refuse)."""
        return await self._guard("animate", self.requests.start(ctx, request))

    async def on_button(self, ctx: Context, action: str) -> Reply | None:
        """A button came back. Consent steps answer with the next question (the adapter edits the
        message the button was on); Report/Delete answer privately. None: nothing to show (the
        service edited the message itself, e.g. Confirm turned it into the progress message)."""
        parsed = consent_step.parse_action(action)
        if parsed is None:
            return Reply(wording.expired(), private=True)
        if parsed.kind in ("c", "k"):
            return await self._guard("button", self.requests.answer(ctx, parsed))
        if parsed.kind == "r":
            return await self._guard("report", self.commands.report(
                ctx, "reported with the Report button", parsed.target, None))
        if parsed.kind == "d":
            return await self._guard("delete", self.commands.delete_button(ctx, parsed.target))
        if parsed.kind == "f" and parsed.op == "ok":
            return await self._guard("forgetme", self.commands.forget(ctx))
        return Reply("Nothing was deleted.", private=True)

    async def on_command(self, ctx: Context, name: str, args: str = "",
                         attachment: Attachment | None = None,
                         replied_to: MessageRef | None = None) -> Reply:
        """A slash command; `args` is the text after it, `attachment` a file it came with or
        replied to (/verify), `replied_to` the message it answers (/report)."""
        name = name.lower().lstrip("/")
        if name in ("start", "help"):
            return Reply(wording.help_text(ctx.chat.platform))
        if name == "emotions":
            return Reply(wording.emotions_text(ctx.chat.platform))
        if name == "voices":
            return Reply(wording.voices_text(ctx.chat.platform))
        if name == "status":
            return await self._guard("status", self.commands.status(ctx))
        if name == "cancel":
            return await self._guard("cancel", self.commands.cancel(ctx, args))
        if name == "verify":
            return await self._guard("verify", self.commands.verify(ctx, attachment))
        if name == "forgetme":
            return await self.commands.forget_ask(ctx)
        if name == "report":
            return await self._guard("report", self.commands.report(ctx, args, None, replied_to))
        if name == "mod":
            return await self._guard("mod", self._mod(ctx, args))
        return Reply(f"I do not know /{name[:20]}; /help lists what I can do.", private=True)

    async def on_media_reply(self, ctx: Context, media: Attachment,
                             replied_to: MessageRef, replied_photo: Attachment | None = None,
                             quote: str | None = None) -> Reply | None:
        """Audio sent as a reply to a photo (Telegram): check early, then ask whether it is a
        voice sample to clone or the recording to lip-sync; `quote` is the audio's caption."""
        if replied_photo is None:
            return None  # a reply to something else: not for us
        from vitaphone.bots.parsing import parse_quote

        opts = parse_quote(quote)
        request = AnimateRequest(portrait=replied_photo, quote=opts.quote, emotion=opts.emotion,
                                 intensity_percent=opts.intensity_percent,
                                 base_voice=opts.base_voice, language=opts.language)
        return await self._guard("media reply", self.requests.start(
            ctx, request, audio_kind_unknown=media))

    # --- moderation ------------------------------------------------------------------------
    def is_owner(self, ctx: Context) -> bool:
        return f"{ctx.user.platform}:{ctx.user.user_id}" in self.settings.admin_ids

    async def is_admin(self, ctx: Context) -> bool:
        """A bot owner, or an administrator of this (group) chat."""
        if self.is_owner(ctx):
            return True
        if ctx.chat.is_private:
            return False
        try:
            return await self.messenger(ctx.chat.platform).is_chat_admin(ctx.chat, ctx.user)
        except PlatformError:
            return False

    async def _mod(self, ctx: Context, args: str) -> Reply:
        from vitaphone.storage import records

        words = args.split()
        if not await self.is_admin(ctx):
            return Reply("Only this chat's administrators can use /mod.", private=True)
        if not words:
            return Reply(USAGE, private=True)
        scope = None
        if not self.is_owner(ctx) or not ctx.chat.is_private:
            async with self.studio.sessions.begin() as session:
                chat = await records.get_or_create_chat(session, ctx.chat.platform,
                                                        ctx.chat.chat_id, None)
                scope = chat.id
        if self.is_owner(ctx) and words[0] not in ("settings",):
            scope = None  # owners act everywhere; settings stay the chat's own
        mod = Moderator(actor=f"{ctx.user.platform}:{ctx.user.user_id}", scope=scope,
                        platform=ctx.chat.platform)
        lines = await self.mod.run(mod, words[0].lower(), words[1:],
                                   here={"chat_id": ctx.chat.chat_id})
        if words[0].lower() == "takedown":
            await self.delivery.sweep(wait_s=SWEEP_WAIT_S)
        return Reply("\n".join(lines), private=True)

    # --- errors ----------------------------------------------------------------------------
    async def _guard(self, where: str, call) -> Reply:
        """A UserFacingError becomes its sentence; anything else "Something went wrong (ref)"."""
        try:
            return await call
        except UserFacingError as exc:
            log.info("%s refused: %s", where, exc.code)
            return Reply(f"{exc.message} {exc.hint}".strip(), private=True)
        except PlatformError as exc:
            return self._internal_error(where, exc)
        except Exception as exc:  # noqa: BLE001 - one answer for every bug
            return self._internal_error(where, exc)

    @staticmethod
    def _internal_error(where: str, exc: BaseException) -> Reply:
        ref = secrets.token_hex(4)
        log.error("%s failed (ref %s)", where, ref, exc_info=exc)
        return Reply(f"Something went wrong (ref {ref}). Please try again later.", private=True)
