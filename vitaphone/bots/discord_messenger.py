"""The Discord `Messenger`: how the service's replies become Discord messages.

A message we post while an interaction token is alive goes through that interaction's webhook
(ephemeral when the reply is private; no channel permission needed). The token, its expiry and
which webhook message it edits ride in `MessageRef.extra`, so the service can store the ref and
edit or post through it later, even from a restarted process. A token lives 15 minutes; once it
is (nearly) spent or Discord says it is invalid, edits and videos go to the channel instead:
an ephemeral message cannot be edited any more, so a fresh channel message naming the user
replaces it and later edits go there.
"""

from __future__ import annotations

import io
import logging
import time
from pathlib import Path
from typing import Any

import aiohttp
import discord

from vitaphone.bots.contract import (
    Attachment,
    Button,
    ChatRef,
    FileTooLarge,
    MessageRef,
    PlatformError,
    Reply,
    UserRef,
)

log = logging.getLogger(__name__)

TOKEN_LIFETIME_S = 15 * 60
# Do not start a post on a token about to expire (an upload can take a while).
TOKEN_MARGIN_S = 60
DEFAULT_UPLOAD_BYTES = 10 * 1024 * 1024  # a server without boosts
MAX_DOWNLOAD_BYTES = 100 * 1024 * 1024  # the service's own limits are far lower
BUTTON_PREFIX = "vp:"
# Discord codes that mean "this token can no longer be used".
_TOKEN_GONE = {50027, 10015, 10062}
_ADMIN_PERMISSIONS = discord.Permissions(manage_guild=True)


def token_extra(interaction: discord.Interaction, *, webhook_message: str,
                ephemeral: bool) -> dict[str, Any]:
    """What a MessageRef needs to edit/post through this interaction later (JSON-safe)."""
    return {"token": interaction.token, "application_id": str(interaction.application_id),
            "expires_at": round(time.time() + TOKEN_LIFETIME_S, 1),
            "webhook_message": webhook_message, "ephemeral": ephemeral,
            "user_id": str(interaction.user.id)}


def build_view(buttons: tuple[tuple[Button, ...], ...]) -> discord.ui.View | None:
    """A persistent view: every custom_id is `vp:<action>`, routed by `ActionButton` (a
    DynamicItem), so buttons keep working after a restart."""
    from vitaphone.bots.discord_views import ActionButton

    if not buttons:
        return None
    view = discord.ui.View(timeout=None)
    for row_index, row in enumerate(buttons[:5]):
        for button in row[:5]:
            view.add_item(ActionButton(button, row=row_index))
    return view


