"""Discord refusals through the real discord.py and service: each is one private sentence saying
what to do, comes before the queue, and leaves no job behind. Cancel;
a bad portrait (too large by its claim or by its bytes, not an image, no face); text too long;
an unsupported language; a bad voice sample; a non-moderator's /mod; a banned user; the hourly
quota; a review-required channel holding the job for a moderator, who rejects it; /cancel."""

from __future__ import annotations

import time

from conftest import ASSETS, PORTRAIT
from discord_harness import DiscordHarness, FakeUser
from fake_discord import FakeInteraction
from sample_images import gradient_png
from sqlalchemy import func, select

from vitaphone.storage.models import ConsentRecord, Job

MB = 1024 * 1024


async def answer_of(h: DiscordHarness, interaction: FakeInteraction, timeout_s: float = 15) -> str:
    """The private answer the user sees (after any "thinking…")."""
    await h.fake.wait_for(lambda: h.original(interaction).content, timeout_s)
    message = h.original(interaction)
    assert message.ephemeral, f"not private: {message.content}"
    assert "Something went wrong" not in message.content, message.content
    return message.content


async def jobs(stack) -> int:
    async with stack.studio.sessions() as session:
        return (await session.execute(select(func.count()).select_from(Job))).scalar_one()


def portrait(h: DiscordHarness, data: bytes | None = None, name: str = "face.jpg",
             content_type: str = "image/jpeg", **extra) -> dict:
    return h.attachment(name, PORTRAIT.read_bytes() if data is None else data, content_type,
                        **extra)


async def test_bad_requests_are_refused_in_one_sentence(discord_bot: DiscordHarness,
                                                        bot_stack) -> None:
    h = discord_bot
    alice = h.user("alice")
    cases = [
        ("claimed too large", dict(portrait=portrait(h, size=11 * MB), quote="Hi there."),
         "the limit is 10 MB"),
        ("not an image", dict(portrait=portrait(h, b"%PDF-1.4 ...", "face.pdf",
                                                "application/pdf"), quote="Hi there."),
         "not a photo"),
        ("no face", dict(portrait=portrait(h, gradient_png(), "sky.png", "image/png"),
                         quote="Hi there."), "face"),
        ("text too long", dict(portrait=portrait(h), quote="word " * 80), "the limit is 300"),
        ("unsupported language", dict(portrait=portrait(h), quote="Hi there.",
                                      language="qq"), "cannot speak the language"),
        ("voice sample not audio", dict(portrait=portrait(h), quote="Hi there.",
                                        voice=portrait(h, name="me.jpg")), "voice sample"),
        ("recording not audio", dict(portrait=portrait(h), audio=h.attachment(
            "talk.txt", (ASSETS / "ATTRIBUTION.md").read_bytes(), "text/plain")), "not audio"),
    ]
    for name, options, expected in cases:
        started = time.monotonic()
        interaction = await h.slash(alice, "animate", **options)
        text = await answer_of(h, interaction)
        took_s = time.monotonic() - started
        assert expected in text, f"{name}: {text}"
        assert took_s < 5, f"{name}: refused after {took_s:.1f} s"
        assert h.original(interaction).buttons() == [], name
        print(f"{name}: {took_s:.2f} s: {text}")
    # Refused on its claim: the 11 MB and PDF files were never downloaded.
    assert not [c for c in h.fake.calls if c.path.startswith("/cdn/") and
                c.path.endswith(("face.pdf",))]
    assert await jobs(bot_stack) == 0


async def test_portrait_larger_than_it_claims_stops_at_the_limit(discord_bot: DiscordHarness,
                                                                 bot_stack) -> None:
    h = discord_bot
    liar = portrait(h, b"\xff\xd8\xff" + b"\x00" * (11 * MB), size=1000)
    text = await answer_of(h, await h.slash(h.user("liar"), "animate", portrait=liar,
                                            quote="Hi there."))
    assert "MB" in text and "limit" in text
    assert await jobs(bot_stack) == 0


