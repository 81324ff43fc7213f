"""Drive a real discord.py client against `FakeDiscord`, as the gateway would.

discord.py's HTTP goes to the fake (`Route.BASE` pointed at it by `point_discord_at`); the
client logs in for real (`GET /users/@me`, `/oauth2/applications/@me`); interactions are fed
as raw INTERACTION_CREATE payloads to `ConnectionState.parse_interaction_create`, so the real
`CommandTree` parses options (attachments resolved) and the real view store routes button
presses (persistent custom_ids included). Option types come from the tree's own command
definitions, so a test passes plain values: `await h.slash(alice, "animate", portrait=att,
quote="Hi")`, `await h.slash(mod, "mod takedown", job="…", reason="…")`.
"""

from __future__ import annotations

import itertools
import secrets
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands
from fake_discord import (APPLICATION_ID, FakeDiscord, FakeInteraction, FakeMessage,
                          _TIMESTAMP, user_payload)

GUILD_ID = 800_000_000_000_000_001
CHANNEL_ID = 800_000_000_000_000_002
DEFAULT_FILESIZE_LIMIT = 10 * 1024 * 1024
_user_ids = itertools.count(700_000_000_000_000_001)


def point_discord_at(fake: FakeDiscord, monkeypatch: Any) -> None:
    """Every discord.py REST call (the client's and the interaction webhook's) goes to `fake`."""
    monkeypatch.setattr(discord.http.Route, "BASE", fake.base_url)


@dataclass(frozen=True)
class FakeUser:
    id: int
    name: str
    permissions: discord.Permissions

    def payload(self) -> dict[str, Any]:
        return user_payload(self.id, self.name)


