"""Concurrent updates of one job from several sessions on PostgreSQL lose no transition."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from vitaphone.storage import records
from vitaphone.storage.engine import create_engine, make_sessionmaker
from vitaphone.storage.states import IllegalTransition, JobState

pytestmark = pytest.mark.postgres

HOLD_S = 0.05  # each writer keeps its transaction open this long, so the others must wait


@pytest.fixture()
async def sessions(migrated_postgres_url: str):
    engine = create_engine(migrated_postgres_url, pool_size=10)
    yield make_sessionmaker(engine)
    await engine.dispose()


async def _running_job(sessions) -> str:
    async with sessions.begin() as session:
        user = await records.get_or_create_user(session, "test", secrets.token_hex(6))
        job = await records.create_job(session, user.id, quote_text="race")
        for state in (JobState.QUEUED, JobState.RUNNING):
            await records.transition_job(session, job.id, state)
        return job.id


async def test_concurrent_stage_updates_are_all_recorded(sessions) -> None:
    job_id = await _running_job(sessions)
    async with sessions() as session:
        version_before = (await records.get_job(session, job_id)).version
    writers = 8

    async def advance(i: int) -> None:
        async with sessions.begin() as session:
            await records.transition_job(session, job_id, JobState.RUNNING, stage=f"stage{i}",
                                         progress=i / writers, note=str(i))
            await asyncio.sleep(HOLD_S)

    await asyncio.gather(*(advance(i) for i in range(writers)))
    async with sessions() as session:
        job = await records.get_job(session, job_id)
        history = await records.job_transitions(session, job_id)
    assert job.version == version_before + writers
    notes = sorted(int(t.note) for t in history if t.note is not None)
    assert notes == list(range(writers))  # every writer's transition is there
    # Serialised: the job's final stage is the one of the last recorded transition.
    assert job.stage == history[-1].stage


async def test_concurrent_terminal_transitions_exactly_one_wins(sessions) -> None:
    job_id = await _running_job(sessions)

    async def finish(state: JobState) -> JobState | IllegalTransition:
        try:
            async with sessions.begin() as session:
                extra = {"error_code": "x", "error_message": "x"} if state is JobState.FAILED else {}
                await records.transition_job(session, job_id, state, **extra)
                await asyncio.sleep(HOLD_S)
            return state
        except IllegalTransition as exc:
            return exc

    outcomes = await asyncio.gather(*(finish(s) for s in
                                      (JobState.DONE, JobState.CANCELLED, JobState.FAILED)))
    winners = [o for o in outcomes if isinstance(o, JobState)]
    losers = [o for o in outcomes if isinstance(o, IllegalTransition)]
    assert len(winners) == 1 and len(losers) == 2
    assert all(loser.from_state is winners[0] for loser in losers)  # they saw the winner's write
    async with sessions() as session:
        job = await records.get_job(session, job_id)
        history = await records.job_transitions(session, job_id)
    assert job.state is winners[0]
    assert [t.to_state for t in history if t.to_state.is_final] == [winners[0]]
