"""A fake Discord REST API (aiohttp on 127.0.0.1) for tests that drive the real discord.py.

It answers the endpoints our adapter reaches: login (`/users/@me`, `/oauth2/applications/@me`),
command sync, interaction callbacks (types 4, 5, 6, 7; ephemeral flag 64), the interaction
webhook (`@original`, follow-ups), channel messages (JSON or multipart with files), guild and
member look-ups, and a CDN that serves attachment bytes. Every request is recorded as a `Call`;
every message is kept with its edit history, so a test reads what a user would see.

`expire_token(token)` makes an interaction token answer as Discord does after 15 minutes
(401, code 50027), to test the channel fallback. Only `Bot <token>` with the configured token is
accepted on authenticated routes (a wrong token gets Discord's 401, for start-up tests).

Payloads follow Discord's documented shapes closely enough for discord.py to parse them; they
are not a full emulation (no gateway, no rate limits).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

API_PREFIX = "/api/v10"
EPHEMERAL = 64
BOT_USER_ID = 900_000_000_000_000_001
APPLICATION_ID = 900_000_000_000_000_002
OWNER_ID = 900_000_000_000_000_003
_TIMESTAMP = "2025-01-01T00:00:00.000000+00:00"


@dataclass
class Call:
    """One recorded request. `path` excludes the API prefix; `payload` is the JSON body or the
    multipart `payload_json`; `files` maps each form file field to (filename, bytes)."""

    method: str
    path: str
    query: dict[str, str]
    payload: Any
    files: list[tuple[str, bytes]] = field(default_factory=list)
    status: int = 200


@dataclass
class FakeMessage:
    """A message as the fake holds it; `history` has every earlier version's content."""

    id: int
    channel_id: int
    content: str
    components: list[dict[str, Any]]
    attachments: list[dict[str, Any]]
    flags: int = 0
    interaction_token: str | None = None
    deleted: bool = False
    history: list[str] = field(default_factory=list)

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & EPHEMERAL)

    def buttons(self) -> list[dict[str, Any]]:
        """Every button on the message (custom_id, label, style, disabled)."""
        return [c for row in self.components for c in row.get("components", ())
                if c.get("type") == 2]


@dataclass
class FakeInteraction:
    id: int
    token: str
    channel_id: int
    message_id: int | None = None  # the message a component sat on (type 3)
    response_type: int | None = None
    original_id: int | None = None
    expired: bool = False
    data: dict[str, Any] | None = None  # the callback's data (e.g. autocomplete choices)


