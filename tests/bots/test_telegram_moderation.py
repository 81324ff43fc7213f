"""A posted video's Delete button and /report, through the real python-telegram-bot and the fake
Bot API, in a group: a stranger's Delete is refused politely, their /report (a reply to the
video) reaches the mod-log chat, a chat administrator's Delete takes the video down and tells the
requester, and the requester's own Delete takes it down without a moderator's notice."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from telegram_steps import job_of, request, transcript, video_for

from vitaphone.storage.models import AuditLog, Provenance, Report

pytestmark = pytest.mark.slow

GROUP, MOD_LOG = -100500, -100501
REQUESTER, STRANGER, ADMIN = 821, 822, 823


async def test_delete_button_and_report(telegram_bot, fake_telegram, bot_stack) -> None:
    fake = fake_telegram
    fake.admins[GROUP] = {ADMIN}
    group = fake.chat(GROUP, group=True)
    ada, bob, mo = fake.user(REQUESTER, "Ada"), fake.user(STRANGER, "Bob"), fake.user(ADMIN, "Mo")
    fake.push(fake.message(mo, group, text=f"/mod settings modlog {MOD_LOG}"))
    await fake.wait_for_text(GROUP, f"Mod log: {MOD_LOG}")

    _, progress = await request(fake, ada, group)
    video = await video_for(fake, GROUP, progress)
    job = job_of(progress)

    refused = fake.press(bob, video, "Delete")
    assert await fake.wait_for(lambda: fake.popup(refused), 10, "Bob's pop-up") == (
        "Only the person who asked for this video or an admin can delete it.")
    assert not video.deleted

    fake.push(fake.message(bob, group, text="/report this never happened",
                           reply_to=fake.as_message(video)))
    await fake.wait_for_text(GROUP, "the moderators will look at it")
    logged = await fake.wait_for_text(MOD_LOG, f"on job {job}")
    print(logged.text)
    assert logged.text == (f"Report 1 on job {job} in “Test group”: this never happened\n"
                           f"Take it down with /mod takedown {job} REASON")

    removed = fake.press(mo, video, "Delete")
    assert "requester is told" in await fake.wait_for(lambda: fake.popup(removed), 10, "pop-up")
    assert video.deleted
    notice = await fake.wait_for_text(GROUP, "took down your video", 10)
    assert notice.text == f"A moderator took down your video (job {job}): deleted by an admin."

    # The requester deletes their own second video: no "a moderator took it down" notice.
    _, progress2 = await request(fake, ada, group, "Hello there.")
    video2 = await video_for(fake, GROUP, progress2)
    own = fake.press(ada, video2, "Delete")
    assert (await fake.wait_for(lambda: fake.popup(own), 10, "Ada's pop-up")).startswith("Deleted")
    assert video2.deleted
    print(transcript(fake, GROUP))
    assert len([m for m in fake.sent_to(GROUP) if "took down your video" in (m.text or "")]) == 1

    async with bot_stack.studio.sessions() as session:
        records = {r.job_id: r for r in (await session.execute(select(Provenance))).scalars()}
        report = (await session.execute(select(Report))).scalar_one()
        audit = [(a.actor, a.action) for a in (await session.execute(select(AuditLog))).scalars()]
    assert records[job].taken_down and records[job_of(progress2)].taken_down
    assert report.job_id == job and report.reason == "this never happened"
    assert (f"telegram:{ADMIN}", "take_down") in audit
    assert (f"telegram:{REQUESTER}", "take_down") in audit
    assert not [a for a in audit if a[0] == f"telegram:{STRANGER}" and a[1] == "take_down"]
