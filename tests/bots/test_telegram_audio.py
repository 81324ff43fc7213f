"""A voice note or audio file sent as a reply to a photo, through the real python-telegram-bot
and the fake Bot API: the bot asks whether it is a voice sample (to clone) or the recording (to
lip-sync), and both render. The sample is a real speaker (tests/assets/speech/speaker_a_8s.mp3,
8 s); the recording a 1.6 s voice note (hello.ogg)."""

from __future__ import annotations

import pytest
from conftest import ASSETS, PORTRAIT
from sqlalchemy import select
from telegram_steps import job_of, transcript, video_for

from vitaphone.storage.models import ConsentRecord, Job, Provenance

pytestmark = pytest.mark.slow

USER = 831
SAMPLE = ASSETS / "speech" / "speaker_a_8s.mp3"
VOICE_NOTE = ASSETS / "speech" / "hello.ogg"


async def _kind_question(fake, reply: dict) -> object:
    """Send the audio reply; the bot's question."""
    before = len(fake.sent_to(USER))
    fake.push(reply)
    return (await fake.wait_for(lambda: fake.sent_to(USER)[before:], 20, "the question"))[0]


async def test_voice_sample_and_recording_replies(telegram_bot, fake_telegram, bot_stack) -> None:
    fake = fake_telegram
    ada, chat = fake.user(USER, "Ada"), fake.chat(USER)
    photo = fake.message(ada, chat, photo=PORTRAIT.read_bytes())
    fake.push(photo)  # no caption: the answer says how to add a quote or a recording
    hint = await fake.wait_for(lambda: fake.sent_to(USER), 20, "the answer to a bare photo")
    assert "reply to the photo with" in hint[0].text, hint[0].text

    # An audio file with the quote as its caption -> "a voice sample".
    sample = fake.message(ada, chat, caption="Hello there.", reply_to=photo,
                          audio=(SAMPLE.read_bytes(), 8, SAMPLE.name, "audio/mpeg"))
    ask = await _kind_question(fake, sample)
    assert "voice sample" in ask.text and "recording" in ask.text, ask.text
    fake.press(ada, ask, "A voice sample")
    await fake.wait_for(lambda: "who is in the portrait?" in ask.text, 20, "portrait question")
    assert "“Hello there.” in the voice of your sample." in ask.text
    fake.press(ada, ask, "This is me")
    await fake.wait_for(lambda: "Whose voice" in ask.text, 10, "the voice question")
    fake.press(ada, ask, "This is my voice")
    await fake.wait_for(lambda: "You agree:" in ask.text, 10, "the label")
    fake.press(ada, ask, "I understand")
    await fake.wait_for(lambda: "Make the video?" in ask.text, 10, "Confirm")
    fake.press(ada, ask, "Confirm")
    cloned = await video_for(fake, USER, ask)

    # A voice note without a caption -> "the recording": the face lip-syncs it.
    note = fake.message(ada, chat, reply_to=photo, voice=(VOICE_NOTE.read_bytes(), 2))
    ask2 = await _kind_question(fake, note)
    fake.press(ada, ask2, "The recording")
    await fake.wait_for(lambda: "lip-syncing your recording" in ask2.text, 20, "question")
    fake.press(ada, ask2, "This is me")
    await fake.wait_for(lambda: "You agree:" in ask2.text, 10, "the label")
    fake.press(ada, ask2, "I understand")
    await fake.wait_for(lambda: "Make the video?" in ask2.text, 10, "Confirm")
    fake.press(ada, ask2, "Confirm")
    synced = await video_for(fake, USER, ask2)
    # Each video answers the audio it was made from.
    assert (cloned.reply_to, synced.reply_to) == (sample["message_id"], note["message_id"])

    # The same 2 s voice note is too short to clone from: refused at once, nothing made.
    ask3 = await _kind_question(fake, fake.message(
        ada, chat, caption="Hi.", reply_to=photo, voice=(VOICE_NOTE.read_bytes(), 2)))
    fake.press(ada, ask3, "A voice sample")
    short = await fake.wait_for(lambda: [c for c in fake.calls_of("answerCallbackQuery")
                                         if "at least 5 s" in (c.params.get("text") or "")]
                                or "at least 5 s" in ask3.text, 10, "too short")
    print(transcript(fake, USER))
    assert short

    async with bot_stack.studio.sessions() as session:
        jobs = {j.id: j for j in (await session.execute(select(Job))).scalars()}
        records = {r.job_id: r for r in (await session.execute(select(Provenance))).scalars()}
        consents = list((await session.execute(select(ConsentRecord))).scalars())
    clone_job, sync_job = jobs[job_of(ask)], jobs[job_of(ask2)]
    assert len(jobs) == 2 and {j.state.value for j in jobs.values()} == {"done"}
    assert clone_job.voice_sample_sha256 and clone_job.audio_sha256 is None
    assert clone_job.quote_text == "Hello there."
    assert sync_job.audio_sha256 and sync_job.voice_sample_sha256 is None
    assert 1.3 < records[sync_job.id].params["duration_s"] < 2.2  # the recording's length
    assert {c.basis.value for c in consents} == {"self"}
    assert any(c.voice_sample_sha256 for c in consents)
