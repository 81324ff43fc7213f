"""`vitaphone animate`: consent is required (and said why), bad input is one clear message, and
a real render writes a verifiable, labelled MP4 tied to a consent record."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vitaphone.cli import app

ASSETS = Path(__file__).parent.parent / "assets"
PORTRAIT = ASSETS / "portraits" / "einstein.jpg"
runner = CliRunner()


class _Result:
    """exit_code and output with Rich's line wrapping undone (messages wrap at 80 columns)."""

    def __init__(self, result) -> None:
        self.exit_code = result.exit_code
        self.exception = result.exception
        self.output = " ".join(result.output.split())

    def refused(self, code: int = 2) -> bool:
        """Exited with `code` on purpose: typer's runner keeps a crash out of the output and
        in `exception`, so "Traceback" never appears there either way."""
        return self.exit_code == code and isinstance(self.exception, SystemExit)


def _run(*args: str) -> _Result:
    return _Result(runner.invoke(app, ["animate", *args]))


def test_refuses_without_consent_and_says_why(tmp_path: Path) -> None:
    result = _run("--portrait", str(PORTRAIT), "--text", "Hello.", "-o", str(tmp_path / "o.mp4"))
    assert result.refused(2), result.exception
    assert "consent basis is required" in result.output
    assert "self, permission, public_domain_historical" in result.output
    assert not (tmp_path / "o.mp4").exists()


def test_unknown_consent_basis_is_refused(tmp_path: Path) -> None:
    result = _run("--portrait", str(PORTRAIT), "--text", "Hi.", "--consent", "yes",
                  "-o", str(tmp_path / "o.mp4"))
    assert result.exit_code == 2
    assert "Unknown consent basis 'yes'" in result.output


def test_demo_implies_public_domain_and_refuses_another_basis(tmp_path: Path) -> None:
    result = _run("--demo", "--consent", "self", "-o", str(tmp_path / "o.mp4"))
    assert result.exit_code == 2
    assert "public_domain_historical" in result.output


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--portrait", "missing.jpg", "--text", "Hi."], "missing.jpg does not exist"),
        (["--portrait", str(PORTRAIT)], "Nothing to say"),
        (["--portrait", str(PORTRAIT), "--text", "Hi.", "--emotion", "bored"], "bored"),
        (["--portrait", str(PORTRAIT), "--text", "Hi.", "--intensity", "3"], "intensity"),
        (["--portrait", str(PORTRAIT), "--text", "Hi.", "--device", "tpu"], "Unknown device"),
    ],
)
def test_bad_arguments_give_one_clear_error(tmp_path: Path, args: list[str], expected: str) -> None:
    result = _run(*args, "--consent", "self", "-o", str(tmp_path / "o.mp4"))
    assert result.refused(2), (result.output, result.exception)
    assert expected in result.output


