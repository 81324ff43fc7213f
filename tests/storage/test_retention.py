"""Retention (`vitaphone gc`): inputs of finished jobs go after N days (at once for failed
ones), videos stay while a post references them, taken-down videos and forgotten users' files
go at once, and a blob another live record uses stays. Real SQLite and PostgreSQL, real files."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vitaphone.consent import ConsentBasis
from vitaphone.storage import records
from vitaphone.storage.base import utcnow
from vitaphone.storage.blobs import LocalBlobStore
from vitaphone.storage.engine import create_engine, make_sessionmaker
from vitaphone.storage.models import Job, Provenance, User
from vitaphone.storage.retention import collect_garbage
from vitaphone.storage.states import JobState

DAY = timedelta(days=1)


class World:
    """A blob store and a database with helpers that make users, jobs and videos."""

    def __init__(self, database_url: str, root: Path) -> None:
        self.engine = create_engine(database_url)
        self.sessions = make_sessionmaker(self.engine)
        self.blobs = LocalBlobStore(root)

    def blob(self) -> str:
        return self.blobs.put(secrets.token_bytes(64))

    async def user(self) -> int:
        async with self.sessions.begin() as session:
            user = await records.get_or_create_user(session, "telegram", secrets.token_hex(6))
            return user.id

    async def job(self, user_id: int, state: JobState, *, portrait: str, age: timedelta,
                  output: str | None = None, posted: bool = False) -> str:
        finished = utcnow() - age
        async with self.sessions.begin() as session:
            user = await session.get(User, user_id)
            consent = await records.record_consent(session, user, ConsentBasis.SELF,
                                                   portrait_sha256=portrait)
            job = await records.create_job(session, user_id, portrait_sha256=portrait,
                                           consent_id=consent.id, quote_text="Hello.")
            job.state, job.finished_at, job.output_sha256 = state, finished, output
            await session.flush()
            if output is not None:
                record = await records.record_provenance(
                    session, job_id=job.id, output_sha256=output,
                    watermark_payload_hex=secrets.token_hex(8),
                    posted_to=[{"platform": "telegram", "chat_id": "1", "message_id": "2"}]
                    if posted else ())
                record.created_at = finished
            return job.id

    async def gc(self, **kwargs):
        return await collect_garbage(self.sessions, self.blobs, input_days=7, output_days=30,
                                     **kwargs)


@pytest.fixture()
async def world(database_url: str, tmp_path: Path):
    w = World(database_url, tmp_path / "blobs")
    yield w
    await w.engine.dispose()


async def test_inputs_of_done_jobs_go_after_n_days_and_of_failed_jobs_at_once(world) -> None:
    user = await world.user()
    recent, old, failed = world.blob(), world.blob(), world.blob()
    await world.job(user, JobState.DONE, portrait=recent, age=2 * DAY)
    old_job = await world.job(user, JobState.DONE, portrait=old, age=8 * DAY)
    await world.job(user, JobState.FAILED, portrait=failed, age=timedelta(minutes=1))
    report = await world.gc()
    assert world.blobs.exists(recent)
    assert not world.blobs.exists(old) and not world.blobs.exists(failed)
    assert {old, failed} <= set(report.deleted)
    async with world.sessions() as session:
        assert (await session.get(Job, old_job)).inputs_deleted_at is not None
        assert (await session.get(Job, old_job)).portrait_sha256 == old  # the hash stays
    assert set(report.deleted).isdisjoint((await world.gc()).deleted)  # nothing twice


async def test_a_blob_another_live_job_uses_is_kept(world) -> None:
    user = await world.user()
    shared = world.blob()
    await world.job(user, JobState.FAILED, portrait=shared, age=DAY)
    await world.job(user, JobState.QUEUED, portrait=shared, age=timedelta(0))
    report = await world.gc()
    assert world.blobs.exists(shared) and shared not in report.deleted


async def test_videos_stay_while_posted_and_taken_down_ones_go_at_once(world) -> None:
    user = await world.user()
    posted, unposted, fresh, taken = (world.blob() for _ in range(4))
    await world.job(user, JobState.DONE, portrait=world.blob(), age=40 * DAY, output=posted,
                    posted=True)
    await world.job(user, JobState.DONE, portrait=world.blob(), age=40 * DAY, output=unposted)
    await world.job(user, JobState.DONE, portrait=world.blob(), age=DAY, output=fresh)
    taken_job = await world.job(user, JobState.DONE, portrait=world.blob(), age=DAY,
                                output=taken)
    async with world.sessions.begin() as session:
        record = await records.find_provenance_by_output(session, taken)
        await records.take_down(session, record.id, actor="admin", reason="abuse")
    dry = await world.gc(dry_run=True)
    assert world.blobs.exists(unposted) and unposted in dry.deleted
    await world.gc()
    assert world.blobs.exists(posted) and world.blobs.exists(fresh)
    assert not world.blobs.exists(unposted) and not world.blobs.exists(taken)
    async with world.sessions() as session:
        from sqlalchemy import select

        row = (await session.execute(
            select(Provenance).where(Provenance.job_id == taken_job))).scalar_one()
        assert row.output_deleted_at is not None and row.output_sha256 == taken


async def test_a_forgotten_users_files_really_go(world) -> None:
    forgotten, other = await world.user(), await world.user()
    portrait, video, shared = world.blob(), world.blob(), world.blob()
    await world.job(forgotten, JobState.DONE, portrait=portrait, age=DAY, output=video,
                    posted=True)
    await world.job(forgotten, JobState.DONE, portrait=shared, age=DAY)
    await world.job(other, JobState.DONE, portrait=shared, age=DAY)
    async with world.sessions.begin() as session:
        await records.forget_user(session, forgotten, actor="user")
    await world.gc()
    assert not world.blobs.exists(portrait) and not world.blobs.exists(video)
    assert world.blobs.exists(shared)  # the other user's job still has it


def test_vitaphone_gc_applies_the_policy(_isolated_settings: Path) -> None:
    from vitaphone.cli import app

    runner = CliRunner()
    result = runner.invoke(app, ["gc", "--dry-run"])
    assert result.exit_code == 0, result.output
    assert "would delete 0 file(s)" in " ".join(result.output.split())
    result = runner.invoke(app, ["gc"], env={"VITAPHONE_RETENTION__INPUT_DAYS": "0"})
    assert result.exit_code == 2 and "VITAPHONE_RETENTION__INPUT_DAYS" in result.output
