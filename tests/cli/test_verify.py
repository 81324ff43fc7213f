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
    database_url: str, payload: str, manifest_id: str, video: Path, *, taken_down: bool
) -> str:
    from vitaphone.core.marking.marks import fingerprint_video

    from vitaphone.storage import provenance, records
    from vitaphone.storage.engine import create_engine, make_sessionmaker

    fingerprint = fingerprint_video(video)  # what Studio.run keeps with the record
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
            output_sha256=fingerprint.sha256,
            watermark_payload_hex=payload,
            job_id=job.id,
            c2pa_manifest_id=manifest_id,
            output_duration_s=fingerprint.duration_s,
            content_fingerprint=fingerprint.as_json(),
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
    clip = ken_burns(ASSETS / "portraits" / "mona_lisa.jpg", 50, size=512)  # a render's size
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
    job_id = asyncio.run(
        _record(load_settings().database_url, payload, manifest, path, taken_down=taken_down)
    )
    return path, payload, job_id


def test_our_exact_file_names_its_job_and_consent(made_video: tuple[Path, str]) -> None:
    path, payload, job_id = _made_and_recorded(made_video)
    result = runner.invoke(app, ["verify", str(path)])
    assert result.exit_code == 0, result.output
    text = " ".join(result.output.split())
    assert "This is exactly the AI-generated video this Vitaphone instance made on" in text
    assert f"for job {job_id}." in text and "Consent: self. Taken down: no." in text
    assert "intact, signed by \"Vitaphone content signer\", a signer we trust." in text
    assert f"Invisible watermark: found (id {payload};" in text


def test_json_output(made_video: tuple[Path, str]) -> None:
    path, payload, job_id = _made_and_recorded(made_video, taken_down=True)
    result = runner.invoke(app, ["verify", str(path), "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["marked"] is True and data["c2pa"]["status"] == "trusted"
    assert data["watermark"]["payload_hex"] == payload and data["watermark"]["raw_ber"] < 0.1
    assert data["provenance"]["job_id"] == job_id and data["provenance"]["taken_down"] is True
    assert data["kind"] == "exact" and data["provenance"]["found_by"] == "sha256"
    assert data["lines"][1] == "Consent: self. Taken down: yes (reported impersonation)."


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
    assert data["kind"] == "copy" and data["content"]["same_content"] is True
    assert data["lines"][0].startswith("This is a copy of the AI-generated video this Vitaphone")


def test_our_mark_copied_into_another_video_is_a_possible_forgery(
    made_video: tuple[Path, str], tmp_path: Path
) -> None:
    """The watermark key is public: anyone can put our payload into a real person's video. The
    picture does not match the record, so verify must not say we made it."""
    from vitaphone.core.marking.watermark import embed_watermark
    from vitaphone.core.media.encode import encode_mp4
    from vitaphone.core.media.video_io import read_video

    _, payload, job_id = _made_and_recorded(made_video)
    real = read_video(ASSETS / "M030_front_neutral_level1_001.mp4", with_audio=False,
                      max_frames=50).rgb  # fmt: skip
    forged = tmp_path / "forged.mp4"
    encode_mp4(as_frames(embed_watermark(real, payload)), None, 0, forged, crf=20)
    result = runner.invoke(app, ["verify", str(forged), "--json"])
    data = json.loads(result.output)
    assert data["watermark"]["payload_hex"] == payload  # the copied mark reads fine...
    assert data["kind"] == "mismatch" and data["content"]["same_content"] is False  # ...but
    assert data["provenance"]["job_id"] == job_id
    assert result.exit_code == 3
    assert data["lines"][0].startswith("Warning: possible forgery.")
    text = " ".join(runner.invoke(app, ["verify", str(forged)]).output.split())
    assert "does NOT match our record" in text and "This is exactly" not in text


def test_a_video_signed_by_another_instance_is_untrusted_not_changed(
    made_video: tuple[Path, str], tmp_path: Path
) -> None:
    """This instance has rendered (so its root is the trust anchor); a file signed by another
    instance's chain is intact: it must not read as changed after signing."""
    from vitaphone.core.media.encode import encode_mp4

    _, foreign_chain, foreign_key = cc.create_chain("Vitaphone")
    foreign = cc.SigningCredentials(foreign_chain, foreign_key, None)
    unsigned = tmp_path / "unsigned.mp4"
    encode_mp4(as_frames(ken_burns(ASSETS / "portraits" / "einstein.jpg", 25)), None, 0, unsigned)
    signed = tmp_path / "foreign.mp4"
    cc.sign_mp4(unsigned, signed, foreign, cc.ProvenanceAssertion("0123456789abcdef", "self"),
                version="0.1.0")  # fmt: skip
    result = runner.invoke(app, ["verify", str(signed), "--json"])
    data = json.loads(result.output)
    assert data["c2pa"]["status"] == "untrusted", data["c2pa"]
    assert data["c2pa"]["failures"] == ["signingCredential.untrusted"]
    assert data["kind"] == "marked" and result.exit_code == 0
    text = " ".join(data["lines"])
    assert "a signer we do not trust" in text and "changed after" not in text
    assert "this instance has no record of it" in text


def test_tampered_file_says_invalid(made_video: tuple[Path, str], tmp_path: Path) -> None:
    path, _ = made_video
    data = bytearray(path.read_bytes())
    data[len(data) * 2 // 3] ^= 0x01
    tampered = tmp_path / "tampered.mp4"
    tampered.write_bytes(bytes(data))
    result = runner.invoke(app, ["verify", str(tampered)])
    assert result.exit_code == 0  # the watermark and the (broken) manifest are still ours
    assert "BROKEN: the file was changed after it was signed" in " ".join(result.output.split())


def test_unmarked_video_exits_1() -> None:
    result = runner.invoke(app, ["verify", str(ASSETS / "M030_front_neutral_level1_001.mp4")])
    assert result.exit_code == 1
    text = " ".join(result.output.split())
    assert "No Vitaphone marks found. That does not show the video is real" in text


def test_not_a_video_exits_2_without_traceback(tmp_path: Path) -> None:
    junk = tmp_path / "photo.mp4"
    junk.write_bytes(b"\x89PNG not really")
    result = runner.invoke(app, ["verify", str(junk)])
    assert result.exit_code == 2
    assert "photo.mp4 is not a readable video" in result.output
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert runner.invoke(app, ["verify", str(tmp_path / "nope.mp4")]).exit_code == 2


async def test_verify_video_without_records(made_video: tuple[Path, str]) -> None:
    from vitaphone.verification import verify_video

    path, payload = made_video
    verdict = await verify_video(path)
    assert (
        verdict.marked and verdict.provenance is None and verdict.watermark.payload_hex == payload
    )
    assert verdict.kind == "marked" and verdict.content is None
    assert verdict.lines[0].startswith("This video carries a Vitaphone mark (provenance records")
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
    assert verdict.lines[0].startswith("This video carries a Vitaphone mark; its record could not")
