"""The Discord bot restarted while a job renders, and down for longer than an interaction token
lives: the new process (new discord.py client, service, queue, same database) resumes the job
and delivers it once, through the channel since the tokens are dead; a third start posts
nothing more."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from conftest import PORTRAIT, close_stack, open_stack
from discord_harness import DiscordHarness, start_discord
from fake_discord import FakeDiscord
from sqlalchemy import select

from vitaphone.storage.models import Job
from vitaphone.storage.states import JobState

pytestmark = pytest.mark.slow


async def job_state(stack) -> tuple[str, JobState] | None:
    async with stack.studio.sessions() as session:
        job = (await session.execute(select(Job))).scalar_one_or_none()
        return (job.id, job.state) if job else None


def videos(h: DiscordHarness) -> list:
    """Every video ever posted, deleted or not."""
    return [m for m in h.fake.messages.values() if m.attachments and not m.ephemeral]


async def test_restart_while_rendering_delivers_once(fake_discord: FakeDiscord) -> None:
    stack = await open_stack(device="cpu")
    h = await start_discord(stack, fake_discord)
    alice = h.user("alice")
    try:
        request = await h.slash(alice, "animate", quote="We meet again.", portrait=h.attachment(
            "einstein.jpg", PORTRAIT.read_bytes(), "image/jpeg"))
        await h.answered(request, 15)
        step = h.original(request)
        for label, then in (("A public-domain", "You agree:"),
                            ("I understand", "Make the video?"), ("Confirm", "(job ")):
            await h.press_label(alice, step, label)
            await fake_discord.wait_for(lambda: then in step.content)
        for _ in range(600):
            found = await job_state(stack)
            if found and found[1] is JobState.RUNNING:
                break
            await asyncio.sleep(0.02)
        assert found is not None and found[1] is JobState.RUNNING, found
    finally:  # the process goes away mid-render
        await h.client.close()
        await close_stack(stack)
    assert videos(h) == []
    for token in list(fake_discord.interactions):
        fake_discord.expire_token(token)  # down for more than 15 minutes

    stack = await open_stack(device="cpu")
    h = await start_discord(stack, fake_discord)
    try:
        video = await fake_discord.wait_for(lambda: videos(h), 180)
        assert len(video) == 1 and "AI-generated" in video[0].content
        assert video[0].channel_id == h.channel_id
        assert fake_discord.calls_to("POST", f"/channels/{h.channel_id}/messages")
        # The private progress message could not be edited any more: a channel message
        # naming Alice took its place and ends with "Done".
        await fake_discord.wait_for(lambda: [m for m in h.channel_messages()
                                             if m.content.startswith(f"<@{alice.id}> Done")], 30)
        assert (await job_state(stack))[1] is JobState.DONE
    finally:
        await h.client.close()
        await close_stack(stack)
    if transcript := os.environ.get("VITAPHONE_TEST_DISCORD_TRANSCRIPT"):
        Path(transcript).write_text(fake_discord.transcript())

    stack = await open_stack(device="cpu")
    h = await start_discord(stack, fake_discord)
    try:
        await asyncio.sleep(1.0)  # several delivery sweeps (every 0.2 s)
        assert len(videos(h)) == 1
    finally:
        await h.client.close()
        await close_stack(stack)
