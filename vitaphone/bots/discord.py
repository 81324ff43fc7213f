"""The Discord adapter: slash commands and buttons in, `BotService` calls out, replies shown.

Note for the service (bots engineer):
- `Context.max_upload_bytes` (added to contract.py) carries `interaction.filesize_limit`; use
  it as the render's size budget for jobs confirmed from that interaction.
- A button press's `ctx.message` is the message the button sat on; its `extra` holds the
  interaction token (valid 15 min, `expires_at` epoch seconds). Store the ref and pass it as
  `reply_to`/`message` later: the messenger posts through the token while it lives and through
  the channel after (`edit_text` then returns a new ref).
- A press on a private (ephemeral) message is acknowledged at once, so the service may edit
  `ctx.message` during `on_button`; a returned Reply replaces that message. A press on a public
  message (a video's Report/Delete) is answered with a new private message.
- A slash command's `ctx.message` is its own private response (`message_id` "@original",
  token in `extra`), so the request's origin lets `send_video(reply_to=origin)` post through
  the token for 15 minutes and through the channel after.
- `/mod` passes `args` as "<sub> <values…>" ("takedown JOB|CHANNEL/MESSAGE reason words",
  "ban USER_ID spam", "settings review on"); `/report video:<message link> reason:<text>`
  passes the reason as `args` and the linked message as `replied_to`.

Start-up: `login_discord(settings, service)` checks the token and logs in (one-line
`ConfigError` when it is missing or rejected); `bots.runtime.serve` then starts the service and
keeps `bot.connect()` on the gateway. Intents: only `guilds` (no privileged intent).
"""

from __future__ import annotations

import asyncio
import logging
import mimetypes
import secrets
from collections.abc import Awaitable
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands

from vitaphone.bots.contract import (
    AnimateRequest,
    Attachment,
    AttachmentKind,
    ChatRef,
    Context,
    MessageRef,
    Reply,
    UserRef,
)
from vitaphone.bots.discord_messenger import DiscordMessenger, build_view, token_extra
from vitaphone.bots.discord_views import ActionButton
from vitaphone.core.errors import ConfigError

if TYPE_CHECKING:
    from vitaphone.bots.service import BotService
    from vitaphone.config import Settings

log = logging.getLogger(__name__)

# Discord needs an answer within 3 s: wait this long for the service, then defer.
FIRST_REPLY_S = 2.0
EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised", "fear", "disgust", "contempt")
# Offered as autocomplete; any tag may be typed and the service decides.
LANGUAGES = {"en": "English", "de": "German", "fr": "French", "es": "Spanish",
             "it": "Italian", "pt": "Portuguese", "nl": "Dutch", "pl": "Polish",
             "sv": "Swedish", "fi": "Finnish", "cs": "Czech", "ru": "Russian", "uk": "Ukrainian",
             "tr": "Turkish", "el": "Greek", "hi": "Hindi", "ja": "Japanese", "zh": "Chinese",
             "ko": "Korean", "ar": "Arabic", "id": "Indonesian", "vi": "Vietnamese"}


def _voice_choices() -> list[app_commands.Choice[str]]:
    from vitaphone.core.speech.voice_names import HUMAN_VOICE_NAMES

    return [app_commands.Choice(name=human, value=human)
            for human in HUMAN_VOICE_NAMES.values()][:25]


