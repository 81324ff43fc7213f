"""Consent and provenance round trips with real data; moderation; forgetting a user."""

from __future__ import annotations

import secrets
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

import vitaphone
from vitaphone.consent import STATEMENT_VERSION, ConsentBasis, statement_sha256
from vitaphone.storage import records
from vitaphone.storage.base import utcnow
from vitaphone.storage.blobs import LocalBlobStore
from vitaphone.storage.models import AuditLog, Ban, Job, Provenance, User
from vitaphone.storage.states import JobState

PORTRAIT = Path(vitaphone.__file__).parent / "assets" / "einstein.jpg"
QUOTE = "The search and striving for truth and knowledge is one of the highest of men's qualities."


def _uid() -> str:
    return secrets.token_hex(6)


async def _rendered(session, blobs: LocalBlobStore, platform_user_id: str, *, video: bytes):
    """A user asks for a video of the Einstein portrait; it is rendered and posted."""
    portrait = blobs.put(PORTRAIT.read_bytes())
    voice = blobs.put(b"RIFF fake-but-distinct voice sample " + platform_user_id.encode())
    user = await records.get_or_create_user(session, "telegram", platform_user_id, "Ada L.")
    chat = await records.get_or_create_chat(session, "telegram", "-100" + platform_user_id, "Club")
    job = await records.create_job(
        session, user.id, chat_id=chat.id, quote_text=QUOTE, portrait_sha256=portrait,
        voice_sample_sha256=voice, params={"emotion": "happy", "intensity": 0.7, "seed": 7},
        reply_to={"chat_id": "-100" + platform_user_id, "message_id": "10"},
    )
    await records.transition_job(session, job.id, JobState.AWAITING_CONSENT)
    consent = await records.record_consent(
        session, user, ConsentBasis.PUBLIC_DOMAIN_HISTORICAL, portrait_sha256=portrait,
        voice_sample_sha256=voice, chat_id=chat.id,
    )
    await records.transition_job(session, job.id, JobState.QUEUED, consent_id=consent.id)
    await records.transition_job(session, job.id, JobState.RUNNING, stage="render")
    output = blobs.put(video)
    await records.transition_job(session, job.id, JobState.DONE, output_sha256=output)
    payload = records.new_watermark_payload()
    record = await records.record_provenance(
        session, job_id=job.id, output_sha256=output, watermark_payload_hex=payload,
        engines={"tts": "flite 2.2", "renderer": "vitaphone-warp 0.1"},
        c2pa_manifest_id=f"urn:uuid:{secrets.token_hex(16)}",
    )
    await records.add_posted_to(session, record.id, {"platform": "telegram",
                                                     "chat_id": "-100" + platform_user_id,
                                                     "message_id": "11"})
    return user, chat, job, consent, record


