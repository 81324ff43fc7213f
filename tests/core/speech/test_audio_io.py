"""decode_audio on every supported container and on each kind of bad upload."""

from __future__ import annotations

import numpy as np
import pytest

from vitaphone.core.errors import AudioTooLong, AudioTooShort, BadAudio, NoSpeechFound
from vitaphone.core.speech.audio_io import decode_audio, wav_bytes, write_wav

CONTAINERS = ["hello.wav", "hello.mp3", "hello.m4a", "hello.ogg", "hello.webm", "hello.flac"]


def _decode(path, **kw):
    kw.setdefault("target_rate_hz", 16000)
    return decode_audio(path.read_bytes(), name=path.name, **kw)


@pytest.fixture(scope="module")
def reference(speech_assets):
    samples, _ = _decode(speech_assets / "hello.wav")
    return samples


@pytest.mark.parametrize("name", CONTAINERS)
def test_every_container_decodes_to_the_same_speech(speech_assets, reference, name):
    samples, rate = _decode(speech_assets / name, target_rate_hz=16000)
    assert rate == 16000 and samples.dtype == np.float32 and samples.ndim == 1
    # Lossy codecs add priming delay and padding (tens of ms), nothing more.
    assert abs(len(samples) - len(reference)) / 16000 < 0.08

    # Same content: the amplitude envelopes (20 ms RMS) correlate strongly after alignment.
    def env(x):
        n = len(x) // 320
        return np.sqrt(np.mean(x[: n * 320].reshape(n, 320) ** 2, axis=1))

    a, b = env(reference), env(samples)
    best = max(
        np.corrcoef(a[: min(len(a), len(b) - s)], b[s : s + min(len(a), len(b) - s)])[0, 1]
        for s in range(0, 5)
    )
    assert best > 0.95, name


def test_resamples_and_downmixes_a_stereo_video_sound_track(speech_assets):
    samples, rate = _decode(speech_assets / "talking_with_sound.mp4", target_rate_hz=22050)
    assert rate == 22050 and samples.ndim == 1
    assert 1.3 < len(samples) / rate < 1.7
    assert np.max(np.abs(samples)) <= 1.0


def test_a_video_without_sound_is_named_as_a_video(speech_assets):
    with pytest.raises(BadAudio) as err:
        _decode(speech_assets / "video_no_sound.mp4")
    assert err.value.code == "video_without_audio"
    assert "video_no_sound.mp4" in err.value.message and "video" in err.value.message
    assert err.value.hint


def test_an_image_is_named_as_an_image(speech_assets):
    with pytest.raises(BadAudio) as err:
        _decode(speech_assets / "picture.png")
    assert err.value.code == "image_not_audio"
    assert "picture.png" in err.value.message and "image" in err.value.message


def test_corrupt_empty_and_text_files_are_bad_audio(speech_assets):
    data = (speech_assets / "hello.mp3").read_bytes()
    garbled = bytearray(data)
    garbled[600:] = np.random.default_rng(1).integers(0, 256, len(data) - 600, np.uint8).tobytes()
    for payload, name in [
        (bytes(garbled), "garbled.mp3"),
        (b"", "empty.wav"),
        (b"just some text, not sound\n" * 20, "notes.txt"),
        (data[:300], "cut.mp3"),
    ]:
        with pytest.raises(BadAudio) as err:
            decode_audio(payload, name=name, target_rate_hz=16000)
        assert name in err.value.message and err.value.hint


def test_silence_is_refused(tmp_path):
    path = write_wav(tmp_path / "quiet.wav", np.zeros(32000, np.float32), 16000)
    with pytest.raises(NoSpeechFound) as err:
        _decode(path)
    assert "quiet.wav" in err.value.message and "silent" in err.value.message


def test_length_limits(speech_assets):
    with pytest.raises(AudioTooShort) as short:
        _decode(speech_assets / "hello.m4a", min_s=5.0)
    assert "hello.m4a" in short.value.message and "5" in short.value.hint
    with pytest.raises(AudioTooLong) as long:
        _decode(speech_assets / "english_noisy_narrative.wav", max_s=3.0)
    assert "english_noisy_narrative.wav" in long.value.message
    samples, _ = _decode(speech_assets / "english_noisy_narrative.wav", min_s=5.0, max_s=7.0)
    assert 6.3 < len(samples) / 16000 < 6.5


def test_wav_round_trip(tmp_path):
    tone = (0.5 * np.sin(np.arange(8000) * 2 * np.pi * 440 / 16000)).astype(np.float32)
    assert wav_bytes(tone, 16000)[:4] == b"RIFF"
    path = write_wav(tmp_path / "tone.wav", tone, 16000)
    back, rate = decode_audio(path.read_bytes(), name="tone.wav", target_rate_hz=16000)
    assert rate == 16000 and len(back) == len(tone)
    assert np.max(np.abs(back - tone)) < 1e-3
