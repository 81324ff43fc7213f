"""Voice cloning ("tone-colour transfer"): base TTS speech re-voiced like a short voice sample.

No trained weights: the WORLD vocoder (pyworld) splits speech into pitch, spectral envelope and
aperiodicity, and each is moved to the sample speaker's:

- pitch: the base contour's log-F0 mean and spread become the sample's (`clone_prosody`);
- formants and colour: a vocal-tract-length frequency scale plus per-phone-class spectral
  equalisation pre-convert the base envelopes; then each frame takes the finer spectral
  structure of the mean of its k nearest frames of the same phone in the sample itself
  (kNN-VC's idea, on WORLD envelopes instead of neural features; `clone_spectral`), keeping
  only its broad formant pattern (articulation) and level from the base;
- breathiness: aperiodicity comes from the same matched sample frames;
- speaking rate: the utterance is time-scaled towards the sample's syllable rate (bounded) and
  the phone and word timeline is scaled with it.

`clone_voice` is what the speech stage calls; `ToneColourConverter` is the seam for another
converter. Output runs at 16 kHz (the analysis rate), loudness-normalised.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Protocol, runtime_checkable

import numpy as np
from scipy.ndimage import uniform_filter1d

from vitaphone.core.speech import clone_world as world
from vitaphone.core.speech.clone_phones import PHONES, SIL_ID, frame_labels, syllable_rate_hz
from vitaphone.core.speech.clone_profile import VoiceProfile, analyze_voice
from vitaphone.core.speech.clone_prosody import (
    duration_factor,
    map_pitch,
    pitch_stats,
    time_scale,
)
from vitaphone.core.speech.clone_spectral import (
    equalise,
    estimate_warp,
    group_means,
    lifter,
    match_frames,
    warp_frequency,
)
from vitaphone.core.speech.loudness import normalize_loudness
from vitaphone.core.speech.types import PhoneSpan, Speech, WordSpan

__all__ = [
    "ToneColourConverter",
    "VoiceProfile",
    "WorldKnnConverter",
    "analyze_voice",
    "clone_voice",
]


@runtime_checkable
class ToneColourConverter(Protocol):
    """Converts base speech towards a sample speaker's voice, keeping words and timeline."""

    name: str
    version: str

    def analyze(self, sample: np.ndarray, sample_rate_hz: int, *, name: str) -> VoiceProfile:
        """Learn the sample speaker's voice (mono float samples (n,)); cacheable."""
        ...

    def convert(self, base: Speech, profile: VoiceProfile) -> Speech:
        """Re-voice `base`; returns Speech with source.kind == "cloned", loudness-normalised."""
        ...


