"""The Telegram adapter: python-telegram-bot events -> `BotService` calls -> Telegram messages.

Thin by design: it turns updates into `Context` / `AnimateRequest` / `Attachment`, implements
`Messenger` on `telegram.Bot`, and builds the `Application` (AIORateLimiter for the flood
limits; polling, or a webhook whose secret token Telegram must echo). Every rule is the
service's. The Bot API's limits: downloads of 20 MB (more through a local Bot API server, set
with VITAPHONE_TELEGRAM_BASE_URL / _BASE_FILE_URL), uploads of 50 MB.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import httpx
from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatMemberStatus, ChatType
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import (
    AIORateLimiter,
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from vitaphone.bots.contract import (
    AnimateRequest,
    Attachment,
    Button,
    ChatRef,
    Context,
    FileTooLarge,
    MessageRef,
    PlatformError,
    Reply,
    UserRef,
)
from vitaphone.bots.parsing import parse_quote
from vitaphone.bots.service import COMMANDS

if TYPE_CHECKING:
    from vitaphone.bots.service import BotService

log = logging.getLogger(__name__)

MB = 1024 * 1024
DOWNLOAD_LIMIT = 20 * MB  # the public Bot API's getFile limit
LOCAL_SERVER_DOWNLOAD_LIMIT = 2000 * MB  # a local Bot API server's
UPLOAD_LIMIT = 50 * MB
_GONE = ("not found", "message can't be deleted", "chat not found", "bot was blocked")


class TelegramMessenger:
    """`Messenger` on a `telegram.Bot`."""

    platform = "telegram"
    max_upload_bytes = UPLOAD_LIMIT

    def __init__(self, bot: Bot, *, local_server: bool = False) -> None:
        self.bot = bot
        self.max_download_bytes = LOCAL_SERVER_DOWNLOAD_LIMIT if local_server else DOWNLOAD_LIMIT

    async def send_text(self, chat: ChatRef, reply: Reply, *,
                        reply_to: MessageRef | None = None) -> MessageRef:
        with _platform_errors():
            msg = await self.bot.send_message(int(chat.chat_id), reply.text,
                                              reply_markup=_keyboard(reply.buttons),
                                              reply_parameters=_reply_to(reply_to))
        return _ref(msg)

    async def edit_text(self, message: MessageRef, reply: Reply) -> MessageRef:
        try:
            with _platform_errors():
                await self.bot.edit_message_text(reply.text, chat_id=int(message.chat_id),
                                                 message_id=int(message.message_id),
                                                 reply_markup=_keyboard(reply.buttons))
        except PlatformError as exc:
            if "not modified" not in str(exc):
                raise
        return message

    async def send_video(self, chat: ChatRef, path: Path, caption: str, *,
                         buttons: tuple[tuple[Button, ...], ...] = (),
                         reply_to: MessageRef | None = None) -> MessageRef:
        with _platform_errors(), path.open("rb") as video:
            msg = await self.bot.send_video(int(chat.chat_id), video, caption=caption[:1024],
                                            supports_streaming=True, filename=path.name,
                                            reply_markup=_keyboard(buttons),
                                            reply_parameters=_reply_to(reply_to))
        return _ref(msg)

    async def delete_message(self, message: MessageRef) -> bool:
        try:
            with _platform_errors():
                return await self.bot.delete_message(int(message.chat_id),
                                                     int(message.message_id))
        except PlatformError as exc:
            if exc.gone:
                return False
            raise

    async def download(self, attachment: Attachment, max_bytes: int) -> bytes:
        if attachment.size_bytes is not None and attachment.size_bytes > max_bytes:
            raise FileTooLarge(f"the file is {attachment.size_bytes} bytes, over {max_bytes}")
        with _platform_errors():
            file = await self.bot.get_file(attachment.file_id)
        if file.file_size is not None and file.file_size > max_bytes:
            raise FileTooLarge(f"the file is {file.file_size} bytes, over {max_bytes}")
        if file.file_path and Path(file.file_path).is_absolute():  # a local Bot API server
            with Path(file.file_path).open("rb") as handle:
                data = handle.read(max_bytes + 1)
        else:
            data = await _bounded_get(str(file.file_path), max_bytes)
        if len(data) > max_bytes:
            raise FileTooLarge(f"the file is over {max_bytes} bytes")
        return data

    async def is_chat_admin(self, chat: ChatRef, user: UserRef) -> bool:
        with _platform_errors():
            member = await self.bot.get_chat_member(int(chat.chat_id), int(user.user_id))
        return member.status in (ChatMemberStatus.ADMINISTRATOR, ChatMemberStatus.OWNER)


async def _bounded_get(url: str, max_bytes: int) -> bytes:
    """GET `url`, reading at most `max_bytes` + 1 bytes."""
    chunks, size = [], 0
    async with httpx.AsyncClient(timeout=60) as client, client.stream("GET", url) as response:
        if response.status_code != 200:
            raise PlatformError(f"file download failed with HTTP {response.status_code}")
        async for chunk in response.aiter_bytes():
            chunks.append(chunk)
            size += len(chunk)
            if size > max_bytes:
                break
    return b"".join(chunks)[: max_bytes + 1]


class _platform_errors:
    """Telegram's errors as the contract's PlatformError (`gone` for vanished messages)."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind, exc, tb) -> bool:
        if isinstance(exc, TelegramError) and not isinstance(exc, PlatformError):
            text = str(exc)
            gone = isinstance(exc, Forbidden) or (
                isinstance(exc, BadRequest) and any(g in text.lower() for g in _GONE))
            raise PlatformError(text, gone=gone) from exc
        return False


