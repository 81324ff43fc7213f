"""Is this video one of ours? Content Credentials + watermark + the provenance records.

`verify_video` serves `vitaphone verify` and the bots' /verify: it reads the C2PA manifest and
the invisible watermark (core), looks the payload up in this instance's provenance table
(storage), and words a verdict a person understands.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from vitaphone.config import mask_url
from vitaphone.core.marking.c2pa_credentials import (
    CREDENTIALS_SUBDIR,
    ROOT_CERT_FILE,
    STATUS_ABSENT,
    STATUS_INVALID,
    STATUS_TRUSTED,
    STATUS_VALID,
    CredentialsReport,
)
from vitaphone.core.marking.marks import inspect_video
from vitaphone.core.marking.watermark import WatermarkReading

SessionFactory = Callable[[], Any]  # an async_sessionmaker: `async with factory() as session`


def local_trust_anchor(data_dir: Path) -> bytes | None:
    """This instance's C2PA root certificate (PEM), if it has made one, to read `Trusted`."""
    root = data_dir / CREDENTIALS_SUBDIR / ROOT_CERT_FILE
    return root.read_bytes() if root.is_file() else None


@dataclass(frozen=True)
class ProvenanceMatch:
    """The provenance record a mark leads to (no personal data: ids, dates, basis, state)."""

    provenance_id: int
    job_id: str | None
    created_at: datetime
    consent_basis: str | None
    taken_down: bool
    takedown_reason: str | None
    found_by: str  # "watermark" or "c2pa"


@dataclass(frozen=True)
class Verdict:
    """marked: a Vitaphone watermark or a Vitaphone manifest (even a tampered one) is present.
    lines: the human-readable verdict, one statement per line."""

    path: str
    marked: bool
    c2pa: CredentialsReport
    watermark: WatermarkReading
    provenance: ProvenanceMatch | None
    lookup_error: str | None
    lines: tuple[str, ...]

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        if self.provenance is not None:
            data["provenance"]["created_at"] = self.provenance.created_at.isoformat()
        return data


async def verify_video(
    path: str | os.PathLike[str],
    *,
    session_factory: SessionFactory | None = None,
    trust_anchor_pem: bytes | None = None,
) -> Verdict:
    """Verify the video at `path`. Decoding runs in a worker thread (the bots' loop stays free).

    Raises `BadVideo` for a file that is not a readable video. Without `session_factory` the
    verdict is about the marks only; a failing database is reported, not raised.
    """
    file = Path(path)
    marks = await asyncio.to_thread(inspect_video, file, trust_anchor_pem)
    credentials, watermark = marks.credentials, marks.watermark
    ours = credentials.assertion is not None
    match, lookup_error = None, None
    if session_factory is not None and (watermark.found or ours):
        try:
            match = await _lookup(session_factory, watermark, credentials)
        except Exception as exc:  # noqa: BLE001 - a broken database must not hide the marks
            first_line = mask_url(str(exc)).splitlines()[0] if str(exc) else ""
            lookup_error = f"{type(exc).__name__}: {first_line}".strip(": ")
    marked = watermark.found or ours
    lines = _verdict_lines(credentials, watermark, match, lookup_error, session_factory is not None)
    return Verdict(str(file), marked, credentials, watermark, match, lookup_error, tuple(lines))


async def _lookup(
    factory: SessionFactory, watermark: WatermarkReading, credentials: CredentialsReport
) -> ProvenanceMatch | None:
    from vitaphone.storage.models import ConsentRecord
    from vitaphone.storage.provenance import (
        find_provenance_by_manifest,
        find_provenance_by_watermark,
    )

    async with factory() as session:
        record, found_by = None, "watermark"
        if watermark.found and watermark.payload_hex:
            record = await find_provenance_by_watermark(session, watermark.payload_hex)
        # An intact manifest is as good a key as the watermark; a tampered one is not trusted.
        if (
            record is None
            and credentials.status in (STATUS_VALID, STATUS_TRUSTED)
            and credentials.manifest_id
        ):
            record, found_by = (
                await find_provenance_by_manifest(session, credentials.manifest_id),
                "c2pa",
            )
        if record is None:
            return None
        consent = (
            await session.get(ConsentRecord, record.consent_id)
            if record.consent_id is not None
            else None
        )
        basis = consent.basis.value if consent is not None else None
        return ProvenanceMatch(
            record.id,
            record.job_id,
            record.created_at,
            basis,
            bool(record.taken_down),
            record.takedown_reason,
            found_by,
        )


def _verdict_lines(
    credentials: CredentialsReport,
    watermark: WatermarkReading,
    match: ProvenanceMatch | None,
    lookup_error: str | None,
    looked_up: bool,
) -> list[str]:
    ours = credentials.assertion is not None
    if not watermark.found and not ours:
        lines = ["No Vitaphone marks found."]
        if credentials.status != STATUS_ABSENT:
            lines.append(f"Content Credentials: {_c2pa_line(credentials)}")
        return lines
    lines = []
    if match is not None:
        when = match.created_at.strftime("%Y-%m-%d %H:%M UTC")
        job = f"job {match.job_id}" if match.job_id else f"record {match.provenance_id}"
        consent = match.consent_basis or "not recorded"
        taken = (
            f"yes ({match.takedown_reason})"
            if match.taken_down and match.takedown_reason
            else ("yes" if match.taken_down else "no")
        )
        lines.append(
            f"Made by this Vitaphone instance on {when} for {job} (consent: {consent}). Taken down: {taken}."
        )
    elif lookup_error is not None:
        lines.append(f"Made with Vitaphone; its record could not be looked up ({lookup_error}).")
    elif looked_up:
        lines.append(
            "Made with Vitaphone, but not by this instance (no matching provenance record)."
        )
    else:
        lines.append("Made with Vitaphone (provenance records not consulted).")
    lines.append(f"Content Credentials: {_c2pa_line(credentials)}")
    if watermark.found:
        lines.append(
            f"Invisible watermark: found, payload {watermark.payload_hex} "
            f"(raw bit error rate {watermark.raw_ber:.1%} before error correction)."
        )
    else:
        lines.append("Invisible watermark: not found (the video may have been heavily edited).")
    return lines


def _c2pa_line(report: CredentialsReport) -> str:
    if report.status == STATUS_ABSENT:
        return "none (stripped, or never signed)."
    who = f"signed by {report.signer}" if report.signer else "signed"
    if report.status == STATUS_TRUSTED:
        return f"valid and trusted ({who}; our root certificate)."
    if report.status == STATUS_VALID:
        return f"valid ({who}; the signer is not in your trust list)."
    assert report.status == STATUS_INVALID
    reasons = ", ".join(report.failures) or "unreadable manifest"
    return f"INVALID: the file was changed after signing ({reasons})."
