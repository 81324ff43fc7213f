"""Is this video one of ours? Content Credentials + watermark + the provenance records.

`verify_video` serves `vitaphone verify` and the bots' /verify: it reads the C2PA manifest, the
invisible watermark and a fingerprint of the picture (core), finds the provenance record by the
file's sha256, the watermark payload or the manifest id (storage), compares the picture with the
fingerprint kept at render time, and words one verdict a person understands (`Verdict.kind`):

exact     the very file we made;
copy      a re-encoded or edited copy of what we made (the picture matches the record);
mismatch  our watermark is there but the picture is not what we made: the key is public, so a
          mark can be copied into any video; possible forgery, never "made by us";
marked    a Vitaphone mark, but nothing to compare it with (no records consulted, no record
          here, a record from before fingerprints, or the lookup failed);
none      no marks, which does not show that a video is real.
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
    STATUS_UNTRUSTED,
    STATUS_VALID,
    CredentialsReport,
)
from vitaphone.core.marking.fingerprint import (
    SAME_CONTENT_MAX_BITS,
    ContentComparison,
    ContentFingerprint,
    compare,
)
from vitaphone.core.marking.marks import VideoMarks, inspect_video
from vitaphone.core.marking.watermark import WatermarkReading

KIND_EXACT, KIND_COPY, KIND_MISMATCH, KIND_MARKED, KIND_NONE = (
    "exact", "copy", "mismatch", "marked", "none")  # fmt: skip

SessionFactory = Callable[[], Any]  # an async_sessionmaker: `async with factory() as session`


def local_trust_anchor(data_dir: Path) -> bytes | None:
    """This instance's C2PA root certificate (PEM), if it has made one, to read `Trusted`."""
    root = data_dir / CREDENTIALS_SUBDIR / ROOT_CERT_FILE
    return root.read_bytes() if root.is_file() else None


@dataclass(frozen=True)
class ProvenanceMatch:
    """The provenance record a file leads to (no personal data: ids, dates, basis, state).

    found_by: "sha256" (the exact file), "watermark" or "c2pa"; fingerprint: what the record
    kept about the picture (None for a record made before fingerprints)."""

    provenance_id: int
    job_id: str | None
    created_at: datetime
    consent_basis: str | None
    taken_down: bool
    takedown_reason: str | None
    found_by: str
    fingerprint: ContentFingerprint | None = None


@dataclass(frozen=True)
class Verdict:
    """kind: exact | copy | mismatch | marked | none (see the module docstring).
    marked: a Vitaphone watermark or manifest (even a broken one) is present, or the file is
    exactly one we made. content: the picture compared with the record's fingerprint (None when
    there was no fingerprint to compare). lines: the verdict in plain words, the headline first,
    one statement per line (what the CLI prints and the bots send)."""

    path: str
    marked: bool
    c2pa: CredentialsReport
    watermark: WatermarkReading
    provenance: ProvenanceMatch | None
    lookup_error: str | None
    lines: tuple[str, ...]
    kind: str = KIND_NONE
    content: ContentComparison | None = None

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
    match, lookup_error = None, None
    if session_factory is not None:
        try:
            match = await _lookup(session_factory, marks)
        except Exception as exc:  # noqa: BLE001 - a broken database must not hide the marks
            first_line = mask_url(str(exc)).splitlines()[0] if str(exc) else ""
            lookup_error = f"{type(exc).__name__}: {first_line}".strip(": ")
    content = (
        compare(match.fingerprint, marks.content)
        if match is not None and match.fingerprint is not None
        else None
    )
    kind = _kind(marks, match, content)
    lines = _verdict_lines(kind, marks, match, content, lookup_error, session_factory is not None)
    return Verdict(str(file), kind != KIND_NONE, marks.credentials, marks.watermark, match,
                   lookup_error, tuple(lines), kind, content)  # fmt: skip


def _ours(marks: VideoMarks) -> bool:
    return marks.watermark.found or marks.credentials.assertion is not None


def _kind(marks: VideoMarks, match: ProvenanceMatch | None,
          content: ContentComparison | None) -> str:  # fmt: skip
    if match is not None and match.found_by == "sha256":
        return KIND_EXACT
    if content is not None:
        if content.exact:
            return KIND_EXACT
        return KIND_COPY if content.same_content else KIND_MISMATCH
    return KIND_MARKED if _ours(marks) else KIND_NONE


async def _lookup(factory: SessionFactory, marks: VideoMarks) -> ProvenanceMatch | None:
    """The record of the exact file (sha256), else the one the watermark or an intact manifest
    names."""
    from vitaphone.storage.models import ConsentRecord
    from vitaphone.storage.provenance import (
        find_provenance_by_manifest,
        find_provenance_by_output,
        find_provenance_by_watermark,
    )

    watermark, credentials = marks.watermark, marks.credentials
    async with factory() as session:
        record = await find_provenance_by_output(session, marks.content.sha256)
        found_by = "sha256"
        if record is None and watermark.found and watermark.payload_hex:
            record = await find_provenance_by_watermark(session, watermark.payload_hex)
            found_by = "watermark"
        # An intact manifest is as good a key as the watermark; a tampered one is not trusted.
        if (
            record is None
            and credentials.status in (STATUS_VALID, STATUS_UNTRUSTED, STATUS_TRUSTED)
            and credentials.manifest_id
        ):
            record = await find_provenance_by_manifest(session, credentials.manifest_id)
            found_by = "c2pa"
        if record is None:
            return None
        consent = (
            await session.get(ConsentRecord, record.consent_id)
            if record.consent_id is not None
            else None
        )
        fingerprint = (
            ContentFingerprint.from_json(record.output_sha256, record.output_duration_s or 0.0,
                                         record.content_fingerprint)  # fmt: skip
            if record.content_fingerprint
            else None
        )
        return ProvenanceMatch(
            record.id,
            record.job_id,
            record.created_at,
            consent.basis.value if consent is not None else None,
            bool(record.taken_down),
            record.takedown_reason,
            found_by,
            fingerprint,
        )


