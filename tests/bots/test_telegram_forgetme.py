"""/forgetme through the real python-telegram-bot and the fake Bot API: the user's personal data
goes, every posted copy of their videos is deleted, a job still running is cancelled, and the
provenance hashes stay, so /verify on a downloaded copy still says it was ours."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from telegram_steps import job_of, request, transcript, video_for

from vitaphone.storage.models import BotRequest, ConsentRecord, Job, Provenance, User

pytestmark = pytest.mark.slow

USER = 811
LONG_QUOTE = ("Imagination is more important than knowledge, for knowledge is limited to all "
              "we now know and understand, while imagination embraces the entire world.")


async def test_forgetme_erases_takes_down_and_still_verifies(telegram_bot, fake_telegram,
                                                             bot_stack) -> None:
    fake, store = fake_telegram, bot_stack.studio
    user, chat = fake.user(USER, "Ada"), fake.chat(USER)
    _, progress = await request(fake, user, chat)
    video = await video_for(fake, USER, progress)
    done_job = job_of(progress)
    _, running = await request(fake, user, chat, LONG_QUOTE)  # still rendering when forgotten
    await fake.wait_for(lambda: running.text.startswith("Making your video"), 30, "running")
    fake.push(fake.message(user, chat, text="/forgetme"))
    ask = await fake.wait_for_text(USER, "Go ahead?")
    fake.press(user, ask, "Yes, forget me")
    answer = await fake.wait_for_text(USER, "I forgot you", 20)
    print(transcript(fake, USER))
    assert answer.text == ("Done: I forgot you and took down 1 video, and stopped 1 still in "
                           "progress.")
    assert video.deleted  # every posted copy, deleted by the time the answer comes
    await fake.wait_for(lambda: running.text.startswith("Cancelled"), 30, "running job cancelled")
    assert len(fake.calls_of("sendVideo")) == 1
    assert not [m for m in fake.sent_to(USER) if "took down your video" in (m.text or "")]

    async with store.sessions() as session:
        users = list((await session.execute(select(User))).scalars())
        jobs = {j.id: j for j in (await session.execute(select(Job))).scalars()}
        requests = list((await session.execute(select(BotRequest))).scalars())
        record = (await session.execute(select(Provenance))).scalar_one()
        consents = list((await session.execute(select(ConsentRecord))).scalars())
    assert [(u.platform_user_id, u.display_name) for u in users] == [(None, None)]
    assert all(j.quote_text is None for j in jobs.values())
    assert jobs[job_of(running)].state.value == "cancelled"
    assert all(r.request == {} and r.where == {} for r in requests)
    # The record keeps what proves the video was ours, and nothing that names the user.
    assert record.job_id == done_job and record.taken_down and record.output_sha256
    assert record.quote_text is None and record.posted_to == []
    assert all(c.portrait_sha256 for c in consents)
    assert not await store.blobs.aexists(jobs[done_job].portrait_sha256)  # the photo is gone

    # The same person sends the downloaded copy back: it is still ours, and taken down.
    fake.push(fake.message(user, chat, video=video.video, caption="/verify"))
    verdict = await fake.wait_for_text(USER, "This is exactly", 60)
    print(verdict.text)
    assert done_job in verdict.text and "Taken down: yes" in verdict.text
    fake.push(fake.message(user, chat, text="/forgetme"))
    again = await fake.wait_for(lambda: [m for m in fake.sent_to(USER)
                                         if m.message_id > verdict.message_id], 20, "answer")
    fake.press(user, again[0], "Yes, forget me")
    await fake.wait_for_text(USER, "I have nothing about you", 20)
