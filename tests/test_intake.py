"""The intake's cheap checks: bounded reads, type and pixel checks from headers, clean text,
the quote's script against its language, and a bound on how long it takes to say."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from vitaphone import intake
from vitaphone.config import Limits
from vitaphone.core.errors import (
    AudioTooLong,
    BadAudio,
    BadImage,
    BadOption,
    ImageTooLarge,
    NoSpeechFound,
    SpeechTooLong,
    TextTooLong,
    UnsupportedLanguage,
)

ASSETS = Path(__file__).parent / "assets"
EINSTEIN = ASSETS / "portraits" / "einstein.jpg"
LIMITS = Limits()


# --- bounded reads ----------------------------------------------------------------------------
def test_the_zero_device_is_refused_after_reading_limit_plus_one_bytes() -> None:
    with pytest.raises(BadOption) as refused:
        intake.read_file(Path("/dev/zero"), max_bytes=1000, what="an image")
    assert "/dev/zero is larger than the 1000 bytes limit" in refused.value.message
    assert refused.value.code == "file_too_large"


def test_a_huge_file_is_refused_without_reading_it(tmp_path: Path) -> None:
    import resource

    huge = tmp_path / "huge.jpg"
    with huge.open("wb") as handle:  # 600 MB, sparse: no disk used
        handle.truncate(600 * 2**20)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(BadOption, match="huge.jpg is larger than the 10 MiB limit"):
        intake.read_file(huge, max_bytes=LIMITS.max_portrait_bytes, what="an image")
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mb < 50  # reading all of it would add 600 MB


def test_read_chunks_stops_at_the_limit() -> None:
    endless = (b"x" * 1000 for _ in range(10**9))
    with pytest.raises(BadOption, match="download.bin is larger"):
        intake.read_chunks(endless, max_bytes=5000, name="download.bin")
    assert intake.read_chunks([b"ab", b"cd"], max_bytes=4, name="x") == b"abcd"


@pytest.mark.parametrize(("make", "expected"), [
    (lambda p: p, "does not exist"),
    (lambda p: (p.mkdir(), p)[1], "is a folder"),
])
def test_unreadable_paths_say_what_is_wrong(tmp_path: Path, make, expected: str) -> None:
    path = make(tmp_path / "thing.jpg")
    with pytest.raises(BadOption, match=expected):
        intake.read_file(path, max_bytes=100)


# --- portraits --------------------------------------------------------------------------------
def test_a_portrait_is_checked_from_its_header() -> None:
    info = intake.check_portrait(EINSTEIN.read_bytes(), name="einstein.jpg", limits=LIMITS)
    assert info.format == "JPEG" and info.width > 200 and info.height > 200


@pytest.mark.parametrize(("data", "expected"), [
    (b"", "is empty"),
    ((ASSETS / "speech" / "hello.wav").read_bytes(), "is a WAV audio file, not an image"),
    (b"%PDF-1.7 ...", "is a PDF document"),
    (b"just some words", "is a text file"),
])
def test_not_an_image_is_refused_naming_the_file(data: bytes, expected: str) -> None:
    with pytest.raises(BadImage) as refused:
        intake.check_portrait(data, name="me.jpg", limits=LIMITS)
    assert "'me.jpg'" in refused.value.message and expected in refused.value.message


def test_a_decompression_bomb_is_refused_before_decoding() -> None:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("L", (8000, 6000)).save(buffer, format="PNG")  # 48 MP of zeros: a few kB
    with pytest.raises(ImageTooLarge, match="8000x6000"):
        intake.check_portrait(buffer.getvalue(), name="bomb.png", limits=LIMITS)


# --- audio ------------------------------------------------------------------------------------
def test_audio_is_checked_for_type_and_duration() -> None:
    info = intake.check_audio((ASSETS / "speech" / "hello.ogg").read_bytes(), name="hello.ogg",
                              limits=LIMITS, role="recording")
    assert 0.5 < info.duration_s < 3
    with pytest.raises(BadAudio, match="'picture.png' has no sound"):
        intake.check_audio((ASSETS / "speech" / "picture.png").read_bytes(), name="picture.png",
                           limits=LIMITS, role="recording")
    with pytest.raises(BadAudio, match="at least 5 s"):  # too short to clone a voice from
        intake.check_audio((ASSETS / "speech" / "hello.ogg").read_bytes(), name="hello.ogg",
                           limits=LIMITS, role="voice_sample")
    short = Limits(max_audio_s=3.0)
    with pytest.raises(AudioTooLong, match="at most 3 s"):
        intake.check_audio((ASSETS / "speech" / "speaker_a_8s.mp3").read_bytes(),
                           name="speaker_a_8s.mp3", limits=short, role="recording")


def test_a_silent_clip_is_refused() -> None:
    import numpy as np

    from vitaphone.core.speech.audio_io import wav_bytes

    with pytest.raises(NoSpeechFound, match="silent"):
        intake.check_audio(wav_bytes(np.zeros(16000 * 6, np.float32), 16000), name="mute.wav",
                           limits=LIMITS, role="voice_sample")


# --- text -------------------------------------------------------------------------------------
def test_nul_and_control_characters_are_removed() -> None:
    dirty = "Hel\x00lo\x07 wor\u202eld\r\n\tbye\ud800"
    assert intake.clean_text(dirty) == "Hello world \n bye"
    assert intake.clean_name("A\x00\nB\u2066C" + "x" * 300, max_chars=10) == "A BCxxxxx…"
    assert intake.check_quote("Hi\x00 there.", language=None, limits=LIMITS).text == "Hi there."


def test_the_quote_length_is_checked_after_cleaning() -> None:
    with pytest.raises(TextTooLong, match="301 characters"):
        intake.check_quote("a" * 301, language="en", limits=LIMITS)


@pytest.mark.parametrize(("text", "language"), [
    ("مرحبا بالعالم، كيف حالك اليوم؟", "ar"),
    ("שלום עולם, מה שלומך היום?", "he"),
    ("Привет, мир! Как дела сегодня?", "ru"),
    ("你好世界，今天天气很好。", "zh"),
    ("こんにちは、今日はいい天気ですね。", "ja"),
    ("Hello world, how are you today?", "en"),
    ("Das ist ein schöner Tag.", "en"),  # Latin: English unless the user says otherwise
])
def test_the_language_is_picked_from_the_script_when_not_chosen(text: str, language: str) -> None:
    assert intake.check_quote(text, language=None, limits=LIMITS).language == language


@pytest.mark.parametrize(("text", "language", "fitting"), [
    ("مرحبا بالعالم", "en", "'ar'"),
    ("שלום עולם", "en", "'he'"),
    ("Привет, мир!", "de", "'ru'"),
    ("你好世界", "en", "'zh'"),
    ("Hello world", "ru", "'en'"),
])
def test_a_chosen_language_that_cannot_read_the_script_is_refused(
        text: str, language: str, fitting: str) -> None:
    with pytest.raises(UnsupportedLanguage) as refused:
        intake.check_quote(text, language=language, limits=LIMITS)
    assert f"'{language}' voice cannot read" in refused.value.message
    assert fitting in refused.value.hint and "Leave the language out" in refused.value.hint


def test_a_quote_that_surely_takes_too_long_to_say_is_refused_before_synthesis() -> None:
    with pytest.raises(SpeechTooLong) as refused:  # 299 digits: "nine hundred ... illion ..."
        intake.check_quote("9" * 299, language=None, limits=LIMITS)
    assert "limit is 30 s of speech" in refused.value.message
    assert refused.value.code == "speech_too_long"
    with pytest.raises(SpeechTooLong):
        intake.check_quote("你好" * 120, language=None, limits=LIMITS)  # 240 syllables
    ordinary = "Our age is proud of the progress it has made in men's intellectual development. " * 3
    assert intake.check_quote(ordinary.strip(), language=None, limits=LIMITS).min_speech_s < 30
