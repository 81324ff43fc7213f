"""Every refusal the issue lists, through the real python-telegram-bot and the fake Bot API:
each is one sentence saying what to do, and none leaves a job (or a consent record) behind."""

from __future__ import annotations

import pytest
from conftest import PORTRAIT
from sqlalchemy import func, select

from vitaphone.storage import records
from vitaphone.storage.models import ConsentRecord, Job

USER = 601


def _blank_jpeg() -> bytes:
    """A sky-blue gradient: a valid photo with no face in it."""
    import io

    import numpy as np
    from PIL import Image

    ramp = np.linspace(120, 230, 320, dtype=np.uint8)[:, None].repeat(240, axis=1)
    buf = io.BytesIO()
    Image.fromarray(np.stack([ramp // 2, ramp - 40, ramp], axis=-1)).save(buf, "JPEG")
    return buf.getvalue()


async def _count(stack, model) -> int:
    async with stack.studio.sessions() as session:
        return (await session.execute(select(func.count()).select_from(model))).scalar_one()


async def _send_photo(fake, caption: str, *, photo: bytes | None = None, user_id: int = USER):
    user, chat = fake.user(user_id), fake.chat(user_id)
    fake.push(fake.message(user, chat, photo=photo or PORTRAIT.read_bytes(), caption=caption))
    return user


async def _answer(fake, chat_id: int = USER):
    return await fake.wait_for(lambda: next(iter(fake.sent_to(chat_id)), None), 20, "an answer")


async def test_cancel_leaves_nothing(telegram_bot, fake_telegram, bot_stack) -> None:
    user = await _send_photo(fake_telegram, "Hello there.")
    ask = await fake_telegram.wait_for_text(USER, "who is in the portrait?")
    fake_telegram.press(user, ask, "Cancel")
    await fake_telegram.wait_for_text(USER, "Cancelled: nothing was made")
    assert await _count(bot_stack, Job) == 0 and await _count(bot_stack, ConsentRecord) == 0


async def test_no_consent_no_job(telegram_bot, fake_telegram, bot_stack) -> None:
    """Answering only part of the consent step (no label acknowledgement, no Confirm)."""
    user = await _send_photo(fake_telegram, "Hello there.")
    ask = await fake_telegram.wait_for_text(USER, "who is in the portrait?")
    fake_telegram.press(user, ask, "This is me")
    await fake_telegram.wait_for_text(USER, "You agree:")
    assert await _count(bot_stack, Job) == 0 and await _count(bot_stack, ConsentRecord) == 0


async def test_banned_user(telegram_bot, fake_telegram, bot_stack) -> None:
    async with bot_stack.studio.sessions.begin() as session:
        user = await records.get_or_create_user(session, "telegram", str(USER))
        await records.ban_user(session, user.id, actor="test", reason="spam")
    await _send_photo(fake_telegram, "Hello there.")
    answer = await _answer(fake_telegram)
    assert answer.text.startswith("You are not allowed to make videos here.")
    assert not fake_telegram.calls_of("getFile")  # refused before downloading anything


async def test_rate_limit(telegram_bot, fake_telegram, bot_stack) -> None:
    async with bot_stack.studio.sessions.begin() as session:
        user = await records.get_or_create_user(session, "telegram", str(USER))
        for _ in range(bot_stack.settings.limits.user_jobs_per_hour):
            job = await records.create_job(session, user.id, quote_text="x")
            await records.transition_job(session, job.id, "cancelled")
    await _send_photo(fake_telegram, "Hello there.")
    answer = await _answer(fake_telegram)
    assert "in the last hour" in answer.text and "Try again in" in answer.text


async def test_non_admin_mod(telegram_bot, fake_telegram, bot_stack) -> None:
    group = -100300
    fake_telegram.push(fake_telegram.message(fake_telegram.user(USER),
                                             fake_telegram.chat(group, group=True),
                                             text="/mod ban 5 spam"))
    answer = await _answer(fake_telegram, group)
    assert answer.text == "Only this chat's administrators can use /mod."
    assert fake_telegram.calls_of("getChatMember")  # checked with Telegram, not assumed


async def test_oversized_file_refused_before_download(telegram_bot, fake_telegram) -> None:
    user, chat = fake_telegram.user(USER), fake_telegram.chat(USER)
    big = b"\xff\xd8" + b"\0" * (11 * 1024 * 1024)
    fake_telegram.push(fake_telegram.message(user, chat, caption="Hello.",
                                             document=(big, "big.jpg", "image/jpeg")))
    answer = await _answer(fake_telegram)
    assert "the limit is 10 MB" in answer.text and "smaller photo" in answer.text
    assert not fake_telegram.calls_of("getFile")


async def test_wrong_type_file(telegram_bot, fake_telegram) -> None:
    user, chat = fake_telegram.user(USER), fake_telegram.chat(USER)
    wav = (PORTRAIT.parents[1] / "speech" / "hello.wav").read_bytes()
    fake_telegram.push(fake_telegram.message(user, chat, caption="Hello.",
                                             document=(wav, "face.png", "image/png")))
    answer = await _answer(fake_telegram)
    assert "WAV audio file, not an image" in answer.text


async def test_photo_without_a_face(telegram_bot, fake_telegram) -> None:
    await _send_photo(fake_telegram, "Hello there.", photo=_blank_jpeg())
    answer = await _answer(fake_telegram)
    assert answer.text.startswith("No face was found")


async def test_text_too_long(telegram_bot, fake_telegram) -> None:
    await _send_photo(fake_telegram, "word " * 100)
    answer = await _answer(fake_telegram)
    assert "too long" in answer.text.lower() or "limit is 300" in answer.text
    assert not fake_telegram.calls_of("getFile")


async def test_unsupported_language(telegram_bot, fake_telegram) -> None:
    await _send_photo(fake_telegram, "Hello there. [lang: xx]")
    answer = await _answer(fake_telegram)
    assert "language" in answer.text and "en, de" in answer.text


@pytest.mark.slow
async def test_review_required_chat(telegram_bot, fake_telegram, bot_stack) -> None:
    fake, group = fake_telegram, -100400
    owner, user = fake.user(9000, "Owner"), fake.user(USER)
    chat = fake.chat(group, group=True)
    fake.push(fake.message(owner, chat, text="/mod settings review on"))
    await fake.wait_for_text(group, "Review required: on")
    fake.push(fake.message(user, chat, photo=PORTRAIT.read_bytes(),
                           caption="/animate Imagination rules."))
    ask = await fake.wait_for_text(group, "who is in the portrait?")
    fake.press(user, ask, "A public-domain")
    fake.press(user, await fake.wait_for_text(group, "You agree:"), "I understand")
    fake.press(user, await fake.wait_for_text(group, "Make the video?"), "Confirm")
    held = await fake.wait_for_text(group, "Waiting for a moderator")
    async with bot_stack.studio.sessions() as session:
        job = (await session.execute(select(Job))).scalar_one()
    assert job.state.value == "awaiting_review"
    fake.push(fake.message(owner, chat, text="/mod queue"))
    await fake.wait_for_text(group, job.id)
    fake.push(fake.message(owner, chat, text=f"/mod approve {job.id}"))
    await fake.wait_for(lambda: any(m.video for m in fake.sent_to(group)), 120, "the video")
    await fake.wait_for(lambda: held.text.startswith("Done"), 10, "progress says done")
