"""The application service end to end: consent and job recorded, the real pipeline rendered,
provenance written, the output verifiable; failures keep what was recorded. Runs on SQLite and
on PostgreSQL."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from sample_images import gradient_png
from sqlalchemy import select

from vitaphone.config import load_settings
from vitaphone.consent import ConsentBasis, statement_sha256
from vitaphone.core.errors import Banned
from vitaphone.core.pipeline import AnimateInputs, AnimateOptions
from vitaphone.storage import records
from vitaphone.storage.models import ConsentRecord, Job, Provenance
from vitaphone.storage.states import JobState
from vitaphone.studio import JobFailed, Requester, Studio

ASSETS = Path(__file__).parent / "assets"


def _studio(database_url: str, data_dir: Path) -> Studio:
    return Studio(load_settings(env_file=None, database_url=database_url, data_dir=data_dir))


def _requester() -> Requester:
    return Requester(platform="cli", user_id=f"tester-{secrets.token_hex(4)}",
                     display_name="Tester", chat_id=f"chat-{secrets.token_hex(4)}")


@pytest.mark.slow
async def test_render_records_consent_job_and_provenance_and_verifies(
        database_url: str, tmp_path: Path) -> None:
    from vitaphone.verification import verify_video

    studio = _studio(database_url, tmp_path / "data")
    inputs = AnimateInputs(portrait=(ASSETS / "portraits" / "einstein.jpg").read_bytes(),
                           portrait_name="einstein.jpg", text="Hello, my friend.")
    try:
        submitted = await studio.submit(inputs, AnimateOptions(emotion="happy", device="auto"),
                                        ConsentBasis.PUBLIC_DOMAIN_HISTORICAL, _requester())
        stages: list[str] = []
        out = tmp_path / "out.mp4"
        rendered = await studio.run(submitted.job_id, out,
                                    lambda stage, f: stages.append(stage) if f == 0 else None)
        assert out.stat().st_size == rendered.size_bytes > 10_000
        assert stages == ["portrait", "speech", "motion", "render", "finish"]
        async with studio.sessions() as session:
            job = await session.get(Job, submitted.job_id)
            assert job.state is JobState.DONE and job.output_sha256 == rendered.output_sha256
            consent = await session.get(ConsentRecord, job.consent_id)
            assert consent.basis is ConsentBasis.PUBLIC_DOMAIN_HISTORICAL
            assert consent.statement_text_sha256 == statement_sha256(consent.basis)
            assert consent.portrait_sha256 == job.portrait_sha256
            trail = [t.to_state for t in await records.job_transitions(session, job.id)]
            assert trail[:3] == [JobState.RECEIVED, JobState.AWAITING_CONSENT, JobState.QUEUED]
            assert trail[-1] is JobState.DONE
            running = [t.stage for t in await records.job_transitions(session, job.id)
                       if t.to_state is JobState.RUNNING]
            assert running[1:] == stages  # each stage recorded as it started
            record = (await session.execute(
                select(Provenance).where(Provenance.job_id == job.id))).scalar_one()
            assert record.watermark_payload_hex == rendered.watermark_payload_hex
            assert record.c2pa_manifest_id == rendered.manifest_id
            # The picture's fingerprint, so verify tells an edited copy from a forged mark.
            assert len(record.content_fingerprint["hashes"]) >= 2 and record.output_duration_s
            assert record.params["emotion"] == "happy"
            assert "renderer" in record.engines and "speech" in record.engines
            import torch

            used = "cuda" if torch.cuda.is_available() else "cpu"
            assert record.engines["renderer"].endswith(f", {used})")  # not "auto"
        assert studio.blobs.exists(rendered.output_sha256)
        verdict = await verify_video(out, session_factory=studio.sessions,
                                     trust_anchor_pem=studio.credentials.trust_anchor_pem)
        assert verdict.marked and verdict.kind == "exact"
        assert verdict.provenance is not None and verdict.provenance.job_id == submitted.job_id
    finally:
        await studio.aclose()


async def test_bad_portrait_fails_the_job_with_the_user_message_and_keeps_no_input(
        database_url: str, tmp_path: Path) -> None:
    studio = _studio(database_url, tmp_path / "data")
    inputs = AnimateInputs(portrait=gradient_png(), portrait_name="sky.png", text="Hello.")
    try:
        submitted = await studio.submit(inputs, AnimateOptions(device="cpu"),
                                        ConsentBasis.SELF, _requester())
        with pytest.raises(JobFailed) as failure:
            await studio.run(submitted.job_id, tmp_path / "out.mp4")
        assert failure.value.code == "no_face"
        assert "sky.png" in failure.value.message
        assert not (tmp_path / "out.mp4").exists()
        async with studio.sessions() as session:
            job = await session.get(Job, submitted.job_id)
            assert job.state is JobState.FAILED and job.error_code == "no_face"
            assert "sky.png" in job.error_message
            assert await session.get(ConsentRecord, submitted.consent_id) is not None
        # The records stay (they say what happened); the rejected input does not: the next
        # gc deletes a failed job's inputs whatever the retention period.
        from vitaphone.storage.retention import collect_garbage

        retention = studio.settings.retention
        await collect_garbage(studio.sessions, studio.blobs, input_days=retention.input_days,
                              output_days=retention.output_days)
        assert not studio.blobs.exists(job.portrait_sha256)
    finally:
        await studio.aclose()


async def test_banned_user_cannot_submit(database_url: str, tmp_path: Path) -> None:
    studio = _studio(database_url, tmp_path / "data")
    requester = _requester()
    try:
        async with studio.sessions.begin() as session:
            user = await records.get_or_create_user(session, requester.platform, requester.user_id)
            await records.ban_user(session, user.id, actor="admin", reason="spam")
        inputs = AnimateInputs(portrait=(ASSETS / "portraits" / "einstein.jpg").read_bytes(),
                               text="Hello.")
        with pytest.raises(Banned):
            await studio.submit(inputs, AnimateOptions(), ConsentBasis.SELF, requester)
        async with studio.sessions() as session:
            jobs = (await session.execute(select(Job).where(Job.user_id == user.id))).all()
            assert jobs == []
    finally:
        await studio.aclose()
