"""`vitaphone animate`: consent is required (and said why), bad input is one clear message, and
a real render writes a verifiable, labelled MP4 tied to a consent record."""

from __future__ import annotations

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
        self.output = " ".join(result.output.split())


def _run(*args: str) -> _Result:
    return _Result(runner.invoke(app, ["animate", *args]))


def test_refuses_without_consent_and_says_why(tmp_path: Path) -> None:
    result = _run("--portrait", str(PORTRAIT), "--text", "Hello.", "-o", str(tmp_path / "o.mp4"))
    assert result.exit_code == 2
    assert "consent basis is required" in result.output
    assert "self, permission, public_domain_historical" in result.output
    assert "Traceback" not in result.output
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
    assert result.exit_code == 2, result.output
    assert expected in result.output
    assert "Traceback" not in result.output


def test_portrait_without_a_face_fails_cleanly_and_names_the_file(tmp_path: Path) -> None:
    text_file = tmp_path / "notes.jpg"
    text_file.write_text("this is not an image")
    result = _run("--portrait", str(text_file), "--text", "Hi.", "--consent", "self",
                  "-o", str(tmp_path / "o.mp4"))
    assert result.exit_code == 2
    assert "notes.jpg" in result.output
    assert "Traceback" not in result.output


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
    assert "Made by this Vitaphone instance" in verified.output