async def test_consent_and_provenance_round_trip(session, tmp_path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    user, chat, job, consent, record = await _rendered(session, blobs, _uid(), video=b"mp4" * 99)
    session.expunge_all()  # read everything back from the database, not the identity map

    found = await records.find_provenance_by_watermark(session, record.watermark_payload_hex.upper())
    assert found is not None and found.id == record.id
    assert (await records.find_provenance_by_manifest(session, record.c2pa_manifest_id)).id == record.id
    assert (await records.find_provenance_by_output(session, record.output_sha256)).id == record.id
    assert found.portrait_sha256 == blobs.put(PORTRAIT.read_bytes())  # taken over from the job
    assert found.quote_text == QUOTE
    assert found.params == {"emotion": "happy", "intensity": 0.7, "seed": 7}
    assert found.engines["tts"] == "flite 2.2"
    assert found.posted_to == [{"platform": "telegram", "chat_id": "-100" + user.platform_user_id,
                                "message_id": "11"}]
    assert found.consent_id == consent.id and found.job_id == job.id
    assert len(found.watermark_payload_hex) == 16

    stored = await records.find_consent(session, user.id, found.portrait_sha256,
                                        found.voice_sample_sha256)
    assert stored is not None and stored.id == consent.id
    assert stored.basis is ConsentBasis.PUBLIC_DOMAIN_HISTORICAL
    assert stored.statement_version == STATEMENT_VERSION
    assert stored.statement_text_sha256 == statement_sha256(ConsentBasis.PUBLIC_DOMAIN_HISTORICAL)
    assert stored.platform == "telegram" and stored.chat_id == chat.id
    assert utcnow() - stored.created_at < timedelta(minutes=1)

    await records.revoke_consent(session, consent.id)
    assert await records.find_consent(session, user.id, found.portrait_sha256) is None
    assert await records.find_provenance_by_watermark(session, records.new_watermark_payload()) is None


async def test_get_or_create_is_idempotent_and_updates_names(session) -> None:
    uid = _uid()
    first = await records.get_or_create_user(session, "discord", uid, "old name")
    again = await records.get_or_create_user(session, "discord", uid, "new name")
    assert first.id == again.id and again.display_name == "new name"
    other = await records.get_or_create_user(session, "telegram", uid)
    assert other.id != first.id
    chat = await records.get_or_create_chat(session, "discord", uid)
    assert chat.review_required is False
    assert set(chat.allowed_consent_bases) == {b.value for b in ConsentBasis}


async def test_duplicate_watermark_is_refused(session) -> None:
    payload = records.new_watermark_payload()
    await records.record_provenance(session, output_sha256="a" * 64, watermark_payload_hex=payload)
    with pytest.raises(IntegrityError):
        async with session.begin_nested():
            await records.record_provenance(session, output_sha256="b" * 64,
                                            watermark_payload_hex=payload)
    with pytest.raises(ValueError, match="16 hex"):
        await records.record_provenance(session, output_sha256="c" * 64,
                                        watermark_payload_hex="xyz")


async def test_take_down_ban_and_report_are_audited(session, tmp_path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    user, _, job, _, record = await _rendered(session, blobs, _uid(), video=b"vid" * 50)
    report = await records.file_report(session, reason="not a historical figure",
                                       provenance_id=record.id, reporter_id=user.id)
    await records.take_down(session, record.id, reason=f"report {report.id}", actor="cli:mod")
    assert record.taken_down and record.taken_down_at is not None
    await records.ban_user(session, user.id, actor="cli:mod", reason="abuse")
    assert user.banned and user.ban_reason == "abuse"
    assert await records.unban_user(session, user.id, actor="cli:mod") == 1
    assert not user.banned
    entries = (await session.execute(
        select(AuditLog.action, AuditLog.target).where(AuditLog.actor == "cli:mod")
        .order_by(AuditLog.id))).all()
    assert [tuple(e) for e in entries][-3:] == [("take_down", f"provenance:{record.id}"),
                                                ("ban", f"user:{user.id}"),
                                                ("unban", f"user:{user.id}")]
    bans = (await session.execute(select(Ban).where(Ban.user_id == user.id))).scalars().all()
    assert len(bans) == 1 and bans[0].lifted_at is not None


async def test_count_recent_jobs(session) -> None:
    user = await records.get_or_create_user(session, "cli", _uid())
    for _ in range(3):
        await records.create_job(session, user.id, quote_text="hi")
    hour_ago = utcnow() - timedelta(hours=1)
    assert await records.count_recent_jobs(session, hour_ago, user_id=user.id) == 3
    assert await records.count_recent_jobs(session, utcnow() + timedelta(seconds=5),
                                           user_id=user.id) == 0


async def test_forget_user_keeps_what_verifies_and_removes_personal_fields(session, tmp_path) -> None:
    blobs = LocalBlobStore(tmp_path / "blobs")
    uid_a, uid_b = _uid(), _uid()
    user_a, _, job_a, consent_a, prov_a = await _rendered(session, blobs, uid_a, video=b"A" * 100)
    _, _, _, _, prov_b = await _rendered(session, blobs, uid_b, video=b"B" * 100)
    result = await records.forget_user(session, user_a.id, actor="user:self")
    session.expunge_all()

    assert (result.jobs, result.provenance, result.consents) == (1, 1, 1)
    shared_portrait = prov_a.portrait_sha256
    assert shared_portrait == prov_b.portrait_sha256  # same Einstein portrait: still used by B
    assert shared_portrait not in result.blob_sha256s
    assert result.blob_sha256s == {prov_a.voice_sample_sha256, prov_a.output_sha256}

    user = await session.get(User, user_a.id)
    assert (user.display_name, user.platform_user_id) == (None, None)
    assert user.forgotten_at is not None
    job = await session.get(Job, job_a.id)
    assert (job.quote_text, job.reply_to) == (None, None)
    assert job.portrait_sha256 == shared_portrait and job.state is JobState.DONE

    found = await records.find_provenance_by_watermark(session, prov_a.watermark_payload_hex)
    assert found is not None and found.id == prov_a.id
    assert (found.quote_text, found.posted_to) == (None, [])
    assert found.output_sha256 == prov_a.output_sha256
    assert found.c2pa_manifest_id == prov_a.c2pa_manifest_id
    assert found.consent_id == consent_a.id
    other = await session.get(Provenance, prov_b.id)
    assert other.quote_text == QUOTE and other.posted_to  # B untouched

    # The same person coming back is a new user; the audit log names only internal ids.
    again = await records.get_or_create_user(session, "telegram", uid_a)
    assert again.id != user_a.id
    entry = (await session.execute(select(AuditLog).where(AuditLog.action == "forget_user",
                                                          AuditLog.target == f"user:{user_a.id}"))
             ).scalar_one()
    assert entry.actor == "user:self"
