"""DiscordMessenger through real discord.py against the fake REST server: posting through an
interaction token (ephemeral or public), edits, the channel fallback when the token expires,
videos with persistent buttons, deletes, bounded downloads and the admin check."""

from __future__ import annotations

from pathlib import Path

import discord
import pytest
from discord import app_commands
from discord_harness import DiscordHarness
from fake_discord import EPHEMERAL, FakeDiscord

from vitaphone.bots.contract import Attachment, Button, ChatRef, FileTooLarge, Reply, UserRef
from vitaphone.bots.discord_messenger import DiscordMessenger, token_extra
from vitaphone.bots.contract import MessageRef


@pytest.fixture
async def setup(fake_discord: FakeDiscord):
    client = discord.Client(intents=discord.Intents.none())
    tree = app_commands.CommandTree(client)
    seen: list[discord.Interaction] = []

    @tree.command(description="Start a conversation")
    async def ping(interaction: discord.Interaction) -> None:
        seen.append(interaction)
        await interaction.response.send_message("pong", ephemeral=True)

    await client.login(fake_discord.token)
    messenger = DiscordMessenger(client)
    harness = DiscordHarness(fake_discord, client, tree)
    yield harness, messenger, seen
    await messenger.aclose()
    await client.close()


async def _ref(harness: DiscordHarness, seen: list[discord.Interaction]) -> MessageRef:
    """An ephemeral message of a live interaction, as the adapter would describe it."""
    interaction = await harness.slash(harness.user("dora"), "ping")
    await harness.answered(interaction)
    message = harness.original(interaction)
    return MessageRef("discord", str(harness.channel_id), str(message.id),
                      token_extra(seen[-1], webhook_message="@original", ephemeral=True))


def _chat(harness: DiscordHarness) -> ChatRef:
    return ChatRef("discord", str(harness.channel_id), guild_id=str(harness.guild_id))


async def test_edits_and_followups_go_through_the_token(setup, fake_discord: FakeDiscord) -> None:
    harness, messenger, seen = setup
    ref = await _ref(harness, seen)
    edited = await messenger.edit_text(ref, Reply("Queued: 1st in line.", (
        (Button("Cancel", "cancel:j1", "danger"),),)))
    assert edited == ref
    message = fake_discord.messages[int(ref.message_id)]
    assert message.content == "Queued: 1st in line." and message.ephemeral
    assert [b["custom_id"] for b in message.buttons()] == ["vp:cancel:j1"]
    followup = await messenger.send_text(_chat(harness), Reply("psst", private=True),
                                         reply_to=ref)
    assert fake_discord.messages[int(followup.message_id)].flags & EPHEMERAL
    await messenger.edit_text(followup, Reply("psst, edited"))
    assert fake_discord.messages[int(followup.message_id)].content == "psst, edited"
    assert harness.channel_messages() == []


async def test_expired_token_falls_back_to_the_channel(setup, fake_discord: FakeDiscord,
                                                       tmp_path: Path) -> None:
    harness, messenger, seen = setup
    ref = await _ref(harness, seen)
    fake_discord.expire_token(ref.extra["token"])  # Discord's answer after 15 minutes
    moved = await messenger.edit_text(ref, Reply("Rendering: 50 %"))
    assert moved.message_id != ref.message_id
    public = harness.channel_messages()
    assert [m.content for m in public] == [f"<@{ref.extra['user_id']}> Rendering: 50 %"]
    await messenger.edit_text(moved, Reply("Rendering: 90 %"))
    assert public[0].content == f"<@{ref.extra['user_id']}> Rendering: 90 %"

    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x00" * 100)
    posted = await messenger.send_video(_chat(harness), video, "AI-generated video",
                                        buttons=((Button("Report", "report:j1"),),),
                                        reply_to=ref)
    assert fake_discord.calls_to("POST", f"/channels/{harness.channel_id}/messages")
    message = fake_discord.messages[int(posted.message_id)]
    assert message.attachments[0]["filename"] == "clip.mp4" and not message.ephemeral
    assert await messenger.delete_message(posted) is True
    assert await messenger.delete_message(posted) is False


async def test_video_goes_through_a_live_token_and_public(setup, fake_discord: FakeDiscord,
                                                         tmp_path: Path) -> None:
    harness, messenger, seen = setup
    ref = await _ref(harness, seen)
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x01" * 64)
    posted = await messenger.send_video(_chat(harness), video, "caption", reply_to=ref)
    assert fake_discord.calls_to("POST", f"/webhooks/") and not fake_discord.calls_to(
        "POST", f"/channels/{harness.channel_id}/messages")
    assert [m.id for m in harness.channel_messages()] == [int(posted.message_id)]
    assert await messenger.delete_message(posted) is True  # by channel, as a takedown would
    assert harness.channel_messages() == []


async def test_download_stops_at_the_limit(setup, fake_discord: FakeDiscord) -> None:
    harness, messenger, _ = setup
    payload = harness.attachment("face.png", b"p" * 5000, "image/png")
    att = Attachment("discord", payload["url"], "image", "face.png", "image/png", 5000)
    assert await messenger.download(att, 5000) == b"p" * 5000
    with pytest.raises(FileTooLarge):
        await messenger.download(att, 4999)


async def test_admin_check_from_interaction_and_from_rest(setup, fake_discord: FakeDiscord) -> None:
    harness, messenger, seen = setup
    mod, member = harness.user("mod", manage_guild=True), harness.user("member")
    chat = _chat(harness)
    # No interaction seen yet: the guild's roles decide (REST).
    assert await messenger.is_chat_admin(chat, UserRef("discord", str(mod.id))) is True
    assert await messenger.is_chat_admin(chat, UserRef("discord", str(member.id))) is False
    interaction = await harness.slash(member, "ping")
    await harness.answered(interaction)
    messenger.remember_permissions(seen[-1])
    calls = len(fake_discord.calls)
    assert await messenger.is_chat_admin(chat, UserRef("discord", str(member.id))) is False
    assert len(fake_discord.calls) == calls  # answered from the interaction's permissions
    dm = ChatRef("discord", "1", is_private=True)
    assert await messenger.is_chat_admin(dm, UserRef("discord", str(mod.id))) is False


async def test_a_token_past_its_15_minutes_is_not_tried(setup, fake_discord: FakeDiscord,
                                                        tmp_path: Path) -> None:
    harness, messenger, seen = setup
    ref = await _ref(harness, seen)
    messenger.clock = lambda: ref.extra["expires_at"] - 30  # inside the upload margin
    video = tmp_path / "clip.mp4"
    video.write_bytes(b"\x02" * 64)
    calls = len(fake_discord.calls)
    await messenger.send_video(_chat(harness), video, "caption", reply_to=ref)
    assert [c.path for c in fake_discord.calls[calls:]] == [
        f"/channels/{harness.channel_id}/messages"]
