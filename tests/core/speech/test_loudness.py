"""Loudness: -16 LUFS integrated and true peak <= -1 dBTP on real speech."""

from __future__ import annotations

import numpy as np
import pytest

from vitaphone.core.speech.audio_io import decode_audio
from vitaphone.core.speech.loudness import integrated_loudness, normalize_loudness, true_peak_dbtp


@pytest.mark.parametrize(
    ("name", "gain"), [("english_noisy_narrative.wav", 0.05), ("hello.m4a", 3.0)]
)
def test_speech_reaches_target_whatever_its_level(speech_assets, name, gain):
    x, rate = decode_audio((speech_assets / name).read_bytes(), name=name, target_rate_hz=22050)
    y = normalize_loudness(np.clip(x * gain, -1, 1), rate)
    assert y.dtype == np.float32 and y.shape == x.shape
    assert integrated_loudness(y, rate) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(y, rate) <= -1.0


def test_peaky_signal_is_limited_not_just_turned_down():
    """Clicks on quiet speech-like noise: the limiter keeps the loudness target."""
    rng = np.random.default_rng(0)
    rate = 16000
    x = (0.01 * rng.standard_normal(rate * 3)).astype(np.float32)
    x[::4000] = 0.9  # sparse clicks far above the body of the signal
    y = normalize_loudness(x, rate)
    assert true_peak_dbtp(y, rate) <= -1.0
    assert integrated_loudness(y, rate) == pytest.approx(-16.0, abs=0.5)


def test_silence_and_short_clips():
    silent = np.zeros(8000, np.float32)
    assert np.array_equal(normalize_loudness(silent, 16000), silent)
    short = (0.1 * np.sin(np.arange(3000) * 2 * np.pi * 200 / 16000)).astype(np.float32)
    y = normalize_loudness(short, 16000)  # 0.19 s: shorter than one 400 ms gating block
    assert integrated_loudness(y, 16000) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(y, 16000) <= -1.0
