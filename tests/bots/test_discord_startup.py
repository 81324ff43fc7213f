"""Discord start-up: a missing or rejected token is one clear line (ConfigError, which the CLI
prints and exits non-zero on); a good token logs in, syncs the commands with /mod hidden from
non-moderators, and never shows the token."""

from __future__ import annotations

from pathlib import Path

import pytest
from fake_discord import FakeDiscord

from vitaphone.bots.discord import login_discord
from vitaphone.bots.service import BotService
from vitaphone.config import load_settings
from vitaphone.core.errors import ConfigError


def _service(tmp_path: Path, token: str | None) -> BotService:
    settings = load_settings(env_file=None, data_dir=tmp_path, discord_token=token)
    # Logging in touches neither the studio nor the queue.
    return BotService(settings, studio=None, queue=None)  # type: ignore[arg-type]


async def test_missing_token_is_one_line(tmp_path: Path) -> None:
    service = _service(tmp_path, None)
    with pytest.raises(ConfigError) as raised:
        await login_discord(service.settings, service)
    assert str(raised.value).startswith("VITAPHONE_DISCORD_TOKEN is not set.")
    assert "\n" not in str(raised.value)


async def test_rejected_token_is_one_line_without_the_token(fake_discord: FakeDiscord,
                                                            tmp_path: Path) -> None:
    service = _service(tmp_path, "bad-token-123")
    with pytest.raises(ConfigError) as raised:
        await login_discord(service.settings, service)
    text = str(raised.value)
    assert text.startswith("Discord rejected VITAPHONE_DISCORD_TOKEN.")
    assert "bad-token-123" not in text and "\n" not in text
    assert fake_discord.calls[-1].path == "/users/@me" and fake_discord.calls[-1].status == 401


async def test_good_token_logs_in_and_syncs_commands(fake_discord: FakeDiscord,
                                                     tmp_path: Path) -> None:
    service = _service(tmp_path, fake_discord.token)
    bot = await login_discord(service.settings, service)
    try:
        assert service.messengers["discord"] is bot.messenger
        synced = {c["name"]: c for c in fake_discord.commands["global"]}
        assert set(synced) == {"animate", "verify", "status", "cancel", "help", "emotions",
                               "voices", "forgetme", "report", "mod"}
        assert int(synced["mod"]["default_member_permissions"]) == 1 << 5  # Manage Server
        options = {o["name"]: o for o in synced["animate"]["options"]}
        assert options["portrait"]["type"] == 11 and options["portrait"]["required"]
        assert [c["value"] for c in options["emotion"]["choices"]] == [
            "neutral", "happy", "sad", "angry", "surprised", "fear", "disgust", "contempt"]
        assert options["intensity"]["min_value"] == 0 and options["intensity"]["max_value"] == 100
        assert options["language"]["autocomplete"] is True
        assert {o["name"] for o in synced["mod"]["options"]} == {
            "queue", "approve", "reject", "takedown", "ban", "unban", "audit", "settings",
            "stats"}
    finally:
        await bot.close()


async def test_language_autocomplete(fake_discord: FakeDiscord, tmp_path: Path) -> None:
    from discord_harness import DiscordHarness

    service = _service(tmp_path, fake_discord.token)
    bot = await login_discord(service.settings, service, sync_commands=False)
    try:
        h = DiscordHarness(fake_discord, bot, bot.tree)
        typing = await h.autocomplete(h.user("ann"), "animate", "language", "ge")
        assert await h.answered(typing) == 8
        assert typing.data == {"choices": [{"name": "German (de)", "value": "de"}]}
    finally:
        await bot.close()
