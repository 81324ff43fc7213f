"""The Telegram flow end to end through the real python-telegram-bot and the fake Bot API:
photo + quote -> consent buttons -> queued -> progress edits -> video posted with caption ->
/verify -> report -> admin takedown deletes the message -> audit entry. On SQLite (the embedded
default) and on PostgreSQL."""

from __future__ import annotations

import pytest
from conftest import (PORTRAIT, assert_taken_down, close_stack, open_stack, start_telegram,
                      stop_telegram)
from sqlalchemy import select
from telegram_steps import consent_through

from vitaphone.storage.models import ConsentRecord, Job

pytestmark = pytest.mark.slow

USER, ADMIN, GROUP = 501, 9000, -100200


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def flow_database(request: pytest.FixtureRequest) -> str | None:
    """None: the embedded SQLite default. PostgreSQL: a scratch database of this test's own
    (not the session's shared one: the in-process queue renders every queued job it finds)."""
    return None if request.param == "sqlite" else request.getfixturevalue("fresh_postgres_url")


@pytest.fixture
async def flow_stack(flow_database: str | None, fake_telegram):
    extra = {"database_url": flow_database} if flow_database else {}
    stack = await open_stack(device="cpu", admins="telegram:9000", **extra)
    app = await start_telegram(stack, fake_telegram)
    try:
        yield stack
    finally:
        await stop_telegram(app)
        await close_stack(stack)


async def test_private_chat_full_flow(flow_stack, flow_database, fake_telegram) -> None:
    fake, bot_stack = fake_telegram, flow_stack
    async with bot_stack.studio.sessions() as session:  # the database this run is about
        assert session.bind.dialect.name == ("sqlite" if flow_database is None else "postgresql")
    user, chat = fake.user(USER), fake.chat(USER)
    photo = fake.message(user, chat, photo=PORTRAIT.read_bytes(), caption="Imagination rules.")
    fake.push(photo)
    await consent_through(fake, user, USER)
    queued = await fake.wait_for_text(USER, "(job ")
    # The consent record exists before (and is referenced by) the job.
    async with bot_stack.studio.sessions() as session:
        job = (await session.execute(select(Job))).scalar_one()
        consent = await session.get(ConsentRecord, job.consent_id)
        assert consent is not None and consent.basis.value == "public_domain_historical"
        assert consent.created_at <= job.created_at
    video = await fake.wait_for(
        lambda: next((m for m in fake.sent_to(USER) if m.video), None), 120, "the video")
    assert video.video[4:8] == b"ftyp" and "AI-generated" in video.caption
    assert video.reply_to == photo["message_id"]
    send = fake.calls_of("sendVideo")[0]
    assert str(send.params["supports_streaming"]).lower() == "true"
    assert [b["text"] for b in video.buttons[0]] == ["Report", "Delete"]
    # One progress message, edited in place, ends with "Done" (edited just after the post).
    await fake.wait_for(lambda: queued.text.startswith("Done"), 10, "progress says done")
    assert queued.edits >= 2

    # /verify: the posted file, captioned /verify.
    fake.push(fake.message(user, chat, video=video.video, caption="/verify"))
    verdict = await fake.wait_for(lambda: next(
        (m for m in fake.sent_to(USER) if m.text and m.message_id > video.message_id), None),
        60, "the verdict")
    print(verdict.text)
    assert job.id in verdict.text

    # Report: the button on the video answers in a pop-up and files a report.
    fake.press(user, video, "Report")
    answer = await fake.wait_for(lambda: [c for c in fake.calls_of("answerCallbackQuery")
                                          if c.params.get("text")], 10, "report pop-up")
    assert "moderators" in answer[-1].params["text"]

    # An owner takes it down from the same chat: the video message is deleted.
    admin = fake.user(ADMIN, "Mod")
    fake.push(fake.message(admin, fake.chat(ADMIN), text=f"/mod takedown {job.id} hoax"))
    await fake.wait_for(lambda: video.deleted, 10, "the video deleted")
    notice = await fake.wait_for_text(USER, "took down your video", 10)
    assert "hoax" in notice.text
    await assert_taken_down(bot_stack, job.id, "hoax")