@dataclass(frozen=True)
class WorldKnnConverter:
    """WORLD analysis, formant scale + class equalisation, phone-restricted kNN, resynthesis.

    k: sample frames averaged per base frame (more is smoother, fewer more like the speaker).
    articulation_coeffs: the converted envelope is split in the cepstral domain: quefrencies
    below this many coefficients (1.25 ms for 20: the broad formant pattern that makes the
    phone intelligible) come from the pre-converted base frame, everything above (formant
    shape and bandwidth, the speaker's fine spectral detail) from the matched sample frames. On the bench
    this beat blending whole envelopes on both similarity and WER; of 8, 14 and 20, 20 kept
    WER lowest for about 0.01 less similarity.
    adapt_rate: time-scale towards the sample's syllable rate. formant_warp / class_eq: the
    two pre-conversion steps (off only for ablations on the bench).
    """

    k: int = 4
    articulation_coeffs: int = 20
    adapt_rate: bool = True
    formant_warp: bool = True
    class_eq: bool = True
    name: str = "world-knn"
    version: str = "1"

    def analyze(self, sample: np.ndarray, sample_rate_hz: int, *, name: str) -> VoiceProfile:
        return analyze_voice(sample, sample_rate_hz, name=name)

    def convert(self, base: Speech, profile: VoiceProfile) -> Speech:
        x = world.to_analysis_rate(base.samples, base.sample_rate_hz)
        frames = world.analyze(x, with_aperiodicity=False)
        spans = [(p.phone, p.start_s, p.end_s) for p in base.phones]
        phone, _pos = frame_labels(spans, frames.n_frames, world.FRAME_S)
        speech = world.speech_mask(frames.log_sp) & (phone != SIL_ID)
        voiced = frames.f0_hz > 0
        if speech.sum() < 3:  # nothing spoken to convert (a pause-only utterance)
            return _as_cloned(base, base.samples, base.sample_rate_hz, 1.0, self, profile, {})

        log_sp, warp = self._pre_convert(frames.log_sp, phone, speech, profile)
        log_sp, ap = self._match(log_sp, phone, speech, voiced, profile)
        source_pitch = pitch_stats(frames.f0_hz[speech])
        f0 = (
            frames.f0_hz
            if source_pitch is None
            else map_pitch(frames.f0_hz, source_pitch, profile.pitch)
        )
        factor = 1.0
        if self.adapt_rate:
            factor = duration_factor(syllable_rate_hz(spans), profile.syllable_rate_hz)
            f0, log_sp, ap = time_scale(f0, log_sp, ap, factor)
        y = world.synthesize(f0, log_sp, ap)
        notes = {
            "formant_scale": f"{warp:.2f}",
            "pitch_hz": f"{profile.pitch.median_hz:.0f}",
            "duration_factor": f"{factor:.3f}",
        }
        return _as_cloned(base, y, world.RATE_HZ, factor, self, profile, notes)

    def _pre_convert(
        self, log_sp: np.ndarray, phone: np.ndarray, speech: np.ndarray, profile: VoiceProfile
    ) -> tuple[np.ndarray, float]:
        """Formant scale (fitted on per-phone means) and per-class equalisation: (n, 513)."""
        means, counts = group_means(log_sp, phone, speech, len(PHONES))
        warp = 1.0
        if self.formant_warp:
            warp = estimate_warp(means, counts, profile.phone_means, profile.phone_counts)
        warped = warp_frequency(log_sp, warp)
        # Without class equalisation every class gets the global difference (no class counts).
        class_counts = (
            profile.class_counts if self.class_eq else np.zeros_like(profile.class_counts)
        )
        out = equalise(
            warped, phone, speech, profile.class_means, class_counts, profile.global_mean
        )
        return out, warp

    def _match(
        self,
        log_sp: np.ndarray,
        phone: np.ndarray,
        speech: np.ndarray,
        voiced: np.ndarray,
        profile: VoiceProfile,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Take the sample's nearest same-phone frames' detail; aperiodicity from the same frames."""
        features = world.with_context(world.coded_envelope(log_sp))
        rows = np.flatnonzero(speech)
        nearest = match_frames(
            features[rows], phone[rows], voiced[rows],
            profile.features, profile.phone, profile.voiced, self.k,
        )  # fmt: skip
        matched = profile.log_sp[nearest].mean(axis=1, dtype=np.float64)
        out = log_sp.copy()
        # Level (c0) and broad formant pattern from the base, finer structure from the sample.
        n = self.articulation_coeffs
        out[rows] = lifter(log_sp[rows], n) + (matched - lifter(matched, n))
        # Averaging over 15 ms hides the seams between frames matched to different places.
        out = uniform_filter1d(out, 3, axis=0)
        ap = np.where(voiced[:, None], profile.voiced_ap[None, :], 1.0)
        ap[rows] = profile.ap[nearest].mean(axis=1)
        ap[rows[~voiced[rows]]] = 1.0  # unvoiced frames are all noise whatever was matched
        return out, ap


DEFAULT_CONVERTER = WorldKnnConverter()


def clone_voice(
    base: Speech,
    sample: np.ndarray,
    sample_rate_hz: int,
    *,
    profile: VoiceProfile | None = None,
    name: str = "the voice sample",
    converter: ToneColourConverter = DEFAULT_CONVERTER,
) -> Speech:
    """Re-voice `base` (any rate) like the speaker of `sample` (mono float (n,), 5-60 s).

    profile: a VoiceProfile of the same sample from an earlier `analyze_voice`, to skip the
    analysis. name: the sample's file name for error messages. Returns new Speech at 16 kHz,
    source.kind == "cloned" with the converter's name and version, phones and words scaled to
    the new duration, loudness-normalised. Raises BadAudio / AudioTooShort / NoSpeechFound for
    an unusable sample.
    """
    if profile is None:
        profile = converter.analyze(sample, sample_rate_hz, name=name)
    return converter.convert(base, profile)


def _as_cloned(
    base: Speech,
    samples: np.ndarray,
    rate_hz: int,
    factor: float,
    converter: ToneColourConverter,
    profile: VoiceProfile,
    notes: dict[str, str],
) -> Speech:
    """The converted Speech: normalised samples, timeline scaled to the new duration.

    source.sample_sha256 is the hash of the sample's decoded samples; the speech stage replaces
    it with the uploaded file's hash.
    """
    y = np.nan_to_num(np.asarray(samples, dtype=np.float64))
    y = normalize_loudness(y, rate_hz)
    duration_s = len(y) / rate_hz
    scale = duration_s / base.duration_s if base.duration_s > 0 else factor
    phones = [PhoneSpan(p.phone, p.start_s * scale, p.end_s * scale) for p in base.phones]
    if phones:  # the last span ends exactly where the audio does
        phones[-1] = PhoneSpan(phones[-1].phone, phones[-1].start_s, duration_s)
    words = tuple(
        WordSpan(w.word, w.start_s * scale, min(w.end_s * scale, duration_s)) for w in base.words
    )
    source = replace(
        base.source,
        kind="cloned",
        converter=f"{converter.name} {converter.version}",
        sample_sha256=profile.sample_sha256,
    )
    extras = {**base.extras, **{f"clone_{k}": v for k, v in notes.items()}}
    return replace(
        base,
        samples=y.astype(np.float32),
        sample_rate_hz=rate_hz,
        phones=tuple(phones),
        words=words,
        source=source,
        extras=extras,
    )