async def test_cancel_keeps_nothing(discord_bot: DiscordHarness, bot_stack) -> None:
    h = discord_bot
    # (Only the requester sees the private consent step, so nobody else can press it.)
    alice = h.user("alice")
    request = await h.slash(alice, "animate", portrait=portrait(h), quote="Hello.")
    await answer_of(h, request)
    step = h.original(request)
    await h.press_label(alice, step, "This is me")
    await h.fake.wait_for(lambda: step.content.startswith("You agree:"))
    await h.press_label(alice, step, "Cancel")
    await h.fake.wait_for(lambda: step.content.startswith("Cancelled"))
    assert step.buttons() == []
    async with bot_stack.studio.sessions() as session:
        assert (await session.execute(select(func.count()).select_from(ConsentRecord))
                ).scalar_one() == 0
    assert await jobs(bot_stack) == 0


async def consent(h: DiscordHarness, user: FakeUser, request: FakeInteraction) -> str:
    await answer_of(h, request)
    step = h.original(request)
    for label, then in (("This is me", "You agree:"), ("I understand", "Make the video?"),
                        ("Confirm", "(job ")):
        await h.press_label(user, step, label)
        await h.fake.wait_for(lambda: then in step.content)
    return step.content


async def test_moderation_refusals_review_and_quota(discord_bot: DiscordHarness, bot_stack) -> None:
    h = discord_bot
    alice, mallory = h.user("alice"), h.user("mallory")
    mod = h.user("mod", manage_guild=True)
    # Without Manage Server, /mod is refused in code (Discord hides it; a client may not).
    assert "administrators" in await answer_of(h, await h.slash(alice, "mod queue"))

    for setting, value in (("review", "on"), ("rate", "1 10")):
        text = await answer_of(h, await h.slash(mod, "mod settings", setting=setting,
                                                value=value))
    assert "Review required: on" in text and "per user per hour: 1" in text

    # Review required: the job waits for a moderator instead of rendering.
    held = await consent(h, alice, await h.slash(alice, "animate", portrait=portrait(h),
                                                 quote="Hold me."))
    assert "Waiting for a moderator" in held
    job_id = held.split("(job ")[1].rstrip(").")
    assert job_id in await answer_of(h, await h.slash(mod, "mod queue"))
    # The hourly quota counts it: a second request is refused before the consent step.
    again = await answer_of(h, await h.slash(alice, "animate", portrait=portrait(h),
                                             quote="Again."))
    assert "the limit is 1 an hour" in again
    rejected = await answer_of(h, await h.slash(mod, "mod reject", job=job_id,
                                                reason="not today"))
    assert job_id in rejected
    async with bot_stack.studio.sessions() as session:
        job = await session.get(Job, job_id)
        assert job.state.value == "rejected"

    # A held job can be cancelled by its requester with /cancel.
    erin = h.user("erin")
    held = await consent(h, erin, await h.slash(erin, "animate", portrait=portrait(h),
                                                quote="Never mind."))
    erins = held.split("(job ")[1].rstrip(").")
    assert erins in await answer_of(h, await h.slash(erin, "cancel"))
    async with bot_stack.studio.sessions() as session:
        assert (await session.get(Job, erins)).state.value == "cancelled"

    # A banned user is refused politely, before anything is downloaded.
    # (The service bans only users it has seen: Mallory asked once before.)
    await answer_of(h, await h.slash(mallory, "animate", portrait=portrait(h), quote="x" * 400))
    assert "Banned" in await answer_of(h, await h.slash(mod, "mod ban", user=mallory,
                                                        reason="spam"))
    downloads = len([c for c in h.fake.calls if c.path.startswith("/cdn/")])
    refused = await answer_of(h, await h.slash(mallory, "animate", portrait=portrait(h),
                                               quote="Let me."))
    assert "not allowed to make videos here" in refused
    assert len([c for c in h.fake.calls if c.path.startswith("/cdn/")]) == downloads
    assert await jobs(bot_stack) == 2
