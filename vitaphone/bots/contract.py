"""The contract between the platform-free bot service and its platform adapters.

An adapter (Telegram, Discord) turns platform events into calls on `BotService` with these value
objects, and implements `Messenger` so the service can answer: send, edit, delete, download,
post a video, ask whether someone administers a chat. Every rule (intake, consent, limits,
moderation, delivery, wording) lives in the service; an adapter translates and nothing more.

Nothing here imports a platform SDK, the media pipeline or SQL.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

Platform = Literal["telegram", "discord"]
AttachmentKind = Literal["photo", "document", "audio", "voice", "video", "image"]
ButtonStyle = Literal["primary", "secondary", "danger", "success"]


@dataclass(frozen=True)
class UserRef:
    """Who acts, in platform ids (strings)."""

    platform: Platform
    user_id: str
    display_name: str | None = None


@dataclass(frozen=True)
class ChatRef:
    """Where: a Telegram chat, or a Discord channel (`guild_id` set in a server)."""

    platform: Platform
    chat_id: str
    title: str | None = None
    is_private: bool = False
    guild_id: str | None = None


@dataclass(frozen=True)
class MessageRef:
    """A message we or the user posted. `extra` holds what the platform needs to edit or delete
    it later (JSON-safe), e.g. a Discord interaction token and its expiry, or `ephemeral`."""

    platform: Platform
    chat_id: str
    message_id: str
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Attachment:
    """A file the user sent, not yet downloaded. `file_id` is the platform's handle (a Telegram
    file_id, a Discord attachment URL). Sizes and types are the platform's claims: checked again
    after download."""

    platform: Platform
    file_id: str
    kind: AttachmentKind
    file_name: str | None = None
    mime_type: str | None = None
    size_bytes: int | None = None
    duration_s: float | None = None
    width: int | None = None
    height: int | None = None


@dataclass(frozen=True)
class Button:
    """An inline button. `action` comes back to `BotService.on_button` verbatim (≤ 64 bytes:
    Telegram's callback_data limit; Discord custom_id allows 100)."""

    label: str
    action: str
    style: ButtonStyle = "secondary"


@dataclass(frozen=True)
class Reply:
    """What the service wants shown. `private`: only the requester sees it (Discord ephemeral;
    Telegram ignores it in private chats and answers in the chat otherwise). `buttons`: rows."""

    text: str
    buttons: tuple[tuple[Button, ...], ...] = ()
    private: bool = False


@dataclass(frozen=True)
class Context:
    """One incoming event: who, where, and the message it came in (for a Discord slash
    command, which has no message of its own: its private response, `message_id` "@original",
    reachable through the interaction token in `extra` for 15 minutes)."""

    user: UserRef
    chat: ChatRef
    message: MessageRef | None = None
    # The largest video this event's chat accepts when it differs from the messenger's default
    # (Discord: `interaction.filesize_limit`, higher in boosted servers); the render's size budget.
    max_upload_bytes: int | None = None


@dataclass(frozen=True)
class AnimateRequest:
    """`/animate` with everything the user gave. Options are raw user values; the service
    validates them and refuses with one sentence."""

    portrait: Attachment
    quote: str | None = None
    voice_sample: Attachment | None = None
    recording: Attachment | None = None
    emotion: str | None = None
    intensity_percent: int | None = None
    base_voice: str | None = None
    language: str | None = None


@runtime_checkable
class Messenger(Protocol):
    """What an adapter does for the service. Every method raises `PlatformError` (below) for a
    platform failure the service should know about (message gone, no permission)."""

    platform: Platform
    # The largest upload this messenger can post (Telegram 50 MB; Discord per interaction).
    max_upload_bytes: int
    # The largest download it can fetch (Telegram 20 MB without a local Bot API server).
    max_download_bytes: int

    async def send_text(self, chat: ChatRef, reply: Reply, *,
                        reply_to: MessageRef | None = None) -> MessageRef: ...

    async def edit_text(self, message: MessageRef, reply: Reply) -> MessageRef:
        """Edit in place; may return a new ref when the platform had to post anew (an expired
        Discord interaction token falls back to a channel message)."""
        ...

    async def send_video(self, chat: ChatRef, path: Path, caption: str, *,
                         buttons: tuple[tuple[Button, ...], ...] = (),
                         reply_to: MessageRef | None = None) -> MessageRef: ...

    async def delete_message(self, message: MessageRef) -> bool:
        """True if deleted, False if it was already gone."""
        ...

    async def download(self, attachment: Attachment, max_bytes: int) -> bytes:
        """The file's bytes; never reads more than `max_bytes` + 1 (raises FileTooLarge)."""
        ...

    async def is_chat_admin(self, chat: ChatRef, user: UserRef) -> bool: ...


class PlatformError(Exception):
    """A platform call failed. `gone`: the message or chat no longer exists (not retryable)."""

    def __init__(self, message: str, *, gone: bool = False) -> None:
        super().__init__(message)
        self.gone = gone


class FileTooLarge(PlatformError):
    """A download went past its limit; nothing beyond limit + 1 bytes was read."""