class DiscordHarness:
    """One guild with one text channel; users act through `slash` and `press`."""

    def __init__(self, fake: FakeDiscord, client: discord.Client, tree: app_commands.CommandTree,
                 *, guild_id: int = GUILD_ID, channel_id: int = CHANNEL_ID) -> None:
        self.fake, self.client, self.tree = fake, client, tree
        self.guild_id, self.channel_id = guild_id, channel_id
        self.filesize_limit = DEFAULT_FILESIZE_LIMIT
        if guild_id not in fake.guilds:
            fake.add_guild(guild_id)

    def user(self, name: str, *, manage_guild: bool = False) -> FakeUser:
        """A guild member; `manage_guild` gives a moderator's permissions (role and payload)."""
        perms = discord.Permissions(send_messages=True, read_messages=True, attach_files=True,
                                    use_application_commands=True, manage_guild=manage_guild)
        user = FakeUser(next(_user_ids), name, perms)
        role_id = self.fake.next_id()
        self.fake.guilds[self.guild_id]["roles"].append(
            {**self.fake.guilds[self.guild_id]["roles"][0], "id": str(role_id),
             "name": f"{name}-role", "permissions": str(perms.value)})
        self.fake.add_member(self.guild_id, user.payload(), [role_id])
        return user

    def attachment(self, filename: str, data: bytes, content_type: str, **extra: Any
                   ) -> dict[str, Any]:
        return self.fake.add_file(filename, data, content_type, **extra)

    # --- events ------------------------------------------------------------------------------
    async def slash(self, user: FakeUser, command: str, /, **options: Any) -> FakeInteraction:
        """Invoke `/command [sub] option:value …`; returns once discord.py has dispatched it
        (the handler runs as a task: wait on `fake` for its effects)."""
        names = command.split()
        found: Any = self.tree.get_command(names[0])
        if found is None:
            raise LookupError(f"no command /{names[0]}")
        for name in names[1:]:
            found = found.get_command(name)
        resolved: dict[str, dict[str, Any]] = {}
        data_options = [self._option(found, key, value, resolved)
                        for key, value in options.items() if value is not None]
        shown = " ".join(f"{k}:{v['filename'] if isinstance(v, dict) else getattr(v, 'name', v)}"
                         for k, v in options.items() if v is not None)
        self.fake.events.append((f"{user.name} types", f"/{command} {shown}".strip()))
        for name in reversed(names[1:]):
            data_options = [{"type": 1, "name": name, "options": data_options}]
        data = {"id": str(self.fake.next_id()), "name": names[0], "type": 1,
                "options": data_options}
        if resolved:
            data["resolved"] = resolved
        return self._dispatch(user, 2, data)

    async def autocomplete(self, user: FakeUser, command: str, option: str, typed: str
                           ) -> FakeInteraction:
        """The user is typing `typed` into `option` of a top-level command (type 4)."""
        found: Any = self.tree.get_command(command)
        kind = found._params[option].type.value
        data = {"id": str(self.fake.next_id()), "name": command, "type": 1, "options": [
            {"type": kind, "name": option, "value": typed, "focused": True}]}
        return self._dispatch(user, 4, data)

    async def press(self, user: FakeUser, message: FakeMessage, custom_id: str
                    ) -> FakeInteraction:
        """Click the button `custom_id` on `message` (it must be there and enabled)."""
        button = next((b for b in message.buttons() if b.get("custom_id") == custom_id), None)
        if button is None:
            raise LookupError(f"no button {custom_id!r} on message {message.id}: "
                              f"{[b.get('custom_id') for b in message.buttons()]}")
        if button.get("disabled"):
            raise LookupError(f"button {custom_id!r} is disabled")
        data = {"custom_id": custom_id, "component_type": 2}
        self.fake.events.append((f"{user.name} presses", f"[{button.get('label')}] on message "
                                                         f"{message.id}"))
        return self._dispatch(user, 3, data, message=message)

    async def press_label(self, user: FakeUser, message: FakeMessage, label: str
                          ) -> FakeInteraction:
        """Click the button whose label starts with `label`."""
        found = [b for b in message.buttons() if b.get("label", "").startswith(label)]
        if not found:
            raise LookupError(f"no button {label!r} on message {message.id}: "
                              f"{[b.get('label') for b in message.buttons()]}")
        return await self.press(user, message, found[0]["custom_id"])

    def _option(self, command: app_commands.Command[Any, ..., Any], name: str, value: Any,
                resolved: dict[str, dict[str, Any]]) -> dict[str, Any]:
        """One option payload; attachments, users and channels also go into `resolved`."""
        param = command._params[name]
        kind = param.type
        if kind is discord.AppCommandOptionType.attachment:
            resolved.setdefault("attachments", {})[value["id"]] = value
            value = value["id"]
        elif kind is discord.AppCommandOptionType.user:  # a FakeUser
            resolved.setdefault("users", {})[str(value.id)] = value.payload()
            value = str(value.id)
        elif kind is discord.AppCommandOptionType.channel:  # a channel id in this guild
            resolved.setdefault("channels", {})[str(value)] = {
                "id": str(value), "type": 0, "name": "mod-log", "permissions": "0"}
            value = str(value)
        return {"type": kind.value, "name": name, "value": value}

    def _dispatch(self, user: FakeUser, kind: int, data: dict[str, Any], *,
                  message: FakeMessage | None = None) -> FakeInteraction:
        interaction_id, token = self.fake.next_id(), secrets.token_urlsafe(24)
        self.fake.register_interaction(interaction_id, token, self.channel_id,
                                       message.id if message else None)
        payload: dict[str, Any] = {
            "id": str(interaction_id), "application_id": str(APPLICATION_ID), "type": kind,
            "token": token, "version": 1, "guild_id": str(self.guild_id),
            "channel_id": str(self.channel_id),
            "channel": {"id": str(self.channel_id), "type": 0, "guild_id": str(self.guild_id),
                        "name": "general", "position": 0, "permission_overwrites": [],
                        "nsfw": False, "parent_id": None},
            "member": {"user": user.payload(), "roles": [], "joined_at": _TIMESTAMP,
                       "deaf": False, "mute": False, "flags": 0,
                       "permissions": str(user.permissions.value)},
            "app_permissions": str(discord.Permissions(send_messages=True, attach_files=True,
                                                       read_messages=True).value),
            "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
            "authorizing_integration_owners": {"0": str(self.guild_id)}, "context": 0,
            "attachment_size_limit": self.filesize_limit, "data": data,
        }
        if message is not None:
            payload["message"] = self.fake.message_payload(message)
        self.client._connection.parse_interaction_create(payload)
        return self.fake.interactions[token]

    # --- reading what users see --------------------------------------------------------------
    async def answered(self, interaction: FakeInteraction, timeout_s: float = 10.0) -> int:
        """Wait until the interaction got its callback; returns the callback type."""
        await self.fake.wait_for(lambda: interaction.response_type is not None, timeout_s)
        assert interaction.response_type is not None
        return interaction.response_type

    def original(self, interaction: FakeInteraction) -> FakeMessage:
        assert interaction.original_id is not None, "the interaction has no message"
        return self.fake.messages[interaction.original_id]

    def file_of(self, message: FakeMessage, index: int = 0) -> bytes:
        """The bytes of a posted attachment, as the CDN serves them."""
        url = message.attachments[index]["url"]
        return self.fake.files[url.rsplit("/", 1)[-1]][0]

    def channel_messages(self) -> list[FakeMessage]:
        """What everyone in the channel sees: messages not deleted and not ephemeral."""
        return [m for m in self.fake.visible(self.channel_id) if not m.ephemeral]


async def start_discord(stack: Any, fake: FakeDiscord) -> DiscordHarness:
    """The real adapter logged in to `fake` for `stack.service` (tests/bots/conftest.py), the
    service started: what `vitaphone bot discord` does, minus the gateway."""
    from vitaphone.bots.discord import build_discord_bot

    bot = build_discord_bot(stack.service)
    await bot.login(fake.token)
    await stack.service.start()
    return DiscordHarness(fake, bot, bot.tree)
