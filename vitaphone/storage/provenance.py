"""Provenance records: what made each output video, how to find it again, and takedowns.

A video is traced back three ways: by the 64-bit watermark payload read from its frames, by its
C2PA manifest id, or by the sha256 of the exact file.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from vitaphone.storage.base import check_sha256, utcnow
from vitaphone.storage.models import Job, Provenance
from vitaphone.storage.moderation import audit

_PAYLOAD = re.compile(r"^[0-9a-f]{16}$")


def new_watermark_payload() -> str:
    """A random 64-bit watermark payload id: 16 lowercase hex characters."""
    return secrets.token_hex(8)


def check_payload(payload_hex: str) -> str:
    payload = payload_hex.strip().lower()
    if not _PAYLOAD.match(payload):
        raise ValueError(f"watermark payload must be 16 hex characters, got {payload_hex!r}")
    return payload


async def record_provenance(
    session: AsyncSession, *, output_sha256: str, watermark_payload_hex: str,
    job_id: str | None = None, consent_id: int | None = None,
    portrait_sha256: str | None = None, voice_sample_sha256: str | None = None,
    audio_sha256: str | None = None, quote_text: str | None = None,
    params: Mapping[str, Any] | None = None, engines: Mapping[str, Any] | None = None,
    c2pa_manifest_id: str | None = None, posted_to: Sequence[Mapping[str, Any]] = (),
    output_duration_s: float | None = None,
    content_fingerprint: Mapping[str, Any] | None = None,
) -> Provenance:
    """Record one output video. Inputs not given are taken from the job when `job_id` is set.

    `params`: JSON options used (emotion, intensity, seed, voice, ...); `engines`: JSON
    {engine name: version}; `posted_to`: platform message references, e.g.
    [{"platform": "telegram", "chat_id": "-100…", "message_id": "42"}];
    `content_fingerprint`: `ContentFingerprint.as_json()` of the output (frame hashes), so that
    verify can tell an edited copy of this video from another video carrying its watermark.
    Raises IntegrityError (on flush) if the payload or manifest id is already recorded.
    """
    job = await session.get(Job, job_id) if job_id is not None else None
    if job_id is not None and job is None:
        raise LookupError(f"no job with id {job_id!r}")
    record = Provenance(
        job_id=job_id,
        consent_id=consent_id if consent_id is not None else (job.consent_id if job else None),
        portrait_sha256=check_sha256(portrait_sha256 or (job and job.portrait_sha256),
                                     "portrait_sha256"),
        voice_sample_sha256=check_sha256(voice_sample_sha256 or (job and job.voice_sample_sha256),
                                         "voice_sample_sha256"),
        audio_sha256=check_sha256(audio_sha256 or (job and job.audio_sha256), "audio_sha256"),
        output_sha256=check_sha256(output_sha256, "output_sha256"),
        quote_text=quote_text if quote_text is not None else (job.quote_text if job else None),
        params=dict(params if params is not None else (job.params if job else {})),
        engines=dict(engines or {}),
        watermark_payload_hex=check_payload(watermark_payload_hex),
        c2pa_manifest_id=c2pa_manifest_id,
        posted_to=[dict(p) for p in posted_to],
        output_duration_s=output_duration_s,
        content_fingerprint=dict(content_fingerprint) if content_fingerprint is not None else None,
        created_at=utcnow(),
    )
    session.add(record)
    await session.flush()
    return record


async def add_posted_to(session: AsyncSession, provenance_id: int,
                        where: Mapping[str, Any]) -> Provenance:
    """Append one platform message reference (see `record_provenance`) after posting."""
    record = await _get(session, provenance_id)
    record.posted_to = [*record.posted_to, dict(where)]  # a new list: JSON columns track assignment
    await session.flush()
    return record


async def find_provenance_by_watermark(session: AsyncSession,
                                       payload_hex: str) -> Provenance | None:
    """The record whose watermark payload is `payload_hex` (any case), or None."""
    query = select(Provenance).where(Provenance.watermark_payload_hex == check_payload(payload_hex))
    return (await session.execute(query)).scalar_one_or_none()


async def find_provenance_by_manifest(session: AsyncSession,
                                      manifest_id: str) -> Provenance | None:
    query = select(Provenance).where(Provenance.c2pa_manifest_id == manifest_id)
    return (await session.execute(query)).scalar_one_or_none()


async def find_provenance_by_output(session: AsyncSession,
                                    output_sha256: str) -> Provenance | None:
    """The record of the exact output file with this sha256 (the newest if rendered twice)."""
    query = (select(Provenance)
             .where(Provenance.output_sha256 == check_sha256(output_sha256, "output_sha256"))
             .order_by(Provenance.created_at.desc(), Provenance.id.desc()).limit(1))
    return (await session.execute(query)).scalar_one_or_none()


async def take_down(session: AsyncSession, provenance_id: int, *, reason: str,
                    actor: str) -> Provenance:
    """Mark a video taken down (verification then reports it) and audit who did it and why."""
    record = await _get(session, provenance_id)
    if not record.taken_down:
        record.taken_down = True
        record.takedown_reason = reason
        record.taken_down_at = utcnow()
    await audit(session, actor=actor, action="take_down", target=f"provenance:{record.id}",
                reason=reason)
    return record


async def _get(session: AsyncSession, provenance_id: int) -> Provenance:
    record = await session.get(Provenance, provenance_id)
    if record is None:
        raise LookupError(f"no provenance record with id {provenance_id}")
    return record
