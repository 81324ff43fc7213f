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

from vitaphone.bots.contract import (
    AnimateRequest,
    Attachment,
    Context,
    MessageRef,
    Messenger,
    Platform,
    Reply,
)
from vitaphone.core.errors import UserFacingError

if TYPE_CHECKING:
    from vitaphone.config import Settings
    from vitaphone.queue.api import JobQueue
    from vitaphone.studio import Studio

log = logging.getLogger(__name__)

# Commands every adapter routes to `on_command` (Discord: `/mod` with a sub-command in args).
COMMANDS = ("start", "help", "emotions", "voices", "status", "cancel", "verify", "forgetme",
            "report", "mod")


class BotService:
    """Holds the studio, the queue and the attached messengers of one bot process."""

    def __init__(self, settings: Settings, studio: Studio, queue: JobQueue) -> None:
        self.settings = settings
        self.studio = studio
        self.queue = queue
        self.messengers: dict[Platform, Messenger] = {}

    def attach(self, messenger: Messenger) -> None:
        """Register the adapter's messenger (one per platform)."""
        self.messengers[messenger.platform] = messenger

    # --- lifecycle -------------------------------------------------------------------------
    async def start(self) -> None:
        """Start the delivery loop and resume every unfinished job of the attached platforms."""
        raise NotImplementedError

    async def aclose(self) -> None:
        """Stop the delivery tasks (jobs keep running; a restart resumes their delivery)."""
        raise NotImplementedError

    # --- entry points ----------------------------------------------------------------------
    async def on_animate(self, ctx: Context, request: AnimateRequest) -> Reply:
        """Check the request early, then ask the first consent question (or refuse)."""
        raise NotImplementedError

    async def on_button(self, ctx: Context, action: str) -> Reply | None:
        """A button came back. Consent steps answer with the next question (the adapter edits the
        message the button was on); Report/Delete answer privately. None: nothing to show."""
        raise NotImplementedError

    async def on_command(self, ctx: Context, name: str, args: str = "",
                         attachment: Attachment | None = None) -> Reply:
        """A slash command; `args` is the text after it, `attachment` a file it came with or
        replied to (for /verify, /report)."""
        raise NotImplementedError

    async def on_media_reply(self, ctx: Context, media: Attachment,
                             replied_to: MessageRef, replied_photo: Attachment | None = None,
                             quote: str | None = None) -> Reply | None:
        """Audio sent as a reply (Telegram): ask whether it is a voice sample to clone or the
        recording to lip-sync; `replied_photo` is the portrait it answers, if any."""
        raise NotImplementedError

    # --- helpers ---------------------------------------------------------------------------
    def _messenger(self, platform: Platform) -> Messenger:
        return self.messengers[platform]

    @staticmethod
    def _refusal(exc: UserFacingError) -> Reply:
        return Reply(f"{exc.message} {exc.hint}".strip(), private=True)

    @staticmethod
    def _internal_error(where: str) -> Reply:
        ref = secrets.token_hex(4)
        log.exception("%s failed (ref %s)", where, ref)
        return Reply(f"Something went wrong (ref {ref}). Please try again later.", private=True)