def test_portrait_without_a_face_fails_cleanly_and_names_the_file(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.jpg"
    text_file.write_text("this is not an image")
    result = _run("--portrait", str(text_file), "--text", "Hi.", "--consent", "self",
                  "-o", str(tmp_path / "o.mp4"))
    assert result.refused(2), result.exception
    assert "notes.jpg" in result.output


@pytest.mark.slow
def test_renders_a_labelled_verifiable_video(tmp_path: Path) -> None:
    out = tmp_path / "hello.mp4"
    result = _run("--portrait", str(PORTRAIT), "--text", "Hello there, my friend.",
                  "--consent", "permission", "--emotion", "sad", "--device", "cpu", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 10_000
    assert "Labelled as AI-generated" in result.output
    verified = _Result(runner.invoke(app, ["verify", str(out)]))
    assert verified.exit_code == 0, verified.output
    assert "permission" in verified.output
    assert "exactly the AI-generated video this Vitaphone instance made" in verified.output


# --- input safety: bounded reads, -o, markup, crashes, speed -----------------------------------
# The child's own peak: VmHWM belongs to the address space exec made (ru_maxrss would keep the
# forked parent's size, pytest's with torch loaded).
_PEAK = ("import re, runpy, sys\n"
         "try:\n    runpy.run_module('vitaphone', run_name='__main__')\n"
         "finally:\n    hwm = re.search(r'VmHWM:\\s+(\\d+)', open('/proc/self/status').read())\n"
         "    print('PEAK_RSS_KB', hwm.group(1), file=sys.stderr)\n")


def _cli(*args: str, env: dict[str, str] | None = None) -> tuple[subprocess.CompletedProcess, float, float]:
    """`vitaphone ARGS` in a fresh process: (result, wall seconds, that process's peak RSS MB)."""
    import time

    started = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", _PEAK, *args], capture_output=True,
                            text=True, timeout=60, env={**os.environ, **(env or {})})
    wall = time.perf_counter() - started
    peak = re.search(r"PEAK_RSS_KB (\d+)", result.stderr)
    assert peak, result.stderr
    result.stderr = result.stderr[: peak.start()]
    return result, wall, int(peak.group(1)) / 1024


def test_the_zero_device_as_portrait_is_refused_within_two_seconds(tmp_path: Path) -> None:
    result, wall, _ = _cli("animate", "--portrait", "/dev/zero", "--text", "Hi.",
                           "--consent", "self", "-o", str(tmp_path / "o.mp4"))
    assert result.returncode == 2, result.stderr
    assert "/dev/zero is larger than the 10 MiB limit" in " ".join(result.stderr.split())
    assert wall < 2.0
    assert not (tmp_path / "vitaphone-data" / "vitaphone.db").exists()  # before the database


def test_a_600_mb_portrait_is_refused_without_reading_it(tmp_path: Path) -> None:
    huge = tmp_path / "huge.jpg"
    with huge.open("wb") as handle:
        handle.truncate(600 * 2**20)  # sparse: no disk used
    result, wall, peak_mb = _cli("animate", "--portrait", str(huge), "--text", "Hi.",
                                 "--consent", "self", "-o", str(tmp_path / "o.mp4"))
    assert result.returncode == 2 and "huge.jpg is larger than" in " ".join(result.stderr.split())
    assert peak_mb < 300  # was 1.6 GB
    assert wall < 2.0


@pytest.mark.parametrize(("args", "expected"), [
    (["--text", "مرحبا بالعالم", "--language", "en"], "which the 'en' voice cannot read"),
    (["--text", "9" * 299], "limit is 30 s of speech"),
    (["--text", "Hi.", "--voice", str(ASSETS / "speech" / "picture.png")], "picture.png' has no sound"),
])
def test_bad_input_is_refused_before_the_database_is_touched(
        tmp_path: Path, _isolated_settings: Path, args: list[str], expected: str) -> None:
    result = _run("--portrait", str(PORTRAIT), *args, "--consent", "self",
                  "-o", str(tmp_path / "o.mp4"))
    assert result.refused(2), (result.output, result.exception)
    assert expected in result.output
    assert not (_isolated_settings / "vitaphone.db").exists()


def test_out_may_not_be_an_input_even_with_force(tmp_path: Path) -> None:
    portrait = tmp_path / "me.jpg"
    portrait.write_bytes(PORTRAIT.read_bytes())
    for extra in ([], ["--force"]):
        result = _run("--portrait", str(portrait), "--text", "Hi.", "--consent", "self",
                      "-o", str(tmp_path / "." / "me.jpg"), *extra)
        assert result.refused(2), result.output
        assert "is also an input" in result.output
    assert portrait.read_bytes() == PORTRAIT.read_bytes()


def test_an_existing_output_needs_force(tmp_path: Path) -> None:
    out = tmp_path / "o.mp4"
    out.write_bytes(b"my holiday video")
    result = _run("--portrait", str(PORTRAIT), "--text", "Hi.", "--consent", "self",
                  "-o", str(out))
    assert result.refused(2) and "already exists" in result.output and "--force" in result.output
    assert out.read_bytes() == b"my holiday video"


def test_user_text_is_printed_literally_not_as_markup(tmp_path: Path) -> None:
    result = _run("--portrait", str(tmp_path / "[/bold]x[red].jpg"), "--text", "Hi.",
                  "--consent", "self", "-o", str(tmp_path / "o.mp4"))
    assert result.refused(2), result.exception  # was a rich MarkupError
    assert "[/bold]x[red].jpg does not exist" in result.output


def test_an_internal_failure_is_one_line_with_a_reference_in_the_log(
        tmp_path: Path, _isolated_settings: Path) -> None:
    _isolated_settings.mkdir(parents=True)
    (_isolated_settings / "vitaphone.db").write_bytes(b"this is not a database" * 10)
    result, _, _ = _cli("animate", "--portrait", str(PORTRAIT), "--text", "Hi.",
                        "--consent", "self", "-o", str(tmp_path / "o.mp4"))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr and "Traceback" not in result.stdout
    ref = re.search(r"Something went wrong \(ref ([0-9a-f]{8})\)", result.stderr)
    assert ref, result.stderr
    log = (_isolated_settings / "logs" / "vitaphone.log").read_text()
    assert f"ref {ref.group(1)}" in log and "Traceback" in log and "not a database" in log
    assert (_isolated_settings / "logs" / "vitaphone.log").stat().st_mode & 0o077 == 0


def test_a_database_not_migrated_by_its_operator_is_not_migrated_by_animate(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from vitaphone.storage.migrate import current_revision

    url = f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    monkeypatch.setenv("VITAPHONE_DATABASE_URL", url)
    result = _run("--portrait", str(PORTRAIT), "--text", "Hi.", "--consent", "self",
                  "-o", str(tmp_path / "o.mp4"))
    assert result.refused(2), (result.output, result.exception)
    assert "vitaphone db upgrade" in result.output
    assert current_revision(url) is None