class VitaphoneDiscordBot(discord.Client):
    """A discord.py client holding the command tree, the messenger and the service."""

    def __init__(self, service: BotService, *, sync_commands: bool = True) -> None:
        # The bot never joins voice channels: no start-up warning about voice libraries
        # (an operator would read "voice will NOT be supported" as our voice cloning).
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(intents=discord.Intents(guilds=True))
        self.service = service
        self.sync_commands = sync_commands
        self.tree = app_commands.CommandTree(self)
        self.tree.on_error = self._on_tree_error  # type: ignore[method-assign]
        self.messenger = DiscordMessenger(self)
        _register_commands(self)
        service.attach(self.messenger)

    async def setup_hook(self) -> None:
        self.add_dynamic_items(ActionButton)
        if self.sync_commands:
            await self.tree.sync()

    async def close(self) -> None:
        await self.messenger.aclose()
        await super().close()

    # --- events -> service -----------------------------------------------------------------
    def context(self, interaction: discord.Interaction,
                message: MessageRef | None = None) -> Context:
        self.messenger.remember_permissions(interaction)
        user = interaction.user
        channel = interaction.channel
        chat = ChatRef("discord", str(interaction.channel_id), title=getattr(channel, "name", None),
                       is_private=interaction.guild_id is None,
                       guild_id=str(interaction.guild_id) if interaction.guild_id else None)
        return Context(UserRef("discord", str(user.id), user.display_name), chat, message,
                       max_upload_bytes=interaction.filesize_limit)

    async def on_command(self, interaction: discord.Interaction, name: str, args: str = "",
                         attachment: discord.Attachment | None = None,
                         replied_to: MessageRef | None = None) -> None:
        ctx = self.context(interaction, own_response(interaction))
        converted = to_attachment(attachment) if attachment is not None else None
        await self._answer(interaction, self.service.on_command(ctx, name, args, converted,
                                                                replied_to))

    async def on_animate(self, interaction: discord.Interaction, request: AnimateRequest) -> None:
        ctx = self.context(interaction, own_response(interaction))
        await self._answer(interaction, self.service.on_animate(ctx, request))

    async def on_action(self, interaction: discord.Interaction, action: str) -> None:
        """A persistent button (`vp:<action>`) was pressed."""
        try:
            await self._on_action(interaction, action)
        except Exception as error:  # noqa: BLE001 - the user gets a reference, we the traceback
            await self._tell_failure(interaction, error)

    async def _on_action(self, interaction: discord.Interaction, action: str) -> None:
        source = interaction.message
        private = bool(source is not None and source.flags.ephemeral)
        if private:
            await interaction.response.defer()  # ack first: the service may edit the message
        else:
            await interaction.response.defer(ephemeral=True, thinking=True)
        ref = None
        if source is not None:
            ref = MessageRef("discord", str(interaction.channel_id), str(source.id),
                             token_extra(interaction, webhook_message="@original",
                                         ephemeral=private))
        reply = await self.service.on_button(self.context(interaction, ref), action)
        if reply is None:
            if not private:
                await interaction.delete_original_response()
            return
        await interaction.edit_original_response(content=reply.text,
                                                 view=build_view(reply.buttons))

    async def _answer(self, interaction: discord.Interaction,
                      work: Awaitable[Reply]) -> None:
        """Show the service's reply within Discord's 3 s: at once when it is quick, otherwise
        after a private "thinking…" deferral."""
        task = asyncio.ensure_future(work)
        done, _ = await asyncio.wait({task}, timeout=FIRST_REPLY_S)
        if not done:
            await interaction.response.defer(ephemeral=True, thinking=True)
        reply = await task
        view = build_view(reply.buttons)
        extra: dict[str, Any] = {"view": view} if view is not None else {}
        if interaction.response.is_done():
            await interaction.edit_original_response(content=reply.text, **extra)
        else:
            await interaction.response.send_message(reply.text, ephemeral=reply.private,
                                                    **extra)

    async def _on_tree_error(self, interaction: discord.Interaction,
                             error: app_commands.AppCommandError) -> None:
        original = getattr(error, "original", error)
        await self._tell_failure(interaction, original)

    async def _tell_failure(self, interaction: discord.Interaction,
                            error: BaseException) -> None:
        """Not the user's fault: a reference for them, the traceback in the log."""
        ref = secrets.token_hex(4)
        log.error("Discord interaction failed (ref %s)", ref, exc_info=error)
        text = f"Something went wrong (ref {ref}). Please try again later."
        try:
            if interaction.response.is_done():  # replace "thinking…" or the step that failed
                await interaction.edit_original_response(content=text, view=None)
            else:
                await interaction.response.send_message(text, ephemeral=True)
        except discord.HTTPException:
            log.warning("could not tell the user about the failure")


def own_response(interaction: discord.Interaction) -> MessageRef:
    """A slash command's "message": its own (private) response, reachable through the token for
    15 minutes; the service keeps it as the request's origin, so the video is posted through
    the token while it lives and through the channel after."""
    return MessageRef("discord", str(interaction.channel_id), "@original",
                      token_extra(interaction, webhook_message="@original", ephemeral=True))


