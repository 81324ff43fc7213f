"""The Discord flow end to end through the real discord.py (interactions fed to its CommandTree
and view store, REST calls to the fake server) and the real service, queue and pipeline:
/animate -> private consent buttons -> queued -> progress edits of one message -> video posted
in the channel with its caption and Report/Delete -> /verify -> report to the mod log ->
/mod takedown deletes the message -> audit entry."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from conftest import PORTRAIT, assert_taken_down
from discord_harness import DiscordHarness, FakeUser
from fake_discord import EPHEMERAL, FakeDiscord, FakeInteraction, FakeMessage
from sqlalchemy import select

from vitaphone.storage.models import ConsentRecord, Job, Provenance

pytestmark = pytest.mark.slow

MOD_LOG = 800_000_000_000_000_099


async def animate(h: DiscordHarness, user: FakeUser, quote: str = "Imagination rules.",
                  **options) -> FakeInteraction:
    portrait = h.attachment("einstein.jpg", PORTRAIT.read_bytes(), "image/jpeg",
                            width=400, height=500)
    return await h.slash(user, "animate", portrait=portrait, quote=quote, **options)


async def consent_through(h: DiscordHarness, user: FakeUser, interaction: FakeInteraction,
                          who: str = "A public-domain") -> FakeMessage:
    """Answer the private consent step; returns its message (now the progress message)."""
    await h.answered(interaction, 15)
    message = h.original(interaction)
    await h.fake.wait_for(lambda: "who is in the portrait?" in message.content)
    assert message.ephemeral
    await h.press_label(user, message, who)
    await h.fake.wait_for(lambda: message.content.startswith("You agree:"))
    await h.press_label(user, message, "I understand")
    await h.fake.wait_for(lambda: "Make the video?" in message.content)
    await h.press_label(user, message, "Confirm")
    return message


async def test_full_flow(discord_bot: DiscordHarness, fake_discord: FakeDiscord, bot_stack) -> None:
    h = discord_bot
    alice, mod = h.user("alice"), h.user("mod", manage_guild=True)
    setting = await h.slash(mod, "mod settings", setting="modlog", value=str(MOD_LOG))
    await h.answered(setting)
    await fake_discord.wait_for(lambda: f"Mod log: {MOD_LOG}" in h.original(setting).content)

    h.filesize_limit = 8 * 1024 * 1024  # this channel's upload limit: the render's budget
    started = time.monotonic()
    request = await animate(h, alice, emotion="happy", intensity=60)
    await h.answered(request, 3.0)  # Discord's hard limit
    first_reply_s = time.monotonic() - started
    print(f"first reply after {first_reply_s:.2f} s")
    progress = await consent_through(h, alice, request)
    await fake_discord.wait_for(lambda: "(job " in progress.content)
    async with bot_stack.studio.sessions() as session:
        job = (await session.execute(select(Job))).scalar_one()
        consent = await session.get(ConsentRecord, job.consent_id)
        assert consent.basis.value == "public_domain_historical"
        assert consent.created_at <= job.created_at
        assert job.params["size_budget_bytes"] == int(h.filesize_limit * 0.95)

    video = await fake_discord.wait_for(lambda: next(
        (m for m in h.channel_messages() if m.attachments), None), 180)
    assert not video.ephemeral and "AI-generated" in video.content and "Alice" in video.content
    data = h.file_of(video)
    assert data[4:8] == b"ftyp" and len(data) <= h.filesize_limit
    assert [b["label"] for b in video.buttons()] == ["Report", "Delete"]
    # Posted through the /animate interaction's webhook while its token lives.
    assert fake_discord.calls_to("POST", f"/webhooks/") and not fake_discord.calls_to(
        "POST", f"/channels/{h.channel_id}/messages")
    await fake_discord.wait_for(lambda: progress.content.startswith("Done"))
    assert len(progress.history) >= 5 and progress.ephemeral  # one message, edited in place
    assert any("Making your video" in text for text in progress.history)

    # /verify with the posted file attached.
    check = await h.slash(alice, "verify",
                          video=h.attachment("clip.mp4", data, "video/mp4"))
    await fake_discord.wait_for(lambda: job.id in h.original(check).content, 60)
    verdict = h.original(check)
    print(verdict.content)

    # Report button on the public video: a private thank-you, a line in the mod log.
    report = await h.press_label(h.user("bob"), video, "Report")
    await fake_discord.wait_for(lambda: "moderators" in h.original(report).content)
    assert h.original(report).flags & EPHEMERAL
    logged = await fake_discord.wait_for(lambda: fake_discord.visible(MOD_LOG))
    assert job.id in logged[0].content

    # Someone else may not delete it; a moderator takes it down.
    denied = await h.press_label(h.user("carol"), video, "Delete")
    await fake_discord.wait_for(lambda: h.original(denied).content)
    assert not video.deleted
    takedown = await h.slash(mod, "mod takedown", target=job.id, reason="hoax")
    await fake_discord.wait_for(lambda: "Took down" in h.original(takedown).content, 15)
    assert video.deleted
    notice = await fake_discord.wait_for(lambda: next(
        (m for m in fake_discord.visible() if "took down your video" in m.content), None), 15)
    assert "hoax" in notice.content and notice.content.startswith(f"<@{alice.id}>")
    await assert_taken_down(bot_stack, job.id, "hoax")
    if transcript := os.environ.get("VITAPHONE_TEST_DISCORD_TRANSCRIPT"):
        Path(transcript).write_text(fake_discord.transcript() + "\n\n**verdict**\n"
                                    + verdict.content)


async def test_requester_deletes_then_forgets(discord_bot: DiscordHarness,
                                              fake_discord: FakeDiscord, bot_stack) -> None:
    h = discord_bot
    dave = h.user("dave")
    fake_discord.cdn_delay_s = 2.5  # a slow download: the bot defers, then shows the consent step
    request = await animate(h, dave, quote="Hello.")
    assert await h.answered(request, 3.0) == 5
    fake_discord.cdn_delay_s = 0.0
    await consent_through(h, dave, request)
    video = await fake_discord.wait_for(lambda: next(
        (m for m in h.channel_messages() if m.attachments), None), 180)
    status = await h.slash(dave, "status")
    await fake_discord.wait_for(lambda: h.original(status).content)

    delete = await h.press_label(dave, video, "Delete")
    await fake_discord.wait_for(lambda: video.deleted, 15)
    await fake_discord.wait_for(lambda: h.original(delete).content or h.original(delete).deleted)

    forget = await h.slash(dave, "forgetme")
    await h.answered(forget)
    ask = h.original(forget)
    assert ask.ephemeral and "Go ahead?" in ask.content
    await h.press_label(dave, ask, "Yes, forget me")
    await fake_discord.wait_for(lambda: "forgot you" in ask.content, 15)
    async with bot_stack.studio.sessions() as session:
        job = (await session.execute(select(Job))).scalar_one()
        record = (await session.execute(select(Provenance))).scalar_one()
        assert record.taken_down and job.id
    for name in ("help", "emotions", "voices"):
        answer = await h.slash(dave, name)
        await fake_discord.wait_for(lambda: h.original(answer).content)
    assert "neutral, happy" in h.original(answer).content or "Base voices" in \
        h.original(answer).content
    if transcript := os.environ.get("VITAPHONE_TEST_DISCORD_TRANSCRIPT"):
        Path(transcript + ".delete.md").write_text(fake_discord.transcript())