class FakeDiscord:
    """Start with `await fake.start()`, stop with `await fake.close()`."""

    def __init__(self, token: str = "test-token") -> None:
        self.token = token
        self.calls: list[Call] = []
        self.messages: dict[int, FakeMessage] = {}
        self.interactions: dict[str, FakeInteraction] = {}
        self.files: dict[str, tuple[bytes, str]] = {}
        self.guilds: dict[int, dict[str, Any]] = {}
        self.members: dict[tuple[int, int], dict[str, Any]] = {}
        self.commands: dict[str, list[dict[str, Any]]] = {}
        # What happened, in order, as (who, what) lines: see `transcript()`.
        self.events: list[tuple[str, str]] = []
        self.cdn_delay_s = 0.0  # a slow CDN, to make the bot defer its first answer
        self._ids = itertools.count(1_000_000_000_000_000_000)
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self.port = 0

    # --- lifecycle ---------------------------------------------------------------------------
    async def start(self) -> None:
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/cdn/{name}", self._cdn)
        app.router.add_route("*", API_PREFIX + "/{tail:.*}", self._api)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    async def close(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """What `discord.http.Route.BASE` must be set to."""
        return f"http://127.0.0.1:{self.port}{API_PREFIX}"

    def next_id(self) -> int:
        return next(self._ids)

    # --- scripting -----------------------------------------------------------------------------
    def add_file(self, filename: str, data: bytes, content_type: str, *,
                 size: int | None = None, **extra: Any) -> dict[str, Any]:
        """Serve `data` from the CDN; returns the attachment payload for `resolved`. `size` may
        lie (the platform's claim), to test checks after download."""
        attachment_id = self.next_id()
        name = f"{attachment_id}-{filename}"
        self.files[name] = (data, content_type)
        url = f"http://127.0.0.1:{self.port}/cdn/{name}"
        return {"id": str(attachment_id), "filename": filename, "size": len(data) if size is None
                else size, "url": url, "proxy_url": url, "content_type": content_type, **extra}

    def add_guild(self, guild_id: int, *, owner_id: int = OWNER_ID,
                  roles: dict[int, int] | None = None) -> None:
        """A guild whose roles map role id -> permission bits (@everyone has the guild's id)."""
        roles = {guild_id: 0, **(roles or {})}
        self.guilds[guild_id] = {
            "id": str(guild_id), "name": f"guild {guild_id}", "owner_id": str(owner_id),
            "icon": None, "splash": None, "discovery_splash": None, "afk_channel_id": None,
            "afk_timeout": 300, "verification_level": 0, "default_message_notifications": 0,
            "explicit_content_filter": 0, "features": [], "mfa_level": 0, "system_channel_id":
            None, "system_channel_flags": 0, "rules_channel_id": None, "vanity_url_code": None,
            "description": None, "banner": None, "premium_tier": 0, "preferred_locale": "en-US",
            "public_updates_channel_id": None, "nsfw_level": 0, "premium_progress_bar_enabled":
            False, "emojis": [], "stickers": [],
            "roles": [role_payload(rid, guild_id, perms) for rid, perms in roles.items()],
        }

    def add_member(self, guild_id: int, user: dict[str, Any], role_ids: list[int]) -> None:
        self.members[(guild_id, int(user["id"]))] = {
            "user": user, "roles": [str(r) for r in role_ids], "joined_at": _TIMESTAMP,
            "deaf": False, "mute": False, "flags": 0}

    def expire_token(self, token: str) -> None:
        self.interactions[token].expired = True

    def register_interaction(self, interaction_id: int, token: str, channel_id: int,
                             message_id: int | None = None) -> None:
        self.interactions[token] = FakeInteraction(interaction_id, token, channel_id, message_id)

    def visible(self, channel_id: int | None = None) -> list[FakeMessage]:
        """Messages not deleted, oldest first (optionally in one channel)."""
        return [m for m in self.messages.values() if not m.deleted
                and (channel_id is None or m.channel_id == channel_id)]

    def calls_to(self, method: str, fragment: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and fragment in c.path]

    async def wait_for(self, predicate: Any, timeout_s: float = 30.0) -> Any:
        """Wait until `predicate()` is truthy (re-checked after every request; an AssertionError
        or LookupError counts as not yet); returns it."""
        deadline = time.monotonic() + timeout_s
        async with self._changed:
            while not (result := _safely(predicate)):
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"fake Discord: condition not met in {timeout_s:g} s")
                try:
                    await asyncio.wait_for(self._changed.wait(), min(remaining, 0.5))
                except TimeoutError:
                    pass
            return result

    # --- HTTP ----------------------------------------------------------------------------------
    async def _cdn(self, request: web.Request) -> web.StreamResponse:
        self.calls.append(Call(request.method, "/cdn/" + request.match_info["name"],
                               dict(request.query), None))
        if self.cdn_delay_s:
            await asyncio.sleep(self.cdn_delay_s)
        found = self.files.get(request.match_info["name"])
        if found is None:
            return web.Response(status=404, text="not found")
        data, content_type = found
        return web.Response(body=data, content_type=content_type.split(";")[0])

    async def _api(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        payload, files = await _read_body(request)
        call = Call(request.method, path, dict(request.query), payload, files)
        self.calls.append(call)
        try:
            status, body = self._route(request, path, payload, files)
        except _Error as error:
            status, body = error.status, {"message": error.message, "code": error.code}
        call.status = status
        async with self._changed:
            self._changed.notify_all()
        if status == 204:
            return web.Response(status=204)
        # discord.py parses JSON only when the content type is exactly application/json.
        return web.Response(body=json.dumps(body).encode(), status=status, headers={
            "Content-Type": "application/json"})

    def _route(self, request: web.Request, path: str, payload: Any,
               files: list[tuple[str, bytes]]) -> tuple[int, Any]:
        method, parts = request.method, path.strip("/").split("/")
        if parts[0] == "interactions":  # /interactions/{id}/{token}/callback: no bot auth
            return self._callback(int(parts[1]), parts[2], payload, files)
        if parts[0] == "webhooks":  # interaction webhooks authenticate by their token
            return self._webhook(method, parts[2], parts[3:], payload, files)
        if request.headers.get("Authorization") != f"Bot {self.token}":
            raise _Error(401, "401: Unauthorized", 0)
        if path == "/users/@me":
            return 200, bot_user()
        if path == "/oauth2/applications/@me":
            return 200, application_payload()
        if parts[0] == "applications" and method == "PUT":
            key = "global" if parts[2] == "commands" else parts[3]
            self.commands[key] = [{**c, "id": str(self.next_id()), "application_id":
                                   str(APPLICATION_ID), "version": "1"} for c in payload]
            return 200, self.commands[key]
        if parts[0] == "channels" and len(parts) >= 3 and parts[2] == "messages":
            return self._channel(method, int(parts[1]), parts[3:], payload, files)
        if parts[0] == "guilds":
            return self._guild(int(parts[1]), parts[2:])
        raise _Error(404, f"fake Discord has no route {method} {path}", 0)

    def _callback(self, interaction_id: int, token: str, payload: dict[str, Any],
                  files: list[tuple[str, bytes]]) -> tuple[int, Any]:
        record = self.interactions.get(token)
        if record is None or record.id != interaction_id:
            raise _Error(404, "Unknown interaction", 10062)
        if record.response_type is not None:
            raise _Error(400, "Interaction has already been acknowledged.", 40060)
        kind, data = payload["type"], payload.get("data") or {}
        record.response_type = kind
        record.data = data
        message: FakeMessage | None = None
        if kind in (4, 5):  # a new message (5: "thinking…" until edited)
            message = self._new_message(record.channel_id, data, files, token=token)
            record.original_id = message.id
        elif kind in (6, 7) and record.message_id is not None:
            # A component's message: 7 edits it now; after either, `@original` names it.
            record.original_id = record.message_id
            if kind == 7:
                message = self._edit(self.messages[record.message_id], data, files)
        body: dict[str, Any] = {"interaction": {
            "id": str(interaction_id), "type": 2,
            "response_message_id": str(message.id) if message else None,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(message and message.ephemeral)}}
        if message is not None:
            body["resource"] = {"type": kind, "message": self.message_payload(message)}
        return 200, body

    def _webhook(self, method: str, token: str, rest: list[str], payload: Any,
                 files: list[tuple[str, bytes]]) -> tuple[int, Any]:
        record = self.interactions.get(token)
        if record is None:
            raise _Error(404, "Unknown Webhook", 10015)
        if record.expired:
            raise _Error(401, "Invalid Webhook Token", 50027)
        if not rest:  # POST /webhooks/{app}/{token}: a follow-up
            message = self._new_message(record.channel_id, payload, files, token=token)
            return 200, self.message_payload(message)
        target = record.original_id if rest[1] == "@original" else int(rest[1])
        if target is None or target not in self.messages or self.messages[target].deleted:
            raise _Error(404, "Unknown Message", 10008)
        message = self.messages[target]
        return self._act_on(method, message, payload, files)

    def _channel(self, method: str, channel_id: int, rest: list[str], payload: Any,
                 files: list[tuple[str, bytes]]) -> tuple[int, Any]:
        if not rest and method == "POST":
            message = self._new_message(channel_id, payload, files)
            return 200, self.message_payload(message)
        message_id = int(rest[0])
        message = self.messages.get(message_id)
        if message is None or message.deleted or message.channel_id != channel_id:
            raise _Error(404, "Unknown Message", 10008)
        return self._act_on(method, message, payload, files)

    def _guild(self, guild_id: int, rest: list[str]) -> tuple[int, Any]:
        guild = self.guilds.get(guild_id)
        if guild is None:
            raise _Error(404, "Unknown Guild", 10004)
        if not rest:
            return 200, guild
        if rest == ["roles"]:
            return 200, guild["roles"]
        if rest[0] == "members" and len(rest) == 2:
            member = self.members.get((guild_id, int(rest[1])))
            if member is None:
                raise _Error(404, "Unknown Member", 10007)
            return 200, member
        raise _Error(404, "fake Discord has no such guild route", 0)

    # --- messages ------------------------------------------------------------------------------
    def _new_message(self, channel_id: int, data: dict[str, Any],
                     files: list[tuple[str, bytes]], *, token: str | None = None) -> FakeMessage:
        message = FakeMessage(
            id=self.next_id(), channel_id=channel_id, content=data.get("content") or "",
            components=data.get("components") or [], attachments=[],
            flags=int(data.get("flags") or 0), interaction_token=token)
        message.attachments = self._store_attachments(files)
        self.messages[message.id] = message
        self._event("posts", message)
        return message

    def _act_on(self, method: str, message: FakeMessage, payload: Any,
                files: list[tuple[str, bytes]]) -> tuple[int, Any]:
        """DELETE, PATCH or GET one existing message (by webhook or by channel alike)."""
        if method == "DELETE":
            message.deleted = True
            self._event("deletes", message)
            return 204, None
        if method == "PATCH":
            self._edit(message, payload, files)
        return 200, self.message_payload(message)

    def _edit(self, message: FakeMessage, data: dict[str, Any],
              files: list[tuple[str, bytes]]) -> FakeMessage:
        message.history.append(message.content)
        if "content" in data:
            message.content = data["content"] or ""
        if "components" in data:
            message.components = data["components"] or []
        if files:
            message.attachments = self._store_attachments(files)
        elif "attachments" in data and not data["attachments"]:
            message.attachments = []
        if message.content != message.history[-1] or "components" in data:
            self._event("edits", message)
        return message

    def _store_attachments(self, files: list[tuple[str, bytes]]) -> list[dict[str, Any]]:
        return [self.add_file(name, data, _guess_type(name)) for name, data in files]

    def _event(self, verb: str, message: FakeMessage) -> None:
        where = "privately" if message.ephemeral else f"in channel {message.channel_id}"
        text = message.content if verb != "deletes" else ""
        files = "".join(f" [file {a['filename']}, {a['size']} bytes]"
                        for a in message.attachments) if verb == "posts" else ""
        buttons = "".join(f" [{b.get('label')}]" for b in message.buttons()) if verb != \
            "deletes" else ""
        self.events.append((f"bot {verb} message {message.id} {where}",
                            f"{text}{files}{buttons}"))

    def transcript(self) -> str:
        """Every user action and bot message in order, one block each (for docs and debugging)."""
        return "\n\n".join(f"**{who}**" + (f"\n{what}" if what else "")
                             for who, what in self.events)

    def message_payload(self, message: FakeMessage) -> dict[str, Any]:
        return {
            "id": str(message.id), "channel_id": str(message.channel_id), "type": 0,
            "content": message.content, "author": bot_user(), "timestamp": _TIMESTAMP,
            "edited_timestamp": _TIMESTAMP if message.history else None, "tts": False,
            "mention_everyone": False, "mentions": [], "mention_roles": [], "embeds": [],
            "attachments": message.attachments, "pinned": False, "flags": message.flags,
            "components": message.components,
        }


def _safely(predicate: Any) -> Any:
    """A predicate that looks something up before it exists is simply not true yet."""
    try:
        return predicate()
    except (AssertionError, LookupError):
        return None


class _Error(Exception):
    def __init__(self, status: int, message: str, code: int) -> None:
        super().__init__(message)
        self.status, self.message, self.code = status, message, code


async def _read_body(request: web.Request) -> tuple[Any, list[tuple[str, bytes]]]:
    """JSON, or multipart with `payload_json` and file fields `files[n]`."""
    if request.content_type.startswith("multipart/"):
        payload: Any = None
        files: list[tuple[str, bytes]] = []
        reader = await request.multipart()
        async for part in reader:
            if part.name == "payload_json":
                payload = json.loads(await part.text())
            elif part.filename is not None:
                files.append((part.filename, bytes(await part.read())))
        return payload, files
    raw = await request.read()
    return (json.loads(raw) if raw else None), []


def _guess_type(name: str) -> str:
    suffix = name.rsplit(".", 1)[-1].lower()
    return {"mp4": "video/mp4", "png": "image/png", "jpg": "image/jpeg",
            "jpeg": "image/jpeg"}.get(suffix, "application/octet-stream")


def user_payload(user_id: int, name: str, *, bot: bool = False) -> dict[str, Any]:
    return {"id": str(user_id), "username": name, "global_name": name.title(),
            "discriminator": "0", "avatar": None, "bot": bot, "public_flags": 0}


def bot_user() -> dict[str, Any]:
    return {**user_payload(BOT_USER_ID, "vitaphone", bot=True), "verified": True, "flags": 0,
            "mfa_enabled": False}


def application_payload() -> dict[str, Any]:
    return {"id": str(APPLICATION_ID), "name": "Vitaphone", "description": "", "icon": None,
            "bot_public": True, "bot_require_code_grant": False, "verify_key": "0" * 64,
            "owner": user_payload(OWNER_ID, "owner"), "flags": 0, "team": None,
            "summary": "", "rpc_origins": []}


def role_payload(role_id: int, guild_id: int, permissions: int) -> dict[str, Any]:
    return {"id": str(role_id), "name": "@everyone" if role_id == guild_id else f"r{role_id}",
            "color": 0, "hoist": False, "position": 0, "permissions": str(permissions),
            "managed": False, "mentionable": False, "flags": 0}
