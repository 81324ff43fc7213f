"""A fake Telegram Bot API server (aiohttp on 127.0.0.1) for python-telegram-bot.

Point the library at it with `base_url=f"{fake.url}/bot"` and `base_file_url=f"{fake.url}/file/bot"`
(VITAPHONE_TELEGRAM_BASE_URL / _BASE_FILE_URL). It scripts updates (served to getUpdates or
posted to a webhook), serves files, keeps the messages of each chat (so deletes and edits can be
checked), and records every call.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

BOT_ID = 777
BOT_USER = {"id": BOT_ID, "is_bot": True, "first_name": "Vitaphone", "username": "vitaphone_bot"}


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    files: dict[str, bytes] = field(default_factory=dict)


@dataclass
class Sent:
    """A message in the fake's chats (ours or the users')."""

    chat_id: int
    message_id: int
    text: str | None = None
    caption: str | None = None
    video: bytes | None = None
    buttons: list[list[dict[str, Any]]] = field(default_factory=list)
    deleted: bool = False
    edits: int = 0
    reply_to: int | None = None
    from_bot: bool = True
    history: list[str] = field(default_factory=list)  # earlier texts, before each edit


class FakeTelegram:
    def __init__(self, token: str = "123:TEST") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.messages: dict[tuple[int, int], Sent] = {}
        self.files: dict[str, bytes] = {}
        self.admins: dict[int, set[int]] = {}  # chat id -> administrator user ids
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._new_update = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.url = ""
        self.webhook: dict[str, Any] | None = None

    # --- lifecycle --------------------------------------------------------------------------
    async def start(self) -> FakeTelegram:
        app = web.Application(client_max_size=200 * 1024 * 1024)
        app.router.add_route("*", "/bot{token}/{method}", self._api)
        app.router.add_get("/file/bot{token}/{path:.*}", self._file)
        self._runner = web.AppRunner(app)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self.url = f"http://127.0.0.1:{port}"
        return self

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        return f"{self.url}/file/bot"

    # --- scripting --------------------------------------------------------------------------
    def add_file(self, data: bytes) -> str:
        file_id = f"file{len(self.files) + 1}"
        self.files[file_id] = data
        return file_id

    def user(self, user_id: int, name: str = "Ada") -> dict[str, Any]:
        return {"id": user_id, "is_bot": False, "first_name": name}

    def chat(self, chat_id: int, *, group: bool = False) -> dict[str, Any]:
        if group:
            return {"id": chat_id, "type": "supergroup", "title": "Test group"}
        return {"id": chat_id, "type": "private", "first_name": "Ada"}

    def message(self, user: dict[str, Any], chat: dict[str, Any], *, text: str | None = None,
                caption: str | None = None, photo: bytes | None = None,
                document: tuple[bytes, str, str] | None = None, voice: tuple[bytes, int] | None = None,
                audio: tuple[bytes, int, str, str] | None = None, video: bytes | None = None,
                reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A user's message (also kept in the chat), ready for `push`."""
        mid = next(self._message_ids)
        msg: dict[str, Any] = {"message_id": mid, "date": int(time.time()), "chat": chat,
                               "from": user}
        if text is not None:
            msg["text"] = text
            if text.startswith("/"):
                msg["entities"] = [{"type": "bot_command", "offset": 0,
                                    "length": len(text.split()[0])}]
        if caption is not None:
            msg["caption"] = caption
            if caption.startswith("/"):
                msg["caption_entities"] = [{"type": "bot_command", "offset": 0,
                                            "length": len(caption.split()[0])}]
        if photo is not None:
            fid = self.add_file(photo)
            msg["photo"] = [{"file_id": fid, "file_unique_id": fid + "u", "width": 400,
                             "height": 500, "file_size": len(photo)}]
        if document is not None:
            data, name, mime = document
            fid = self.add_file(data)
            msg["document"] = {"file_id": fid, "file_unique_id": fid + "u", "file_name": name,
                               "mime_type": mime, "file_size": len(data)}
        if voice is not None:
            data, seconds = voice
            fid = self.add_file(data)
            msg["voice"] = {"file_id": fid, "file_unique_id": fid + "u", "duration": seconds,
                            "mime_type": "audio/ogg", "file_size": len(data)}
        if audio is not None:  # an audio file: (bytes, seconds, file name, MIME type)
            data, seconds, name, mime = audio
            fid = self.add_file(data)
            msg["audio"] = {"file_id": fid, "file_unique_id": fid + "u", "duration": seconds,
                            "file_name": name, "mime_type": mime, "file_size": len(data)}
        if video is not None:
            fid = self.add_file(video)
            msg["video"] = {"file_id": fid, "file_unique_id": fid + "u", "width": 256,
                            "height": 256, "duration": 2, "mime_type": "video/mp4",
                            "file_size": len(video)}
        if reply_to is not None:
            msg["reply_to_message"] = reply_to
        self.messages[(chat["id"], mid)] = Sent(chat["id"], mid, text, caption, from_bot=False)
        return msg

    def push(self, message: dict[str, Any] | None = None, *,
             callback: dict[str, Any] | None = None) -> None:
        update: dict[str, Any] = {"update_id": next(self._update_ids)}
        if message is not None:
            update["message"] = message
        if callback is not None:
            update["callback_query"] = callback
        self._updates.append(update)
        self._new_update.set()

    def as_message(self, sent: Sent) -> dict[str, Any]:
        """Our message `sent` as the Bot API shows it (to reply to it, or in a button press)."""
        chat = ({"id": sent.chat_id, "type": "private", "first_name": "Ada"}
                if sent.chat_id > 0 else
                {"id": sent.chat_id, "type": "supergroup", "title": "Test group"})
        message: dict[str, Any] = {"message_id": sent.message_id, "date": int(time.time()),
                                   "chat": chat, "from": BOT_USER}
        if sent.text is not None:
            message["text"] = sent.text
        else:
            message["caption"] = sent.caption or ""
            message["video"] = {"file_id": "v", "file_unique_id": "vu", "width": 1,
                                "height": 1, "duration": 1}
        return message

    def press(self, user: dict[str, Any], sent: Sent, label_start: str) -> str:
        """Press the button whose label starts with `label_start` on our message `sent`."""
        for row in sent.buttons:
            for button in row:
                if button["text"].startswith(label_start):
                    qid = str(next(self._update_ids) * 7)
                    self.push(callback={"id": qid, "from": user, "chat_instance": "ci",
                                        "message": self.as_message(sent),
                                        "data": button["callback_data"]})
                    return qid
        labels = [b["text"] for row in sent.buttons for b in row]
        raise AssertionError(f"no button {label_start!r} on message {sent.message_id}: {labels}")

    def sent_to(self, chat_id: int) -> list[Sent]:
        """Our messages in this chat, oldest first (deleted ones included, marked)."""
        return [m for (c, _), m in sorted(self.messages.items()) if c == chat_id and m.from_bot]

    def popup(self, query_id: str) -> str | None:
        """The text answerCallbackQuery showed for the press `query_id` (None: no text)."""
        for call in self.calls_of("answerCallbackQuery"):
            if str(call.params.get("callback_query_id")) == query_id:
                return call.params.get("text")
        raise LookupError(query_id)

    def update_json(self, message: dict[str, Any]) -> dict[str, Any]:
        """An update carrying `message`, for POSTing to a webhook (not queued for getUpdates)."""
        return {"update_id": next(self._update_ids), "message": message}

    def calls_of(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    async def wait_for(self, predicate: Any, timeout_s: float = 30.0, what: str = "") -> Any:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                found = predicate()
            except (LookupError, AttributeError):
                found = None
            if found:
                return found
            await asyncio.sleep(0.05)
        raise AssertionError(f"timed out waiting for {what or predicate}")

    async def wait_for_text(self, chat_id: int, fragment: str, timeout_s: float = 30.0) -> Sent:
        """Our message in `chat_id` whose current text or caption contains `fragment`."""
        def find() -> Sent | None:
            for m in reversed(list(self.messages.values())):
                if (m.chat_id == chat_id and m.from_bot and not m.deleted
                        and fragment in (m.text or m.caption or "")):
                    return m
            return None
        return await self.wait_for(find, timeout_s, what=f"{fragment!r} in chat {chat_id}")

    # --- the API ----------------------------------------------------------------------------
    async def _file(self, request: web.Request) -> web.StreamResponse:
        path = request.match_info["path"]
        if request.match_info["token"] != self.token or path not in self.files:
            return web.Response(status=404)
        return web.Response(body=self.files[path])

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params, files = await _params(request)
        self.calls.append(Call(method, params, files))
        if request.match_info["token"] != self.token:
            return _error(401, "Unauthorized")
        handler = getattr(self, f"_m_{method}", None)
        if handler is None:
            return _ok(True)
        return await handler(params, files)

    async def _m_getMe(self, params, files):
        return _ok(BOT_USER)

    async def _m_getUpdates(self, params, files):
        offset = int(params.get("offset") or 0)
        self._updates = [u for u in self._updates if u["update_id"] >= offset]
        if not self._updates:
            self._new_update.clear()
            timeout = float(params.get("timeout") or 0)
            try:
                await asyncio.wait_for(self._new_update.wait(), timeout=min(timeout, 1.0))
            except TimeoutError:
                pass
        return _ok(list(self._updates))

    async def _m_setWebhook(self, params, files):
        self.webhook = params
        return _ok(True)

    def _our_message(self, chat_id: int, params: dict[str, Any], **fields: Any) -> dict[str, Any]:
        mid = next(self._message_ids)
        markup = params.get("reply_markup") or {}
        reply = (params.get("reply_parameters") or {}).get("message_id")
        sent = Sent(chat_id, mid, buttons=markup.get("inline_keyboard", []), reply_to=reply,
                    **fields)
        self.messages[(chat_id, mid)] = sent
        chat = {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup",
                "first_name": "Ada", "title": "Test group"}
        out: dict[str, Any] = {"message_id": mid, "date": int(time.time()), "chat": chat,
                               "from": BOT_USER}
        if sent.text is not None:
            out["text"] = sent.text
        if sent.caption is not None:
            out["caption"] = sent.caption
        return out

    async def _m_sendMessage(self, params, files):
        return _ok(self._our_message(int(params["chat_id"]), params, text=params["text"]))

    async def _m_sendVideo(self, params, files):
        data = next(iter(files.values()), None)
        out = self._our_message(int(params["chat_id"]), params, caption=params.get("caption"),
                                video=data)
        out["video"] = {"file_id": "vid", "file_unique_id": "vidu", "width": 256, "height": 256,
                        "duration": 2}
        return _ok(out)

    async def _m_editMessageText(self, params, files):
        key = (int(params["chat_id"]), int(params["message_id"]))
        sent = self.messages.get(key)
        if sent is None or sent.deleted:
            return _error(400, "Bad Request: message to edit not found")
        markup = params.get("reply_markup") or {}
        new_buttons = markup.get("inline_keyboard", [])
        if sent.text == params["text"] and sent.buttons == new_buttons:
            return _error(400, "Bad Request: message is not modified")
        sent.history.append(sent.text or "")
        sent.text, sent.buttons, sent.edits = params["text"], new_buttons, sent.edits + 1
        return _ok({"message_id": sent.message_id, "date": int(time.time()), "text": sent.text,
                    "chat": {"id": sent.chat_id, "type": "private", "first_name": "Ada"}})

    async def _m_deleteMessage(self, params, files):
        sent = self.messages.get((int(params["chat_id"]), int(params["message_id"])))
        if sent is None or sent.deleted:
            return _error(400, "Bad Request: message to delete not found")
        sent.deleted = True
        return _ok(True)

    async def _m_getFile(self, params, files):
        fid = params["file_id"]
        if fid not in self.files:
            return _error(400, "Bad Request: invalid file_id")
        return _ok({"file_id": fid, "file_unique_id": fid + "u", "file_size": len(self.files[fid]),
                    "file_path": fid})

    async def _m_getChatMember(self, params, files):
        chat_id, user_id = int(params["chat_id"]), int(params["user_id"])
        status = "administrator" if user_id in self.admins.get(chat_id, set()) else "member"
        member: dict[str, Any] = {"status": status, "user": self.user(user_id)}
        if status == "administrator":
            member.update({k: True for k in (
                "can_be_edited", "is_anonymous", "can_manage_chat", "can_delete_messages",
                "can_manage_video_chats", "can_restrict_members", "can_promote_members",
                "can_change_info", "can_invite_users", "can_post_stories", "can_edit_stories",
                "can_delete_stories")})
        return _ok(member)


async def _params(request: web.Request) -> tuple[dict[str, Any], dict[str, bytes]]:
    """python-telegram-bot posts form fields (JSON-encoded objects) or multipart with files."""
    params: dict[str, Any] = {}
    files: dict[str, bytes] = {}
    if request.content_type == "application/json":
        return dict(await request.json()), files
    if request.content_type.startswith("multipart/"):
        reader = await request.multipart()
        async for part in reader:
            if part.filename:
                files[part.name] = bytes(await part.read())
            else:
                params[part.name] = _decode(await part.text())
        return params, files
    for key, value in (await request.post()).items():
        params[key] = _decode(value)
    return params, files


def _decode(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "{[":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _ok(result: Any) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _error(code: int, description: str) -> web.Response:
    return web.json_response({"ok": False, "error_code": code, "description": description},
                             status=code)