def _keyboard(rows: tuple[tuple[Button, ...], ...]) -> InlineKeyboardMarkup | None:
    if not rows:
        return None
    return InlineKeyboardMarkup([[InlineKeyboardButton(b.label, callback_data=b.action)
                                  for b in row] for row in rows])


def _reply_to(ref: MessageRef | None) -> ReplyParameters | None:
    if ref is None:
        return None
    return ReplyParameters(int(ref.message_id), allow_sending_without_reply=True)


def _ref(msg: Message) -> MessageRef:
    return MessageRef("telegram", str(msg.chat_id), str(msg.message_id))


# --- updates -> service calls ------------------------------------------------------------------
def context_of(update: Update) -> Context:
    user, chat, msg = update.effective_user, update.effective_chat, update.effective_message
    assert user is not None and chat is not None
    return Context(
        user=UserRef("telegram", str(user.id), user.full_name),
        chat=ChatRef("telegram", str(chat.id), chat.title or None,
                     is_private=chat.type == ChatType.PRIVATE),
        message=_ref(msg) if msg is not None else None)


def photo_of(msg: Message | None) -> Attachment | None:
    """The portrait a message carries: its largest photo size, or an image sent as a file."""
    if msg is None:
        return None
    if msg.photo:
        p = msg.photo[-1]
        return Attachment("telegram", p.file_id, "photo", None, "image/jpeg", p.file_size,
                          width=p.width, height=p.height)
    doc = msg.document
    if doc is not None and (doc.mime_type or "").startswith("image/"):
        return Attachment("telegram", doc.file_id, "document", doc.file_name, doc.mime_type,
                          doc.file_size)
    return None


def audio_of(msg: Message | None) -> Attachment | None:
    if msg is None:
        return None
    if msg.voice is not None:
        v = msg.voice
        return Attachment("telegram", v.file_id, "voice", "voice note", v.mime_type, v.file_size,
                          _seconds(v))
    if msg.audio is not None:
        a = msg.audio
        return Attachment("telegram", a.file_id, "audio", a.file_name, a.mime_type, a.file_size,
                          _seconds(a))
    doc = msg.document
    if doc is not None and (doc.mime_type or "").startswith("audio/"):
        return Attachment("telegram", doc.file_id, "document", doc.file_name, doc.mime_type,
                          doc.file_size)
    return None


def _seconds(media: object) -> float | None:
    """A voice note's or audio file's duration in seconds, read from its JSON form: the
    `duration` attribute warns while PTB moves it from int to timedelta (v22.2)."""
    duration = media.to_dict().get("duration")  # type: ignore[attr-defined]
    return float(duration) if duration is not None else None


def video_of(msg: Message | None) -> Attachment | None:
    if msg is None:
        return None
    if msg.video is not None:
        v = msg.video
        return Attachment("telegram", v.file_id, "video", v.file_name, v.mime_type, v.file_size)
    doc = msg.document
    if doc is not None and not (doc.mime_type or "").startswith(("image/", "audio/")):
        return Attachment("telegram", doc.file_id, "document", doc.file_name, doc.mime_type,
                          doc.file_size)
    return None


def _service(context: ContextTypes.DEFAULT_TYPE) -> BotService:
    return context.bot_data["service"]


