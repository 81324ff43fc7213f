"""A job whose cancel was requested ends `cancelled`, whatever else stops it.

/forgetme cancels the user's running jobs and then erases their inputs. A worker that was still
reading those inputs fails to find them; that must end the job as cancelled (the user asked), not
as "Something went wrong", and a retry must never undo the cancel. Real databases, the real
runner and blob store; the cancel lands exactly while the worker reads the portrait.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from queue_helpers import queue_env, settings_of, submit
from sqlalchemy import select

from vitaphone.queue.runner import JobRunner
from vitaphone.storage import leases, records
from vitaphone.storage.models import Provenance
from vitaphone.storage.states import JobState
from vitaphone.studio import Studio
from vitaphone.workspace import StopReason


@pytest.mark.parametrize("where", ["this process", "another process"])
async def test_inputs_erased_after_a_cancel_end_the_job_cancelled(
        database_url: str, tmp_path: Path, where: str) -> None:
    settings = settings_of(queue_env(database_url, tmp_path / "data"))
    studio = Studio(settings)
    runner = JobRunner(studio, leases.new_worker_id("test"), settings.queue, tmp_path / "work")
    try:
        job_id = await submit(studio)
        async with studio.sessions() as session:
            portrait = (await records.get_job(session, job_id)).portrait_sha256
        read = studio.blobs.aget

        async def forgotten_while_read(sha256: str) -> bytes:
            if sha256 == portrait:  # what /forgetme does, in its order
                async with studio.sessions.begin() as session:
                    await leases.request_cancel(session, job_id, actor="telegram:1",
                                                reason="the requester asked to be forgotten")
                if where == "this process":  # the in-process queue stops its own job at once
                    runner.stop(job_id, StopReason.CANCEL)
                await studio.blobs.adelete(sha256)
            return await read(sha256)

        studio.blobs.aget = forgotten_while_read  # type: ignore[method-assign]
        outcome = await runner.run(job_id)

        assert outcome.ending == "cancelled", outcome
        async with studio.sessions() as session:
            job = await records.get_job(session, job_id)
            kept = (await session.execute(
                select(Provenance).where(Provenance.job_id == job_id))).scalar_one_or_none()
        assert job.state is JobState.CANCELLED
        assert job.error_code == "cancelled"
        assert job.error_message == ("The job was cancelled. Reason: the requester asked to be "
                                     "forgotten")
        assert job.worker_id is None and kept is None
    finally:
        await studio.aclose()


async def test_a_retry_never_undoes_a_cancel(database_url: str, tmp_path: Path) -> None:
    """A transient error (a lost connection) after a cancel request: cancelled, not re-queued."""
    settings = settings_of(queue_env(database_url, tmp_path / "data"))
    studio = Studio(settings)
    try:
        job_id = await submit(studio)
        async with studio.sessions.begin() as session:
            assert await leases.claim(session, job_id, "arq:host:1:aaaaaa") is not None
        async with studio.sessions.begin() as session:
            await leases.request_cancel(session, job_id, actor="admin")
        async with studio.sessions.begin() as session:
            assert await leases.release(session, job_id, "arq:host:1:aaaaaa", JobState.QUEUED,
                                        note="transient ConnectionError; retry in 1 s")
        async with studio.sessions() as session:
            job = await records.get_job(session, job_id)
            notes = [t.note for t in await records.job_transitions(session, job_id)]
        assert job.state is JobState.CANCELLED and job.cancel_requested_at is not None
        assert job.error_code == "cancelled" and job.error_message == "The job was cancelled."
        assert notes[-1] == "transient ConnectionError; retry in 1 s; cancel requested"
    finally:
        await studio.aclose()
