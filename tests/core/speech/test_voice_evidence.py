"""Real voices far from silero-vad's training data are speech (an octave up, an octave down,
shouted and clipped), and music, noise and hum are still not. The voices are the shared
speakers pitch-shifted by ±12 semitones (tests/assets/ATTRIBUTION.md)."""

from __future__ import annotations

import numpy as np
import pytest

from vitaphone.core.errors import NoSpeechFound
from vitaphone.core.speech.audio_io import decode_audio
from vitaphone.core.speech.loudness import normalize_loudness
from vitaphone.core.speech.synthesize import RECORDING_RATE_HZ, SAMPLE_SPEECH_SHARE
from vitaphone.core.speech.vad import trim_silence
from vitaphone.core.speech.voicing import measure_voicing

RATE = 16000


def _voice(speech_assets, name: str) -> np.ndarray:
    samples, _ = decode_audio((speech_assets / name).read_bytes(), name=name,
                              target_rate_hz=RECORDING_RATE_HZ)
    return normalize_loudness(samples, RECORDING_RATE_HZ)


@pytest.mark.parametrize("name", [
    "speaker_b_up12.ogg",  # median F0 ~420 Hz: silero-vad hears 0 s of its 10 s
    "speaker_a_down12.ogg",  # ~58 Hz: silero hears 0 s
    "acknowledgement_down12_shouted.ogg",  # an octave down, clipped: silero hears 4 s
    "speaker_a_8s.mp3",  # the unshifted speaker, for comparison
])
def test_high_low_and_shouted_voices_are_speech(speech_assets, name: str) -> None:
    samples = _voice(speech_assets, name)
    trimmed = trim_silence(samples, RECORDING_RATE_HZ, name=name)
    duration_s = len(samples) / RECORDING_RATE_HZ
    assert trimmed.speech_s >= 0.8 * duration_s
    assert trimmed.speech_s >= SAMPLE_SPEECH_SHARE * 5.0  # enough to clone the voice from
    assert measure_voicing(samples, RECORDING_RATE_HZ).speech_like


def _notes(freqs, note_s: float, gap_s: float = 0.0, vibrato: float = 0.0) -> np.ndarray:
    t = np.arange(int(note_s * RATE)) / RATE
    parts = []
    for f in freqs:
        tone = 0.3 * np.sin(2 * np.pi * f * t + vibrato * f * np.sin(2 * np.pi * 5.5 * t))
        parts += [tone * np.hanning(len(t)) if gap_s else tone, np.zeros(int(gap_s * RATE))]
    return np.concatenate(parts).astype(np.float32)


def _drums(seconds: float) -> np.ndarray:
    rng = np.random.default_rng(1)
    out = np.zeros(int(seconds * RATE))
    hit = np.arange(4000)
    for k in range(int(seconds * 2)):
        i = k * RATE // 2
        out[i:i + 2000] += rng.standard_normal(2000) * np.exp(-hit[:2000] / 300) * 0.5
        out[i:i + 4000] += 0.5 * np.sin(2 * np.pi * 60 * hit / RATE) * np.exp(-hit / 1500)
    return out.astype(np.float32)


SCALE = [261.6, 293.7, 329.6, 349.2, 392.0, 440.0, 493.9, 523.3] * 4
_legato = _notes(SCALE[:26], 0.3, vibrato=0.02)


@pytest.mark.parametrize(("name", "signal"), [
    ("staccato.wav", _notes(SCALE, 0.15, gap_s=0.1)),
    ("legato.wav", _legato),
    ("drums.wav", _drums(8.0)),
    ("bass.wav", np.concatenate([0.3 * np.sign(np.sin(2 * np.pi * f * np.arange(RATE // 4) / RATE))
                                 for f in [55, 55, 82, 73] * 8]).astype(np.float32)),
    ("song.wav", _legato[: 8 * RATE] + _drums(8.0)[: len(_legato[: 8 * RATE])]),
    ("noise.wav", 0.1 * np.random.default_rng(0).standard_normal(RATE * 4).astype(np.float32)),
])
def test_music_and_noise_are_still_not_speech(name: str, signal: np.ndarray) -> None:
    with pytest.raises(NoSpeechFound):
        trim_silence(normalize_loudness(signal, RATE), RATE, name=name)