async def _answer(update: Update, reply: Reply | None) -> None:
    msg = update.effective_message
    if reply is not None and msg is not None:
        await msg.reply_text(reply.text, reply_markup=_keyboard(reply.buttons),
                             do_quote=not msg.chat.type == ChatType.PRIVATE)


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo (or image file) with a caption: private chats take any caption as the quote;
    groups only `/animate ...`."""
    msg = update.effective_message
    caption = (msg.caption or "").strip() if msg else ""
    if caption.startswith("/"):
        command, _, caption = caption.partition(" ")
        if command.split("@")[0].lower() != "/animate":
            return
    elif msg is None or msg.chat.type != ChatType.PRIVATE:
        return
    await _animate(update, context, photo_of(msg), caption)


async def on_animate_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """`/animate QUOTE` as a reply to a photo."""
    msg = update.effective_message
    assert msg is not None
    photo = photo_of(msg.reply_to_message)
    if photo is None:
        await _answer(update, Reply("Reply /animate QUOTE to a photo, or send a photo with the "
                                    "quote as its caption."))
        return
    await _animate(update, context, photo, " ".join(context.args or []))


async def _animate(update: Update, context: ContextTypes.DEFAULT_TYPE,
                   photo: Attachment | None, caption: str) -> None:
    if photo is None:
        return
    opts = parse_quote(caption)
    request = AnimateRequest(portrait=photo, quote=opts.quote, emotion=opts.emotion,
                             intensity_percent=opts.intensity_percent,
                             base_voice=opts.base_voice, language=opts.language)
    await _answer(update, await _service(context).on_animate(context_of(update), request))


async def on_audio_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    audio = audio_of(msg)
    if msg is None or audio is None or msg.reply_to_message is None:
        return
    reply = await _service(context).on_media_reply(
        context_of(update), audio, _ref(msg.reply_to_message),
        photo_of(msg.reply_to_message), msg.caption)
    await _answer(update, reply)


async def on_video_caption(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A video or file captioned /verify."""
    msg = update.effective_message
    caption = (msg.caption or "") if msg else ""
    if caption.split(" ")[0].split("@")[0].lower() != "/verify":
        return
    await _answer(update, await _service(context).on_command(
        context_of(update), "verify", "", attachment=video_of(msg)))


async def on_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    assert msg is not None and msg.text is not None
    name = msg.text.split()[0][1:].split("@")[0].lower()
    args = msg.text.partition(" ")[2]
    replied = msg.reply_to_message
    attachment = video_of(replied) if name == "verify" else None
    reply = await _service(context).on_command(
        context_of(update), name, args, attachment=attachment,
        replied_to=_ref(replied) if replied is not None else None)
    await _answer(update, reply)


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A text message's buttons step through it (we edit it); a video's buttons answer in a
    pop-up only the presser sees."""
    query = update.callback_query
    assert query is not None
    reply = await _service(context).on_button(context_of(update), query.data or "")
    message = query.message
    if reply is None:
        await query.answer()
    elif isinstance(message, Message) and message.text is not None:
        await query.answer()
        try:
            await query.edit_message_text(reply.text, reply_markup=_keyboard(reply.buttons))
        except BadRequest as exc:
            if "not modified" not in str(exc):
                raise
    else:
        await query.answer(reply.text[:200], show_alert=True)


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    log.error("telegram handler failed", exc_info=context.error)


def build_application(token: str, service: BotService, *, base_url: str | None = None,
                      base_file_url: str | None = None) -> Application:
    """The Application with every handler, the rate limiter and the service in bot_data."""
    builder = ApplicationBuilder().token(token).rate_limiter(AIORateLimiter(max_retries=3))
    if base_url:
        builder = builder.base_url(base_url)
    if base_file_url:
        builder = builder.base_file_url(base_file_url)
    app = builder.build()
    app.bot_data["service"] = service
    image = filters.PHOTO | filters.Document.IMAGE
    audio = filters.VOICE | filters.AUDIO | filters.Document.AUDIO
    video = filters.VIDEO | filters.Document.VIDEO | filters.Document.MimeType("application/octet-stream")
    app.add_handler(CommandHandler("animate", on_animate_command))
    app.add_handler(CommandHandler(list(COMMANDS), on_command))
    app.add_handler(MessageHandler(image, on_photo))
    app.add_handler(MessageHandler(filters.REPLY & audio, on_audio_reply))
    app.add_handler(MessageHandler(video & filters.CaptionRegex(r"^/verify"), on_video_caption))
    app.add_handler(CallbackQueryHandler(on_button))
    app.add_error_handler(on_error)
    service.attach(TelegramMessenger(app.bot, local_server=bool(base_url)))
    return app
