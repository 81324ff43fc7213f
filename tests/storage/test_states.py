"""The job state machine: every legal transition works, every illegal one raises, all recorded."""

from __future__ import annotations

import itertools
import secrets

import pytest

from vitaphone.storage import records
from vitaphone.storage.states import (
    FINAL_STATES,
    LEGAL_TRANSITIONS,
    IllegalTransition,
    JobNotFound,
    JobState,
)

ALL_PAIRS = list(itertools.product(JobState, JobState))
LEGAL = [(a, b) for a, b in ALL_PAIRS if b in LEGAL_TRANSITIONS[a]]
ILLEGAL = [(a, b) for a, b in ALL_PAIRS if b not in LEGAL_TRANSITIONS[a]]

# A legal path from `received` to each state, used to put a job into a given state.
PATH_TO = {
    JobState.RECEIVED: [],
    JobState.AWAITING_CONSENT: [JobState.AWAITING_CONSENT],
    JobState.AWAITING_REVIEW: [JobState.AWAITING_CONSENT, JobState.AWAITING_REVIEW],
    JobState.QUEUED: [JobState.AWAITING_CONSENT, JobState.AWAITING_REVIEW, JobState.QUEUED],
    JobState.RUNNING: [JobState.QUEUED, JobState.RUNNING],
    JobState.DONE: [JobState.QUEUED, JobState.RUNNING, JobState.DONE],
    JobState.FAILED: [JobState.QUEUED, JobState.RUNNING, JobState.FAILED],
    JobState.CANCELLED: [JobState.CANCELLED],
    JobState.REJECTED: [JobState.AWAITING_REVIEW, JobState.REJECTED],
}


def _error_kwargs(state: JobState) -> dict[str, str]:
    if state in (JobState.FAILED, JobState.REJECTED):
        return {"error_code": "no_face", "error_message": "No face found in portrait.jpg."}
    return {}


async def _job_in(session, state: JobState):
    user = await records.get_or_create_user(session, "test", secrets.token_hex(6), "Tester")
    job = await records.create_job(session, user.id, quote_text="Hello there.")
    for step in PATH_TO[state]:
        await records.transition_job(session, job.id, step, **_error_kwargs(step))
    assert job.state is state
    return job


def test_paths_cover_every_state_and_the_table_is_sane() -> None:
    assert set(PATH_TO) == set(JobState)
    assert all(not LEGAL_TRANSITIONS[s] for s in FINAL_STATES)
    assert len(LEGAL) + len(ILLEGAL) == len(JobState) ** 2
    assert len(LEGAL) == 21  # 6 from received, 4, 3, 3, 5 from running


@pytest.mark.parametrize(("start", "end"), LEGAL, ids=lambda s: s.value)
async def test_legal_transition_is_applied_and_recorded(session, start, end) -> None:
    job = await _job_in(session, start)
    before = len(await records.job_transitions(session, job.id))
    moved = await records.transition_job(session, job.id, end, stage="speech", note="test",
                                         **_error_kwargs(end))
    assert moved.state is end
    history = await records.job_transitions(session, job.id)
    assert len(history) == before + 1
    last = history[-1]
    assert (last.from_state, last.to_state, last.note) == (start, end, "test")
    assert last.at.tzinfo is not None
    assert [t.to_state for t in history][0] is JobState.RECEIVED
    if end.is_final:
        assert moved.finished_at is not None


@pytest.mark.parametrize("start", list(JobState), ids=lambda s: s.value)
async def test_every_illegal_transition_raises_and_changes_nothing(session, start) -> None:
    """One job per start state: a refused transition writes nothing, so the job can be reused."""
    job = await _job_in(session, start)
    before = len(await records.job_transitions(session, job.id))
    ends = [end for begin, end in ILLEGAL if begin is start]
    for end in ends:
        with pytest.raises(IllegalTransition) as caught:
            await records.transition_job(session, job.id, end, **_error_kwargs(end))
        assert (caught.value.from_state, caught.value.to_state) == (start, end)
        assert f"{start.value} -> {end.value}" in str(caught.value)
    assert (await records.get_job(session, job.id)).state is start
    assert len(await records.job_transitions(session, job.id)) == before
    assert len(ends) == len(JobState) - len(LEGAL_TRANSITIONS[start])


async def test_running_bookkeeping_attempts_stage_progress_retry(session) -> None:
    job = await _job_in(session, JobState.QUEUED)
    await records.transition_job(session, job.id, JobState.RUNNING, stage="speech")
    await records.transition_job(session, job.id, JobState.RUNNING, stage="render", progress=0.5)
    assert (job.attempts, job.stage, job.progress) == (1, "render", 0.5)
    await records.transition_job(session, job.id, JobState.QUEUED, note="worker lost")
    assert (job.stage, job.progress) == (None, 0.0)
    await records.transition_job(session, job.id, JobState.RUNNING, stage="speech")
    done = await records.transition_job(session, job.id, JobState.DONE, output_sha256="ab" * 32)
    assert (done.attempts, done.progress, done.output_sha256) == (2, 1.0, "ab" * 32)
    stages = [(t.to_state, t.stage) for t in await records.job_transitions(session, job.id)]
    assert stages[-4:-1] == [(JobState.RUNNING, "render"), (JobState.QUEUED, None),
                             (JobState.RUNNING, "speech")]


async def test_failure_needs_code_and_message_and_keeps_them(session) -> None:
    job = await _job_in(session, JobState.RUNNING)
    with pytest.raises(ValueError, match="error_code"):
        await records.transition_job(session, job.id, JobState.FAILED)
    with pytest.raises(ValueError, match="progress"):
        await records.transition_job(session, job.id, JobState.RUNNING, progress=1.5)
    failed = await records.transition_job(session, job.id, JobState.FAILED,
                                          error_code="no_face", error_message="No face found.")
    assert (failed.error_code, failed.error_message) == ("no_face", "No face found.")


async def test_unknown_job(session) -> None:
    with pytest.raises(JobNotFound):
        await records.transition_job(session, "0" * 32, JobState.QUEUED)