# --- wording: for a person in a chat, not for an expert ------------------------------------
_NOT_PROOF = ("That does not show the video is real: marks can be removed, and other tools "
              "make fake videos without any.")  # fmt: skip


def _verdict_lines(
    kind: str,
    marks: VideoMarks,
    match: ProvenanceMatch | None,
    content: ContentComparison | None,
    lookup_error: str | None,
    looked_up: bool,
) -> list[str]:
    credentials, watermark = marks.credentials, marks.watermark
    if kind == KIND_NONE:
        lines = [f"No Vitaphone marks found. {_NOT_PROOF}"]
        if credentials.status != STATUS_ABSENT:
            lines.append(f"Content Credentials: {_c2pa_line(credentials)}")
        return lines
    made = _made(match) if match is not None else ""
    if kind == KIND_EXACT:
        lines = [f"This is exactly the AI-generated video this Vitaphone instance made {made}."]
    elif kind == KIND_COPY:
        lines = [f"This is a copy of the AI-generated video this Vitaphone instance made {made}, "
                 "changed since (for example re-encoded, resized or cropped by an app)."]  # fmt: skip
    elif kind == KIND_MISMATCH:
        lines = [f"Warning: possible forgery. This video carries the invisible mark of a video "
                 f"this Vitaphone instance made {made}, but its picture is not that video. "
                 "Someone may have copied the mark into another video: the mark does not show "
                 "that we made this one, nor that it is AI-generated."]  # fmt: skip
    elif match is not None:  # a record from before fingerprints: nothing to compare
        lines = [f"This video carries the mark of a video this Vitaphone instance made {made}. "
                 "That record has no picture fingerprint, so we cannot check that this is the "
                 "same picture."]  # fmt: skip
    elif lookup_error is not None:
        lines = [f"This video carries a Vitaphone mark; its record could not be looked up "
                 f"({lookup_error})."]  # fmt: skip
    elif looked_up:
        lines = ["This video carries a Vitaphone mark, but this instance has no record of it: "
                 "another Vitaphone instance made it, or the mark was copied from one."]  # fmt: skip
    else:
        lines = ["This video carries a Vitaphone mark (provenance records not consulted, so "
                 "we cannot tell whether the picture is one we made)."]  # fmt: skip
    if match is not None and kind != KIND_MISMATCH:
        lines.append(_record_line(match))
    if content is not None and content.median_bits is not None and kind != KIND_EXACT:
        same = "matches" if content.same_content else "does NOT match"
        lines.append(f"Picture check: {same} our record (difference {content.median_bits:.0f} "
                     f"of 64; up to {SAME_CONTENT_MAX_BITS} means the same picture, unrelated "
                     "videos differ by about 32).")  # fmt: skip
    lines.append(f"Content Credentials: {_c2pa_line(credentials)}")
    lines.append(_watermark_line(watermark))
    return lines


def _made(match: ProvenanceMatch) -> str:
    when = match.created_at.strftime("%Y-%m-%d %H:%M UTC")
    job = f"job {match.job_id}" if match.job_id else f"record {match.provenance_id}"
    return f"on {when} for {job}"


def _record_line(match: ProvenanceMatch) -> str:
    consent = match.consent_basis or "not recorded"
    taken = "no"
    if match.taken_down:
        taken = f"yes ({match.takedown_reason})" if match.takedown_reason else "yes"
    return f"Consent: {consent}. Taken down: {taken}."


def _watermark_line(watermark: WatermarkReading) -> str:
    if not watermark.found:
        return "Invisible watermark: not found (the video may have been heavily edited)."
    edits = []
    if watermark.view_box != (0.0, 0.0, 1.0, 1.0):
        edits.append("cropped")
    if watermark.mirrored:
        edits.append("mirrored")
    how = f"; the copy is {' and '.join(edits)}" if edits else ""
    return (f"Invisible watermark: found (id {watermark.payload_hex}; {watermark.raw_ber:.0%} of "
            f"its bits were damaged and repaired{how}).")  # fmt: skip


# c2pa failure codes, grouped by what they mean to a person.
_CHANGED = ("assertion.bmffHash.", "assertion.dataHash.", "assertion.boxesHash.",
            "assertion.hashedURI.", "assertion.collectionHash.")  # fmt: skip
_CERTIFICATE = ("signingCredential.", "timeStamp.")


def _c2pa_line(report: CredentialsReport) -> str:
    who = f'"{report.signer}"' if report.signer else "an unnamed signer"
    if report.status == STATUS_ABSENT:
        return "none (never signed, or removed: most apps remove them when they re-encode)."
    if report.status == STATUS_TRUSTED:
        return f"intact, signed by {who}, a signer we trust."
    if report.status == STATUS_UNTRUSTED:
        return (f"intact (not changed since it was signed), but signed by {who}, a signer we "
                "do not trust: anyone can make a signer with any name, so this does not show "
                "who made it.")  # fmt: skip
    if report.status == STATUS_VALID:
        return f"intact, signed by {who} (no list of trusted signers here to check it against)."
    assert report.status == STATUS_INVALID
    codes = ", ".join(report.failures) or "unreadable"
    if any(code.startswith(_CHANGED) for code in report.failures):
        return f"BROKEN: the file was changed after it was signed ({codes})."
    if any(code.startswith(_CERTIFICATE) for code in report.failures):
        return (f"BROKEN: the signer's certificate is invalid, expired or revoked ({codes}).")
    return f"BROKEN: the signature does not check out ({codes})."
