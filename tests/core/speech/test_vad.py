"""Silence trimming and no-speech detection on real and synthetic audio."""

from __future__ import annotations

import numpy as np
import pytest

from vitaphone.core.errors import NoSpeechFound
from vitaphone.core.speech.audio_io import decode_audio
from vitaphone.core.speech.vad import speech_frames, speech_runs, trim_silence

RATE = 16000


@pytest.fixture(scope="module")
def narrative(speech_assets):
    x, _ = decode_audio(
        (speech_assets / "english_noisy_narrative.wav").read_bytes(), name="n", target_rate_hz=RATE
    )
    return x


def test_trims_added_silence_back_to_the_speech(narrative):
    padded = np.concatenate([np.zeros(2 * RATE, np.float32), narrative, np.zeros(RATE, np.float32)])
    trimmed = trim_silence(padded, RATE, name="padded.wav", pad_s=0.1)
    # The narrative's speech runs from ~0.2 s to ~5.6 s of its own 6.4 s.
    assert 2.0 <= trimmed.start_s <= 2.3
    assert 7.4 <= trimmed.end_s <= 7.9
    assert 4.8 < trimmed.speech_s < 5.8
    assert len(trimmed.samples) == pytest.approx((trimmed.end_s - trimmed.start_s) * RATE, abs=2)


def _music(seconds: float) -> np.ndarray:
    """Plucked three-note chords, a new one every half second."""
    t = np.arange(int(seconds * RATE)) / RATE
    out = np.zeros_like(t)
    for k, root in enumerate([261.6, 329.6, 392.0, 440.0, 349.2, 293.7] * 2):
        seg = (t >= k * 0.5) & (t < (k + 1) * 0.5)
        for ratio in (1.0, 1.25, 1.5):
            out[seg] += (
                0.1 * np.sin(2 * np.pi * root * ratio * t[seg]) * np.exp(-3 * (t[seg] - k * 0.5))
            )
    return out.astype(np.float32)


@pytest.mark.parametrize(
    ("name", "signal"),
    [
        ("noise.wav", 0.1 * np.random.default_rng(0).standard_normal(RATE * 4).astype(np.float32)),
        ("hum.wav", (0.2 * np.sin(2 * np.pi * 50 * np.arange(RATE * 4) / RATE)).astype(np.float32)),
        ("music.wav", _music(6.0)),
    ],
)
def test_noise_hum_and_music_have_no_speech(name, signal):
    # webrtcvad alone calls all three speech; the silero check must refuse them.
    assert speech_frames(signal, RATE).mean() > 0.8
    with pytest.raises(NoSpeechFound) as err:
        trim_silence(signal, RATE, name=name)
    assert name in err.value.message and err.value.hint


def test_speech_runs_need_five_frames():
    flags = np.array([1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1], dtype=bool)
    assert speech_runs(flags) == [(5, 10), (11, 17)]
