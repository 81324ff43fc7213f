"""The speech stage end to end: quotes and recordings to loudness-normalised Speech."""

from __future__ import annotations

import numpy as np
import pytest

from vitaphone.core.errors import (
    AudioTooLong,
    AudioTooShort,
    BadAudio,
    BadOption,
    EmptyText,
    NoSpeechFound,
    TextTooLong,
    UnknownVoice,
    UnspeakableText,
    UnsupportedLanguage,
    UserFacingError,
)
from vitaphone.core.speech.audio_io import wav_bytes
from vitaphone.core.speech.loudness import integrated_loudness, true_peak_dbtp
from vitaphone.core.speech.synthesize import (
    SpeechOptions,
    available_voices,
    speech_from_recording,
    supported_languages,
    synthesize_speech,
)
from vitaphone.core.speech.types import PHONE_SET


def assert_normalised(speech):
    assert integrated_loudness(speech.samples, speech.sample_rate_hz) == pytest.approx(-16, abs=0.6)
    assert true_peak_dbtp(speech.samples, speech.sample_rate_hz) <= -1.0


def assert_timeline(speech):
    phones = speech.phones
    assert phones[0].start_s == 0 and phones[-1].end_s == pytest.approx(speech.duration_s)
    assert all(a.end_s == pytest.approx(b.start_s) for a, b in zip(phones, phones[1:]))
    assert {p.phone for p in phones} <= PHONE_SET


def test_english_quote_uses_flite_with_normalised_text():
    speech = synthesize_speech("Dr. Jones paid $5 on May 3rd.", SpeechOptions())
    assert speech.source.engine.startswith("flite") and speech.source.voice == "slt"
    assert speech.text == "Doctor Jones paid five dollars on May third."
    assert [w.word for w in speech.words][:2] == ["Doctor", "Jones"]
    assert speech.timing == "engine" and speech.source.kind == "tts"
    assert_timeline(speech)
    assert_normalised(speech)


def test_other_languages_use_espeak():
    speech = synthesize_speech("Guten Tag, ich habe drei Katzen.", SpeechOptions(language="de"))
    assert speech.source.engine.startswith("espeak-ng") and speech.source.language == "de"
    assert_timeline(speech)
    assert_normalised(speech)
    female = synthesize_speech("Bonjour", SpeechOptions(language="fr", base_voice="espeak-female"))
    assert female.source.voice == "espeak-female"


def test_voice_and_language_listing():
    names = {v.name for v in available_voices()}
    assert {"slt", "rms", "awb", "kal16", "espeak-male", "espeak-female"} <= names
    assert {"en", "de", "fr", "es", "zh"} <= set(supported_languages())


@pytest.mark.parametrize(
    ("text", "options", "error"),
    [
        ("", SpeechOptions(), EmptyText),
        ("  \n ", SpeechOptions(), EmptyText),
        ("x" * 50, SpeechOptions(max_chars=20), TextTooLong),
        ("😀🎉 https://example.com", SpeechOptions(), UnspeakableText),
        ("hello", SpeechOptions(language="xx"), UnsupportedLanguage),
        ("hello", SpeechOptions(base_voice="nobody"), UnknownVoice),
        ("hallo", SpeechOptions(language="de", base_voice="slt"), UnsupportedLanguage),
    ],
)
def test_bad_quotes_and_options_raise_typed_errors(text, options, error):
    with pytest.raises(error) as err:
        synthesize_speech(text, options)
    assert err.value.message and err.value.hint


def test_unsupported_language_lists_the_supported_ones():
    with pytest.raises(UnsupportedLanguage) as err:
        synthesize_speech("hello", SpeechOptions(language="tlh"))
    assert "'tlh'" in err.value.message
    assert all(code in err.value.hint for code in ("de,", "en,", "fr,", "zh"))


def test_options_validate_themselves():
    with pytest.raises(BadOption):
        SpeechOptions(language=" ")
    with pytest.raises(BadOption):
        SpeechOptions(max_chars=0)
    with pytest.raises(BadOption):
        SpeechOptions(sample_min_s=10, sample_max_s=5)


def test_recording_with_transcript_is_force_aligned(speech_assets, noisy_words):
    data = (speech_assets / "english_noisy_narrative.wav").read_bytes()
    speech = speech_from_recording(
        data,
        name="narrative.wav",
        transcript=noisy_words.capitalize() + ".",
        options=SpeechOptions(),
    )
    assert speech.timing == "forced_alignment" and speech.source.kind == "recording"
    assert len(speech.source.sample_sha256) == 64
    assert [w.word for w in speech.words] == noisy_words.split()
    assert 5.0 < speech.duration_s < 6.0  # 6.4 s less the trimmed silence
    assert float(speech.extras["trimmed_start_s"]) > 0.05
    assert speech.words[0].start_s < 0.3  # timings are relative to the trimmed audio
    assert_timeline(speech)
    assert_normalised(speech)


