"""/help, /emotions, /status and /cancel through the real python-telegram-bot and the fake
Bot API: what a user reads, and a queued and a running job cancelled."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from telegram_steps import job_of, request, transcript

from vitaphone.bots.wording import EMOTIONS
from vitaphone.core.speech.voice_names import DEFAULT_ENGLISH_VOICE, HUMAN_VOICE_NAMES
from vitaphone.storage.models import Job

USER = 801
# Long enough (~15 s of speech) that the job is still running when /cancel arrives; a working
# cancel cuts it short, so it costs a second or two of rendering, not the whole video.
LONG_QUOTE = ("Imagination is more important than knowledge, for knowledge is limited to all "
              "we now know and understand, while imagination embraces the entire world, and "
              "all there ever will be to know and understand.")


async def _ask(fake, text: str, chat_id: int = USER) -> str:
    """Send a command in the private chat; the text of the bot's answer to it."""
    before = len(fake.sent_to(chat_id))
    fake.push(fake.message(fake.user(USER), fake.chat(chat_id), text=text))
    return (await fake.wait_for(lambda: fake.sent_to(chat_id)[before:], 20,
                                f"an answer to {text}"))[0].text


async def test_help_names_the_default_voice(telegram_bot, fake_telegram) -> None:
    text = await _ask(fake_telegram, "/help")
    print(text)
    default = HUMAN_VOICE_NAMES[DEFAULT_ENGLISH_VOICE]
    assert f"the base voice \"{default}\"" in text
    for command in ("/status", "/cancel", "/emotions", "/voices", "/verify", "/report",
                    "/forgetme"):
        assert command in text
    assert await _ask(fake_telegram, "/start") == text  # a new user's first tap is /start


async def test_emotions_lists_all_eight(telegram_bot, fake_telegram) -> None:
    text = await _ask(fake_telegram, "/emotions")
    print(text)
    assert all(emotion in text for emotion in EMOTIONS) and "0-100" in text
    assert (await _ask(fake_telegram, "/voices")).count("•") == len(HUMAN_VOICE_NAMES)


async def test_status_and_cancel_nothing(telegram_bot, fake_telegram) -> None:
    assert await _ask(fake_telegram, "/status") == "You have no videos in progress."
    assert await _ask(fake_telegram, "/cancel") == "You have no video in progress to cancel."
    assert (await _ask(fake_telegram, "/cancel 123abc")
            == "You have no video in progress to cancel with that id.")


@pytest.mark.slow
async def test_status_then_cancel_a_queued_and_a_running_job(telegram_bot, fake_telegram,
                                                            bot_stack) -> None:
    """The in-process queue runs one job at a time: the first runs while the second waits."""
    fake = fake_telegram
    user, chat = fake.user(USER), fake.chat(USER)
    _, running = await request(fake, user, chat, LONG_QUOTE)
    _, queued = await request(fake, user, chat, "Hello there.")
    await fake.wait_for(lambda: running.text.startswith("Making your video"), 30, "running")
    assert queued.text.startswith("Queued: number 1 in the queue"), queued.text
    first, second = job_of(running), job_of(queued)

    status = await _ask(fake, "/status")
    print(status)
    lines = status.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("Making your video") and first in lines[0]
    assert lines[1] == f"Queued: number 1 in the queue (job {second})."

    # /cancel alone stops the latest (the queued one); /cancel JOB the running one.
    assert await _ask(fake, "/cancel") == f"Cancelling job {second}."
    assert await _ask(fake, f"/cancel {first}") == f"Cancelling job {first}."
    for progress, job_id in ((queued, second), (running, first)):
        await fake.wait_for(lambda p=progress: p.text.startswith("Cancelled"), 30, "cancelled")
        assert progress.text == f"Cancelled: no video will be made (job {job_id})."
    async with bot_stack.studio.sessions() as session:
        states = {j.id: j.state.value for j in (await session.execute(select(Job))).scalars()}
    assert states == {first: "cancelled", second: "cancelled"}
    assert await _ask(fake, "/status") == "You have no videos in progress."
    print(transcript(fake, USER))
    assert not fake.calls_of("sendVideo")