def message_link(text: str) -> MessageRef | None:
    """A message link (…/channels/GUILD/CHANNEL/MESSAGE) or CHANNEL/MESSAGE, else None."""
    parts = text.strip().rstrip("/").split("/")
    if len(parts) >= 2 and parts[-1].isdigit() and parts[-2].isdigit():
        return MessageRef("discord", parts[-2], parts[-1])
    return None


def to_attachment(att: discord.Attachment) -> Attachment:
    """A Discord attachment as the service's value object (claims only; nothing downloaded)."""
    mime = (att.content_type or mimetypes.guess_type(att.filename)[0] or "").split(";")[0]
    mime = mime.strip().lower() or None
    major = (mime or "").split("/")[0]
    kind: AttachmentKind = {"image": "image", "audio": "audio", "video": "video"}.get(
        major, "document")  # type: ignore[assignment]
    if att.is_voice_message():
        kind = "voice"
    return Attachment("discord", att.url, kind, file_name=att.filename, mime_type=mime,
                      size_bytes=att.size, duration_s=att.duration, width=att.width,
                      height=att.height)


def _register_commands(bot: VitaphoneDiscordBot) -> None:
    tree = bot.tree

    @tree.command(description="Make a labelled video of a portrait speaking a quote")
    @app_commands.describe(
        portrait="A photo of one face (JPEG, PNG or WebP)",
        quote="What the face says (leave empty when you attach a recording)",
        voice="A 5-60 s sample of the voice to clone (optional)",
        audio="A recording to lip-sync instead of a quote (optional)",
        emotion="How the face looks while speaking", intensity="How strongly, 0-100",
        base_voice="The voice to speak with when there is no sample",
        language="The quote's language (e.g. en, de, fr)")
    @app_commands.choices(
        emotion=[app_commands.Choice(name=e, value=e) for e in EMOTIONS],
        base_voice=_voice_choices())
    async def animate(interaction: discord.Interaction, portrait: discord.Attachment,
                      quote: str | None = None, voice: discord.Attachment | None = None,
                      audio: discord.Attachment | None = None,
                      emotion: app_commands.Choice[str] | None = None,
                      intensity: app_commands.Range[int, 0, 100] | None = None,
                      base_voice: app_commands.Choice[str] | None = None,
                      language: str | None = None) -> None:
        request = AnimateRequest(
            portrait=to_attachment(portrait), quote=quote,
            voice_sample=to_attachment(voice) if voice else None,
            recording=to_attachment(audio) if audio else None,
            emotion=emotion.value if emotion else None, intensity_percent=intensity,
            base_voice=base_voice.value if base_voice else None, language=language)
        await bot.on_animate(interaction, request)

    @animate.autocomplete("language")
    async def _languages(interaction: discord.Interaction, current: str
                         ) -> list[app_commands.Choice[str]]:
        typed = current.strip().lower()
        return [app_commands.Choice(name=f"{name} ({code})", value=code)
                for code, name in LANGUAGES.items()
                if not typed or code.startswith(typed) or name.lower().startswith(typed)][:25]

    @tree.command(description="Check whether a video was made by Vitaphone, and by whom")
    @app_commands.describe(video="The video to check")
    async def verify(interaction: discord.Interaction, video: discord.Attachment) -> None:
        await bot.on_command(interaction, "verify", "", video)

    @tree.command(description="Your videos in progress and their place in the queue")
    async def status(interaction: discord.Interaction) -> None:
        await bot.on_command(interaction, "status")

    @tree.command(description="Stop one of your videos (your latest if no job is given)")
    async def cancel(interaction: discord.Interaction, job: str | None = None) -> None:
        await bot.on_command(interaction, "cancel", job or "")

    @tree.command(name="help", description="How to use Vitaphone")
    async def help_(interaction: discord.Interaction) -> None:
        await bot.on_command(interaction, "help")

    @tree.command(description="The emotions a face can show")
    async def emotions(interaction: discord.Interaction) -> None:
        await bot.on_command(interaction, "emotions")

    @tree.command(description="The base voices to choose from")
    async def voices(interaction: discord.Interaction) -> None:
        await bot.on_command(interaction, "voices")

    @tree.command(description="Delete your personal data and take down your videos")
    async def forgetme(interaction: discord.Interaction) -> None:
        await bot.on_command(interaction, "forgetme")

    @tree.command(description="Tell the moderators about a video")
    @app_commands.describe(video="A link to the video's message (More → Copy Message Link)",
                           reason="What is wrong with it")
    async def report(interaction: discord.Interaction, video: str, reason: str) -> None:
        await bot.on_command(interaction, "report", reason, replied_to=message_link(video))

    tree.add_command(_mod_group(bot))