class DiscordMessenger:
    """Implements `contract.Messenger` with a logged-in `discord.Client`."""

    platform = "discord"

    def __init__(self, client: discord.Client) -> None:
        self.client = client
        self.max_upload_bytes = DEFAULT_UPLOAD_BYTES
        self.max_download_bytes = MAX_DOWNLOAD_BYTES
        # (guild_id, user_id) -> (permission bits, when): what Discord told us in an interaction.
        self._permissions: dict[tuple[str, str], tuple[int, float]] = {}
        self._session: aiohttp.ClientSession | None = None
        self.clock = time.time

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()

    def remember_permissions(self, interaction: discord.Interaction) -> None:
        if interaction.guild_id is not None:
            key = (str(interaction.guild_id), str(interaction.user.id))
            self._permissions[key] = (interaction.permissions.value, self.clock())

    # --- Messenger ---------------------------------------------------------------------------
    async def send_text(self, chat: ChatRef, reply: Reply, *,
                        reply_to: MessageRef | None = None) -> MessageRef:
        view = build_view(reply.buttons)
        webhook = self._webhook(reply_to)
        if webhook is not None and reply_to is not None:
            # A public answer names whom it answers, as a Telegram reply would show.
            text = reply.text if reply.private else _mentioning(reply_to.extra.get("user_id"),
                                                                reply.text)
            try:
                sent = await webhook.send(text, ephemeral=reply.private, wait=True,
                                          allowed_mentions=_MENTION_USERS, **_view_kwargs(view))
                return MessageRef("discord", chat.chat_id, str(sent.id), {
                    **reply_to.extra, "webhook_message": str(sent.id),
                    "ephemeral": reply.private})
            except discord.HTTPException as error:
                if not _token_gone(error):
                    raise _platform_error(error) from error
        return await self._channel_send(chat.chat_id, reply.text, view, mention=reply_to)

    async def edit_text(self, message: MessageRef, reply: Reply) -> MessageRef:
        view = build_view(reply.buttons)
        webhook = self._webhook(message)
        if webhook is not None:
            try:
                await webhook.edit_message(_webhook_message_id(message), content=reply.text,
                                           view=view)
                return message
            except discord.HTTPException as error:
                if not _token_gone(error):
                    raise _platform_error(error) from error
        if message.extra.get("ephemeral"):
            # Only the token could edit it; say it anew where the user will see it.
            return await self._channel_send(message.chat_id, reply.text, view, mention=message)
        text = _mentioning(message.extra.get("mention"), reply.text)
        try:
            channel = self.client.get_partial_messageable(int(message.chat_id))
            await channel.get_partial_message(int(message.message_id)).edit(
                content=text, view=view, allowed_mentions=_MENTION_USERS)
        except discord.HTTPException as error:
            raise _platform_error(error) from error
        return message

    async def send_video(self, chat: ChatRef, path: Path, caption: str, *,
                         buttons: tuple[tuple[Button, ...], ...] = (),
                         reply_to: MessageRef | None = None) -> MessageRef:
        view = build_view(buttons)
        webhook = self._webhook(reply_to, margin_s=TOKEN_MARGIN_S)
        if webhook is not None:
            try:
                sent = await webhook.send(caption, file=discord.File(path, path.name),
                                          wait=True, allowed_mentions=_MENTION_USERS,
                                          **_view_kwargs(view))
                # Public: deleted later through the channel, whatever the token's age.
                return MessageRef("discord", chat.chat_id, str(sent.id))
            except discord.HTTPException as error:
                if not _token_gone(error):
                    raise _platform_error(error) from error
        try:
            channel = self.client.get_partial_messageable(int(chat.chat_id))
            sent = await channel.send(caption, file=discord.File(path, path.name),
                                      allowed_mentions=_MENTION_USERS, **_view_kwargs(view))
        except discord.HTTPException as error:
            raise _platform_error(error) from error
        return MessageRef("discord", chat.chat_id, str(sent.id))

    async def delete_message(self, message: MessageRef) -> bool:
        try:
            webhook = self._webhook(message) if message.extra.get("ephemeral") else None
            if webhook is not None:
                await webhook.delete_message(_webhook_message_id(message))
            else:
                await self.client.http.delete_message(int(message.chat_id),
                                                      int(message.message_id))
        except discord.NotFound:
            return False
        except discord.HTTPException as error:
            if message.extra.get("ephemeral") and _token_gone(error):
                return False  # an expired ephemeral message: nobody else can see it anyway
            raise _platform_error(error) from error
        return True

    async def download(self, attachment: Attachment, max_bytes: int) -> bytes:
        """Stream the attachment's CDN URL, stopping one byte past `max_bytes`."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=60))
        buffer = io.BytesIO()
        try:
            async with self._session.get(attachment.file_id) as response:
                if response.status != 200:
                    raise PlatformError(f"download failed: HTTP {response.status}",
                                        gone=response.status == 404)
                async for chunk in response.content.iter_chunked(64 * 1024):
                    buffer.write(chunk)
                    if buffer.tell() > max_bytes:
                        raise FileTooLarge(f"{attachment.file_name or 'the file'} is larger "
                                           f"than {max_bytes} bytes")
        except aiohttp.ClientError as error:
            raise PlatformError(f"download failed: {type(error).__name__}") from error
        return buffer.getvalue()

    async def is_chat_admin(self, chat: ChatRef, user: UserRef) -> bool:
        """Manage Server (or Administrator) in the chat's guild; never in a DM."""
        if chat.guild_id is None:
            return False
        seen = self._permissions.get((chat.guild_id, user.user_id))
        if seen is not None and self.clock() - seen[1] < TOKEN_LIFETIME_S:
            return _is_admin(discord.Permissions(seen[0]))
        try:
            return await self._fetch_is_admin(int(chat.guild_id), int(user.user_id))
        except discord.NotFound:
            return False
        except discord.HTTPException as error:
            raise _platform_error(error) from error

    # --- helpers -------------------------------------------------------------------------------
    async def _fetch_is_admin(self, guild_id: int, user_id: int) -> bool:
        http = self.client.http
        guild = await http.get_guild(guild_id, with_counts=False)
        if str(guild.get("owner_id")) == str(user_id):
            return True
        member = await http.get_member(guild_id, user_id)
        roles = {str(r["id"]): int(r["permissions"]) for r in guild.get("roles", [])}
        bits = roles.get(str(guild_id), 0)
        for role_id in member.get("roles", []):
            bits |= roles.get(str(role_id), 0)
        return _is_admin(discord.Permissions(bits))

    def _webhook(self, ref: MessageRef | None, *, margin_s: float = 5.0
                 ) -> discord.Webhook | None:
        """The interaction webhook of `ref`, if its token is still good for `margin_s`."""
        if ref is None or not ref.extra.get("token"):
            return None
        if float(ref.extra.get("expires_at", 0)) - margin_s <= self.clock():
            return None
        # Type 3: an application's interaction webhook, which may post ephemeral messages.
        return discord.Webhook.from_state(
            {"id": ref.extra["application_id"], "type": 3, "token": ref.extra["token"]},
            state=self.client._connection)

    async def _channel_send(self, chat_id: str, text: str, view: discord.ui.View | None, *,
                            mention: MessageRef | None) -> MessageRef:
        """Post in the channel, naming the user `mention` was for (a private answer's stand-in);
        the ref remembers whom, so later edits name them too."""
        user_id = mention.extra.get("user_id") if mention is not None else None
        try:
            channel = self.client.get_partial_messageable(int(chat_id))
            sent = await channel.send(_mentioning(user_id, text), allowed_mentions=_MENTION_USERS,
                                      **_view_kwargs(view))
        except discord.HTTPException as error:
            raise _platform_error(error) from error
        return MessageRef("discord", chat_id, str(sent.id), {"mention": user_id} if user_id else {})


_MENTION_USERS = discord.AllowedMentions(everyone=False, roles=False, users=True)


def _mentioning(user_id: str | None, text: str) -> str:
    return f"<@{user_id}> {text}" if user_id else text


def _view_kwargs(view: discord.ui.View | None) -> dict[str, Any]:
    return {"view": view} if view is not None else {}


def _webhook_message_id(ref: MessageRef) -> int | str:
    # discord.py formats "@original" into the route like an id.
    target = ref.extra.get("webhook_message", "@original")
    return target if target == "@original" else int(target)  # type: ignore[return-value]


def _is_admin(permissions: discord.Permissions) -> bool:
    return permissions.administrator or permissions >= _ADMIN_PERMISSIONS


def _token_gone(error: discord.HTTPException) -> bool:
    return error.code in _TOKEN_GONE or error.status == 401


def _platform_error(error: discord.HTTPException) -> PlatformError:
    gone = isinstance(error, discord.NotFound)
    return PlatformError(f"Discord said {error.status} ({error.code}): {error.text[:200]}",
                         gone=gone)
