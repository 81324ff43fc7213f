"""`vitaphone verify` end to end: a finished video, its provenance record, and what people see."""

from __future__ import annotations

import asyncio
import hashlib
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from tests.core.marking.clips import ASSETS, as_frames, ken_burns, reencode
from vitaphone.cli import app
from vitaphone.config import load_settings
from vitaphone.consent import ConsentBasis
from vitaphone.core.marking import c2pa_credentials as cc
from vitaphone.core.marking.marks import finish_video
from vitaphone.storage.provenance import new_watermark_payload

runner = CliRunner()


async def _record(
    database_url: str, payload: str, manifest_id: str, output_sha256: str, *, taken_down: bool
) -> str:
    from vitaphone.storage import provenance, records
    from vitaphone.storage.engine import create_engine, make_sessionmaker

    engine = create_engine(database_url)
    portrait = hashlib.sha256(b"portrait").hexdigest()
    async with make_sessionmaker(engine).begin() as session:
        user = await records.get_or_create_user(session, "telegram", "1001")
        consent = await records.record_consent(
            session, user, ConsentBasis.SELF, portrait_sha256=portrait
        )
        job = await records.create_job(
            session, user.id, consent_id=consent.id, portrait_sha256=portrait, quote_text="Hello"
        )
        row = await provenance.record_provenance(
            session,
            output_sha256=output_sha256,
            watermark_payload_hex=payload,
            job_id=job.id,
            c2pa_manifest_id=manifest_id,
        )
        if taken_down:
            await provenance.take_down(
                session, row.id, reason="reported impersonation", actor="moderator:1"
            )
    await engine.dispose()
    return job.id


@pytest.fixture()
def made_video(tmp_path: Path) -> tuple[Path, str]:
    """A finished (marked, encoded, signed) 2 s clip made with this instance's credentials."""
    from vitaphone.storage.migrate import upgrade_database

    settings = load_settings()
    upgrade_database(settings.database_url)
    credentials = cc.load_or_create_credentials(settings.data_dir / cc.CREDENTIALS_SUBDIR)
    payload = new_watermark_payload()
    clip = ken_burns(ASSETS / "portraits" / "mona_lisa.jpg", 50)
    done = finish_video(
        as_frames(clip),
        None,
        16000,
        tmp_path / "made.mp4",
        assertion=cc.ProvenanceAssertion(payload, "self"),
        credentials=credentials,
        version="0.1.0",
    )
    return done.path, payload


def _made_and_recorded(
    made_video: tuple[Path, str], *, taken_down: bool = False
) -> tuple[Path, str, str]:
    path, payload = made_video
    manifest = cc.read_credentials(path).manifest_id
    sha = hashlib.sha256(path.read_bytes()).hexdigest()
    job_id = asyncio.run(
        _record(load_settings().database_url, payload, manifest, sha, taken_down=taken_down)
    )
    return path, payload, job_id


def test_our_video_names_its_job_and_consent(made_video: tuple[Path, str]) -> None:
    path, payload, job_id = _made_and_recorded(made_video)
    result = runner.invoke(app, ["verify", str(path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert (
        "Made by this Vitaphone instance on" in text and f"for job {job_id} (consent: self)" in text
    )
    assert "Taken down: no." in text
    assert "valid and trusted" in text and f"payload {payload}" in text


def test_json_output(made_video: tuple[Path, str]) -> None:
    path, payload, job_id = _made_and_recorded(made_video, taken_down=True)
    result = runner.invoke(app, ["verify", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["marked"] is True and data["c2pa"]["status"] == "trusted"
    assert data["watermark"]["payload_hex"] == payload and data["watermark"]["raw_ber"] < 0.05
    assert data["provenance"]["job_id"] == job_id and data["provenance"]["taken_down"] is True
    assert "Taken down: yes (reported impersonation)." in data["lines"][0]


def test_reencoded_copy_without_credentials_is_still_traced(
    made_video: tuple[Path, str], tmp_path: Path
) -> None:
    path, _, job_id = _made_and_recorded(made_video)
    copy = reencode(path, tmp_path / "copy.mp4", crf=28)  # a platform re-encode drops the manifest
    result = runner.invoke(app, ["verify", str(copy), "--json"])
    data = json.loads(result.output)
    assert result.exit_code == 0, data["watermark"]
    assert data["c2pa"]["status"] == "absent" and data["provenance"]["found_by"] == "watermark"
    assert data["provenance"]["job_id"] == job_id


def test_tampered_file_says_invalid(made_video: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = made_video
    data = bytearray(path.read_bytes())
    data[len(data) * 2 // 3] ^= 0x01
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    result = runner.invoke(app, ["verify", str(tampered)])
    assert result.exit_code == 0  # the watermark and the (broken) manifest are still ours
    assert "INVALID: the file was changed after signing" in " ".join(result.output.split())


def test_unmarked_video_exits_1() -> None:
    result = runner.invoke(app, ["verify", str(ASSETS / "M030_front_neutral_level1_001.mp4")])
    assert result.exit_code == 1
    assert "No Vitaphone marks found." in result.output


def test_not_a_video_exits_2_without_traceback(tmp_path: Path) -> None:
    junk = tmp_path / "photo.mp4"
    junk.write_bytes(b"\x89PNG not really")
    result = runner.invoke(app, ["verify", str(junk)])
    assert result.exit_code == 2
    assert "photo.mp4 is not a readable video" in result.output and "Traceback" not in result.output
    assert runner.invoke(app, ["verify", str(tmp_path / "nope.mp4")]).exit_code == 2


async def test_verify_video_without_records(made_video: tuple[Path, str]) -> None:
    from vitaphone.verification import verify_video

    path, payload = made_video
    verdict = await verify_video(path)
    assert (
        verdict.marked and verdict.provenance is None and verdict.watermark.payload_hex == payload
    )
    assert verdict.lines[0] == "Made with Vitaphone (provenance records not consulted)."
    assert verdict.c2pa.status == "valid"  # no trust anchor given


async def test_unmigrated_database_is_reported_not_raised(
    made_video: tuple[Path, str], tmp_path: Path
) -> None:
    from vitaphone.storage.engine import create_engine, make_sessionmaker
    from vitaphone.verification import verify_video

    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")  # no tables
    try:
        verdict = await verify_video(made_video[0], session_factory=make_sessionmaker(engine))
    finally:
        await engine.dispose()
    assert verdict.marked and verdict.provenance is None
    assert "no such table" in (verdict.lookup_error or "")
    assert verdict.lines[0].startswith("Made with Vitaphone; its record could not be looked up")