def _mod_group(bot: VitaphoneDiscordBot) -> app_commands.Group:
    mod = app_commands.Group(name="mod", description="Moderate Vitaphone in this server",
                             default_permissions=discord.Permissions(manage_guild=True),
                             guild_only=True)

    async def run(interaction: discord.Interaction, *words: object) -> None:
        # default_permissions only hides the command; the service checks again through
        # `is_chat_admin`, which reads this interaction's own permissions.
        args = " ".join(str(w) for w in words if w is not None and str(w) != "")
        await bot.on_command(interaction, "mod", args)

    @mod.command(name="queue", description="Jobs awaiting review")
    async def queue(interaction: discord.Interaction) -> None:
        await run(interaction, "queue")

    @mod.command(description="Approve a job awaiting review")
    async def approve(interaction: discord.Interaction, job: str) -> None:
        await run(interaction, "approve", job)

    @mod.command(description="Reject a job awaiting review")
    async def reject(interaction: discord.Interaction, job: str, reason: str) -> None:
        await run(interaction, "reject", job, reason)

    @mod.command(description="Delete every posted copy of a video and revoke it")
    @app_commands.describe(target="A job id or a link to the video's message")
    async def takedown(interaction: discord.Interaction, target: str, reason: str) -> None:
        await run(interaction, "takedown", target, reason)

    @mod.command(description="Stop someone from making videos")
    async def ban(interaction: discord.Interaction, user: discord.User, reason: str) -> None:
        await run(interaction, "ban", user.id, reason)

    @mod.command(description="Let someone make videos again")
    async def unban(interaction: discord.Interaction, user: discord.User) -> None:
        await run(interaction, "unban", user.id)

    @mod.command(description="The audit trail, optionally of one user or job")
    async def audit(interaction: discord.Interaction, user: discord.User | None = None,
                    job: str | None = None) -> None:
        await run(interaction, "audit", user.id if user else None, job)

    @mod.command(description="Show this channel's settings, or change one")
    @app_commands.describe(setting="What to change (leave empty to show the settings)",
                           value="review: on|off; bases: self,permission,"
                                 "public_domain_historical; rate: PER_USER PER_CHAT (per hour); "
                                 "modlog: here|off|CHANNEL_ID")
    @app_commands.choices(setting=[app_commands.Choice(name=n, value=n)
                                   for n in ("review", "bases", "rate", "modlog")])
    async def settings(interaction: discord.Interaction,
                       setting: app_commands.Choice[str] | None = None,
                       value: str | None = None) -> None:
        await run(interaction, "settings", setting.value if setting else None, value)

    @mod.command(description="Numbers: requests, videos, refusals, reports")
    async def stats(interaction: discord.Interaction) -> None:
        await run(interaction, "stats")

    return mod


# --- start-up --------------------------------------------------------------------------------
def build_discord_bot(service: BotService, *, sync_commands: bool = True
                      ) -> VitaphoneDiscordBot:
    """The bot with its commands, its messenger attached to `service`; not logged in."""
    return VitaphoneDiscordBot(service, sync_commands=sync_commands)


async def login_discord(settings: Settings, service: BotService, *,
                        sync_commands: bool = True) -> VitaphoneDiscordBot:
    """Check VITAPHONE_DISCORD_TOKEN and log in (commands synced). Raises `ConfigError` with
    one line when the token is missing or Discord rejects it."""
    token = settings.discord_token.get_secret_value().strip() if settings.discord_token else ""
    if not token:
        raise ConfigError("VITAPHONE_DISCORD_TOKEN is not set.",
                          "Create a bot in the Discord developer portal and set its token.")
    bot = build_discord_bot(service, sync_commands=sync_commands)
    try:
        await bot.login(token)
    except discord.LoginFailure:
        await bot.close()
        raise ConfigError("Discord rejected VITAPHONE_DISCORD_TOKEN.",
                          "Copy the bot token again from the developer portal (Bot → Reset "
                          "Token).") from None
    except (discord.HTTPException, OSError) as error:
        await bot.close()
        raise ConfigError(f"Could not reach Discord to log in ({type(error).__name__}).",
                          "Check the network and try again.") from None
    return bot