def test_recording_without_transcript_and_in_a_video(speech_assets):
    data = (speech_assets / "talking_with_sound.mp4").read_bytes()
    speech = speech_from_recording(data, name="clip.mp4", transcript=None, options=SpeechOptions())
    assert speech.timing in ("recognition", "energy") and speech.words == ()
    assert_timeline(speech)


def _noise(seconds: float) -> bytes:
    rng = np.random.default_rng(3)
    return wav_bytes(0.1 * rng.standard_normal(int(16000 * seconds)).astype(np.float32), 16000)


@pytest.mark.parametrize(
    ("data", "name", "options", "error"),
    [
        (b"\x00\x01garbage" * 100, "broken.mp3", SpeechOptions(), BadAudio),
        ("picture.png", "picture.png", SpeechOptions(), BadAudio),
        ("video_no_sound.mp4", "video_no_sound.mp4", SpeechOptions(), BadAudio),
        (
            wav_bytes(np.zeros(32000, np.float32), 16000),
            "silent.wav",
            SpeechOptions(),
            NoSpeechFound,
        ),
        (_noise(3.0), "noise.wav", SpeechOptions(), NoSpeechFound),
        ("hello.ogg", "hello.ogg", SpeechOptions(recording_min_s=3.0), AudioTooShort),
        (
            "english_noisy_narrative.wav",
            "long.wav",
            SpeechOptions(recording_max_s=4.0),
            AudioTooLong,
        ),
    ],
    ids=["corrupt", "image", "video", "silent", "noise", "short", "long"],
)
def test_bad_recordings_raise_typed_errors_naming_the_file(
    speech_assets, data, name, options, error
):
    if isinstance(data, str):
        data = (speech_assets / data).read_bytes()
    with pytest.raises(error) as err:
        speech_from_recording(data, name=name, transcript=None, options=options)
    assert isinstance(err.value, UserFacingError)
    assert name in err.value.message and err.value.hint


def _mostly_silent(speech_assets) -> bytes:
    from vitaphone.core.speech.audio_io import decode_audio

    data = (speech_assets / "english_noisy_narrative.wav").read_bytes()
    x, _ = decode_audio(data, name="n.wav", target_rate_hz=16000)
    return wav_bytes(
        np.concatenate([x[: int(2.5 * 16000)], np.zeros(16000 * 5, np.float32)]), 16000
    )


@pytest.mark.parametrize(
    ("sample", "name", "options", "error"),
    [
        (b"RIFF\x00\x00junk" * 50, "voice.wav", {}, BadAudio),
        ("picture.png", "me.png", {}, BadAudio),
        ("video_no_sound.mp4", "me.mp4", {}, BadAudio),
        (wav_bytes(np.zeros(16000 * 8, np.float32), 16000), "muted.wav", {}, NoSpeechFound),
        (_noise(8.0), "static.wav", {}, NoSpeechFound),
        ("hello.webm", "note.webm", {}, AudioTooShort),  # 1.3 s < 5 s
        (
            "english_noisy_narrative.wav",
            "long.wav",
            {"sample_min_s": 2.0, "sample_max_s": 4.0},
            AudioTooLong,
        ),
        ("mostly_silent", "mostly_silent.wav", {}, AudioTooShort),
    ],
    ids=["corrupt", "image", "video", "silent", "noise", "short", "long", "mostly_silent"],
)
def test_bad_voice_samples_raise_typed_errors_before_cloning(
    speech_assets, sample, name, options, error
):
    if sample == "mostly_silent":
        sample = _mostly_silent(speech_assets)
    elif isinstance(sample, str):
        sample = (speech_assets / sample).read_bytes()
    opts = SpeechOptions(voice_sample=sample, voice_sample_name=name, **options)
    with pytest.raises(error) as err:
        synthesize_speech("Hello there.", opts)
    assert name in err.value.message and err.value.hint


def test_a_quiet_recording_is_levelled_before_alignment(speech_assets, noisy_words):
    from vitaphone.core.speech.audio_io import decode_audio

    data = (speech_assets / "english_noisy_narrative.wav").read_bytes()
    x, _ = decode_audio(data, name="n.wav", target_rate_hz=16000)
    quiet = wav_bytes(x * 0.05, 16000)  # peak about -31 dBFS
    speech = speech_from_recording(
        quiet, name="quiet.wav", transcript=noisy_words, options=SpeechOptions()
    )
    assert speech.timing == "forced_alignment"
    assert_normalised(speech)


def test_a_voice_sample_clones_the_quote(speech_assets):
    """End to end through the stage: the converter (clone.py) re-voices flite's speech."""
    sample = (speech_assets / "speaker_a_8s.mp3").read_bytes()
    options = SpeechOptions(voice_sample=sample, voice_sample_name="speaker_a_8s.mp3")
    speech = synthesize_speech("Our age is proud of the progress it has made.", options)
    assert speech.source.kind == "cloned" and speech.source.converter
    assert speech.source.engine.startswith("flite") and len(speech.source.sample_sha256) == 64
    assert [w.word for w in speech.words][:3] == ["Our", "age", "is"]
    assert 1.5 < speech.duration_s < 6.0
    assert_timeline(speech)
    assert_normalised(speech)
