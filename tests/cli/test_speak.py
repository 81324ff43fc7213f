"""`vitaphone speak` and `vitaphone voices` as a person runs them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from vitaphone.cli import app
from vitaphone.core.speech.audio_io import decode_audio

ASSETS = Path(__file__).resolve().parents[1] / "assets" / "speech"
runner = CliRunner()


def test_speak_writes_wav_and_timeline(tmp_path):
    out, timings = tmp_path / "quote.wav", tmp_path / "quote.json"
    result = runner.invoke(
        app, ["speak", "--text", "Hello, it's 5 p.m.", "-o", str(out), "--timings", str(timings)]
    )
    assert result.exit_code == 0, result.output
    assert "wrote" in result.output and "slt" in result.output
    samples, rate = decode_audio(out.read_bytes(), name=out.name, target_rate_hz=16000)
    data = json.loads(timings.read_text())
    assert data["timing"] == "engine" and data["text"] == "Hello, it's five P M."
    assert data["duration_s"] == pytest.approx(len(samples) / rate, abs=0.01)
    assert data["phones"][0][0] == "SIL" and data["phones"][-1][2] == pytest.approx(
        data["duration_s"]
    )
    assert [w[0] for w in data["words"]][:2] == ["Hello", "it's"]


def test_speak_other_language_and_base_voice(tmp_path):
    out = tmp_path / "de.wav"
    result = runner.invoke(
        app,
        [
            "speak",
            "--text",
            "Guten Tag",
            "--language",
            "de",
            "--base-voice",
            "espeak-female",
            "-o",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 10_000


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--text", "   "], "The text is empty"),
        (["--text", "😀😀"], "nothing to read aloud"),
        (["--text", "hi", "--language", "xx"], "'xx' is not supported"),
        (["--text", "hi", "--base-voice", "bob"], "no base voice called 'bob'"),
        (["--text", "word " * 30, "--max-chars", "50"], "the limit is 50"),
        (["--text", "hi", "--voice", "/no/such/sample.mp3"], "does not exist"),
        (["--text", "hi", "--voice", str(ASSETS / "picture.png")], "picture.png"),
        (["--text", "hi", "--voice", str(ASSETS / "hello.ogg")], "hello.ogg"),  # 1 s: too short
    ],
)
def test_user_errors_exit_2_with_message_and_hint(tmp_path, args, message):
    result = runner.invoke(app, ["speak", *args, "-o", str(tmp_path / "x.wav")])
    assert result.exit_code == 2, result.output
    assert "error:" in result.output and message in result.output.replace("\n", " ")
    assert isinstance(result.exception, SystemExit), result.exception  # not a crash
    assert not (tmp_path / "x.wav").exists()


def test_voices_lists_voices_and_languages():
    result = runner.invoke(app, ["voices"], env={"COLUMNS": "160"})
    assert result.exit_code == 0, result.output
    for name in ("slt", "rms", "awb", "kal16", "espeak-male", "espeak-female"):
        assert name in result.output
    assert "pt-br" in result.output and "de" in result.output


@pytest.mark.slow
def test_speak_in_the_voice_of_a_sample(tmp_path):
    out = tmp_path / "cloned.wav"
    sample = ASSETS / "speaker_a_8s.mp3"
    result = runner.invoke(
        app, ["speak", "--text", "Hello there.", "--voice", str(sample), "-o", str(out)]
    )
    assert result.exit_code == 0, result.output
    assert "(cloned)" in result.output and out.stat().st_size > 10_000
