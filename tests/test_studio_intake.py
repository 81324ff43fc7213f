"""Studio.submit checks before it stores: the ban first, then hourly quotas, then the cheap
checks of every input; a refused request leaves no blob and no job. Text reaches SQL without
control characters. Runs on SQLite and on PostgreSQL."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from sqlalchemy import select

from vitaphone.config import load_settings
from vitaphone.consent import ConsentBasis
from vitaphone.core.errors import Banned, RateLimited
from vitaphone.core.pipeline import AnimateInputs, AnimateOptions
from vitaphone.storage import records
from vitaphone.storage.models import Chat, Job, User
from vitaphone.studio import Requester, Studio

EINSTEIN = (Path(__file__).parent / "assets" / "portraits" / "einstein.jpg").read_bytes()


def _studio(database_url: str, data_dir: Path, **limits: int) -> Studio:
    return Studio(load_settings(env_file=None, database_url=database_url, data_dir=data_dir,
                                limits=limits))


def _requester(platform: str = "telegram", chat: str | None = None, **names: str) -> Requester:
    return Requester(platform=platform, user_id=f"u-{secrets.token_hex(4)}", chat_id=chat,
                     **names)


def _blob_files(studio: Studio) -> list[Path]:
    root = studio.settings.blobs_path
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


async def _jobs_of(studio: Studio, requester: Requester) -> list[Job]:
    async with studio.sessions() as session:
        query = (select(Job).join(User, Job.user_id == User.id)
                 .where(User.platform == requester.platform,
                        User.platform_user_id == requester.user_id))
        return list((await session.execute(query)).scalars())


async def test_a_banned_user_is_refused_before_their_input_is_looked_at(
        database_url: str, tmp_path: Path) -> None:
    studio = _studio(database_url, tmp_path / "data")
    requester = _requester()
    try:
        async with studio.sessions.begin() as session:
            user = await records.get_or_create_user(session, requester.platform,
                                                    requester.user_id)
            await records.ban_user(session, user.id, actor="admin", reason="spam")
        garbage = AnimateInputs(portrait=b"not an image at all", text="Hello.")
        with pytest.raises(Banned):  # not BadImage: the ban is checked first
            await studio.submit(garbage, AnimateOptions(), ConsentBasis.SELF, requester)
        assert _blob_files(studio) == []
    finally:
        await studio.aclose()


@pytest.mark.parametrize(("portrait", "text", "expected"), [
    (b"%PDF-1.4 not a photo", "Hello.", "is a PDF document"),
    (EINSTEIN, "a" * 400, "400 characters"),
    (EINSTEIN, "مرحبا بالعالم", "cannot read"),  # language "en" chosen explicitly
])
async def test_a_refused_request_stores_nothing(database_url: str, tmp_path: Path,
                                                portrait: bytes, text: str,
                                                expected: str) -> None:
    studio = _studio(database_url, tmp_path / "data")
    requester = _requester()
    try:
        inputs = AnimateInputs(portrait=portrait, portrait_name="me.pdf", text=text)
        with pytest.raises(Exception) as refused:
            await studio.submit(inputs, AnimateOptions(language="en"), ConsentBasis.SELF,
                                requester)
        assert expected in refused.value.message
        assert _blob_files(studio) == []
        assert await _jobs_of(studio, requester) == []
    finally:
        await studio.aclose()


async def test_nul_and_control_characters_never_reach_sql(database_url: str,
                                                          tmp_path: Path) -> None:
    studio = _studio(database_url, tmp_path / "data")
    requester = _requester(chat=f"c\x00{secrets.token_hex(3)}", display_name="Ann\x00\x1b[31m",
                           chat_title="Fans\u202e\x00")
    try:
        inputs = AnimateInputs(portrait=EINSTEIN, portrait_name="me\x00.jpg",
                               text="Hello\x00 there,\x07 friend.")
        submitted = await studio.submit(inputs, AnimateOptions(), ConsentBasis.SELF, requester)
        async with studio.sessions() as session:
            job = await session.get(Job, submitted.job_id)
            user = await session.get(User, job.user_id)
            chat = await session.get(Chat, job.chat_id)
        assert job.quote_text == "Hello there, friend."
        assert job.params["names"]["portrait"] == "me.jpg"
        assert user.display_name == "Ann[31m" and chat.title == "Fans"
        assert "\x00" not in chat.platform_chat_id
    finally:
        await studio.aclose()


async def test_the_language_is_picked_from_the_quote_when_not_chosen(
        database_url: str, tmp_path: Path) -> None:
    studio = _studio(database_url, tmp_path / "data")
    try:
        inputs = AnimateInputs(portrait=EINSTEIN, text="Привет, мир!")
        submitted = await studio.submit(inputs, AnimateOptions(language=None),
                                        ConsentBasis.SELF, _requester())
        async with studio.sessions() as session:
            assert (await session.get(Job, submitted.job_id)).params["language"] == "ru"
    finally:
        await studio.aclose()


async def test_the_hourly_limit_per_user_is_enforced(database_url: str, tmp_path: Path) -> None:
    studio = _studio(database_url, tmp_path / "data", user_jobs_per_hour=2)
    requester = _requester()
    inputs = AnimateInputs(portrait=EINSTEIN, text="Hello.")
    try:
        for _ in range(2):
            await studio.submit(inputs, AnimateOptions(), ConsentBasis.SELF, requester)
        with pytest.raises(RateLimited) as refused:
            await studio.submit(inputs, AnimateOptions(), ConsentBasis.SELF, requester)
        assert "2 videos in the last hour; the limit is 2" in refused.value.message
        assert "Try again in 60 minutes" in refused.value.hint
        assert len(await _jobs_of(studio, requester)) == 2
        # Another user is not affected; the CLI (the operator's own machine) is not metered.
        await studio.submit(inputs, AnimateOptions(), ConsentBasis.SELF, _requester())
        cli = _requester(platform="cli")
        for _ in range(3):
            await studio.submit(inputs, AnimateOptions(), ConsentBasis.SELF, cli)
    finally:
        await studio.aclose()


async def test_the_hourly_limit_per_chat_and_its_overrides(database_url: str,
                                                           tmp_path: Path) -> None:
    studio = _studio(database_url, tmp_path / "data", chat_jobs_per_hour=3)
    chat_id = f"chat-{secrets.token_hex(4)}"
    inputs = AnimateInputs(portrait=EINSTEIN, text="Hello.")
    try:
        for _ in range(3):
            await studio.submit(inputs, AnimateOptions(), ConsentBasis.SELF, _requester(chat=chat_id))
        with pytest.raises(RateLimited, match="This chat has asked for 3 videos"):
            await studio.submit(inputs, AnimateOptions(), ConsentBasis.SELF, _requester(chat=chat_id))
        # The chat's own settings override the global ones: more for the chat, 1 per user.
        async with studio.sessions.begin() as session:
            chat = (await session.execute(
                select(Chat).where(Chat.platform_chat_id == chat_id))).scalar_one()
            chat.chat_jobs_per_hour, chat.user_jobs_per_hour = 10, 1
        requester = _requester(chat=chat_id)
        await studio.submit(inputs, AnimateOptions(), ConsentBasis.SELF, requester)
        with pytest.raises(RateLimited, match="the limit is 1 an hour"):
            await studio.submit(inputs, AnimateOptions(), ConsentBasis.SELF, requester)
    finally:
        await studio.aclose()
