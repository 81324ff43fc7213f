"""Voice cloning on real flite speech: rms (male, low) converted towards slt (female, high).

The sample and a held-out passage of the target voice are spoken by flite at test time; the
converted quote must move measurably towards the held-out target (pitch, spectral envelope,
spectral centroid) while keeping its phone timeline consistent and its loudness normalised.
"""

from __future__ import annotations

import numpy as np
import pytest

from vitaphone.core.errors import AudioTooShort, BadAudio, NoSpeechFound
from vitaphone.core.speech import clone_world as world
from vitaphone.core.speech.clone import (
    ToneColourConverter,
    WorldKnnConverter,
    analyze_voice,
    clone_voice,
)
from vitaphone.core.speech.clone_prosody import pitch_stats
from vitaphone.core.speech.flite import FliteEngine
from vitaphone.core.speech.loudness import integrated_loudness, true_peak_dbtp

QUOTE = "The search and striving for truth and knowledge is one of the highest of men's qualities."
SAMPLE_TEXT = (
    "The north wind and the sun were disputing which was the stronger, when a traveler came "
    "along wrapped in a warm cloak. They agreed that the one who first succeeded in making the "
    "traveler take his cloak off should be considered stronger than the other."
)
HELD_OUT_TEXT = (
    "Then the north wind blew as hard as he could, but the traveler held on to his cloak."
)


@pytest.fixture(scope="module")
def flite() -> FliteEngine:
    return FliteEngine()


@pytest.fixture(scope="module")
def converted(flite: FliteEngine):
    base = flite.synthesize(QUOTE, "rms")
    sample = flite.synthesize(SAMPLE_TEXT, "slt")
    held_out = flite.synthesize(HELD_OUT_TEXT, "slt")
    cloned = clone_voice(base, sample.samples, sample.sample_rate_hz, name="slt.wav")
    return base, sample, held_out, cloned


def _voice_stats(samples: np.ndarray, rate_hz: int) -> tuple[float, np.ndarray, float]:
    """(median F0 Hz, level-free mean log envelope below 7 kHz, spectral centroid Hz)."""
    frames = world.analyze(world.to_analysis_rate(samples, rate_hz), with_aperiodicity=False)
    speech = world.speech_mask(frames.log_sp)
    stats = pitch_stats(frames.f0_hz[speech])
    assert stats is not None
    freqs = np.linspace(0, world.RATE_HZ / 2, world.N_BINS)
    envelope = frames.log_sp[speech].mean(axis=0)[freqs < 7000]
    power = np.exp(frames.log_sp[speech]).mean(axis=0)
    centroid = float((freqs * power).sum() / power.sum())
    return stats.median_hz, envelope - envelope.mean(), centroid


def test_clone_moves_pitch_envelope_and_centroid_towards_the_target(converted) -> None:
    base, _sample, held_out, cloned = converted
    f0_base, env_base, cen_base = _voice_stats(base.samples, base.sample_rate_hz)
    f0_target, env_target, cen_target = _voice_stats(held_out.samples, held_out.sample_rate_hz)
    f0_clone, env_clone, cen_clone = _voice_stats(cloned.samples, cloned.sample_rate_hz)

    # Pitch: within 10 % of the target's median, from an octave-ish gap.
    assert abs(np.log(f0_clone / f0_target)) < 0.1 < abs(np.log(f0_base / f0_target))
    # Envelope: the RMS log-spectral distance to the target at least halves.
    dist_base = float(np.sqrt(np.mean((env_base - env_target) ** 2)))
    dist_clone = float(np.sqrt(np.mean((env_clone - env_target) ** 2)))
    assert dist_clone < 0.5 * dist_base
    assert abs(cen_clone - cen_target) < abs(cen_base - cen_target)


def test_clone_keeps_a_consistent_timeline_and_is_normalised(converted) -> None:
    base, _sample, _held_out, cloned = converted
    assert cloned.source.kind == "cloned"
    assert cloned.source.converter == "world-knn 1"
    assert (cloned.source.engine, cloned.source.voice) == (base.source.engine, base.source.voice)
    assert len(cloned.source.sample_sha256) == 64
    assert cloned.text == base.text and cloned.timing == base.timing
    assert [p.phone for p in cloned.phones] == [p.phone for p in base.phones]
    assert [w.word for w in cloned.words] == [w.word for w in base.words]

    # One time scale for everything: audio, phones and words.
    scale = cloned.duration_s / base.duration_s
    assert scale == pytest.approx(float(cloned.extras["clone_duration_factor"]), abs=0.02)
    assert cloned.phones[0].start_s == 0.0
    assert cloned.phones[-1].end_s == pytest.approx(cloned.duration_s, abs=1e-9)
    for prev, nxt in zip(cloned.phones, cloned.phones[1:]):
        assert prev.end_s == pytest.approx(nxt.start_s, abs=1e-9)
    for b, c in zip(base.phones[:-1], cloned.phones[:-1]):
        assert c.end_s == pytest.approx(b.end_s * scale, abs=1e-6)
    for b, c in zip(base.words, cloned.words):
        assert c.start_s == pytest.approx(b.start_s * scale, abs=1e-6)

    x = cloned.samples
    assert x.dtype == np.float32 and x.ndim == 1 and np.all(np.isfinite(x))
    assert cloned.sample_rate_hz == world.RATE_HZ
    assert integrated_loudness(x, cloned.sample_rate_hz) == pytest.approx(-16.0, abs=0.5)
    assert true_peak_dbtp(x, cloned.sample_rate_hz) <= -1.0 + 0.05


def test_profile_is_cached_and_reused(converted) -> None:
    _base, sample, _held_out, _cloned = converted
    first = analyze_voice(sample.samples, sample.sample_rate_hz)
    assert analyze_voice(sample.samples.copy(), sample.sample_rate_hz) is first
    assert 140 < first.pitch.median_hz < 220  # slt speaks around 170 Hz
    assert first.n_frames == len(first.log_sp) == len(first.features) == len(first.voiced)


def test_converter_satisfies_the_protocol() -> None:
    assert isinstance(WorldKnnConverter(), ToneColourConverter)


def test_rejects_a_sample_that_is_too_short(flite: FliteEngine) -> None:
    short = flite.synthesize("Hello there.", "slt")
    with pytest.raises(AudioTooShort) as err:
        analyze_voice(short.samples, short.sample_rate_hz, name="hello.ogg")
    assert "hello.ogg" in err.value.message and err.value.hint


def test_rejects_silence_and_noise() -> None:
    rate = 16000
    with pytest.raises(NoSpeechFound) as err:
        analyze_voice(np.zeros(8 * rate, np.float32), rate, name="silent.wav")
    assert "silent.wav" in err.value.message
    noise = np.random.default_rng(0).normal(0, 0.1, 8 * rate).astype(np.float32)
    with pytest.raises(NoSpeechFound) as err:
        analyze_voice(noise, rate, name="hiss.wav")
    assert "hiss.wav" in err.value.message


def test_rejects_damaged_samples() -> None:
    broken = np.full(8 * 16000, np.nan, dtype=np.float32)
    with pytest.raises(BadAudio) as err:
        analyze_voice(broken, 16000, name="broken.m4a")
    assert "broken.m4a" in err.value.message
