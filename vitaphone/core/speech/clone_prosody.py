"""Prosody side of the tone-colour converter: pitch level and range, speaking rate.

Pitch: the base contour keeps its shape (it carries the sentence's intonation) while its log-F0
mean and spread become the sample speaker's. Rate: the whole utterance is time-scaled towards
the sample's syllable rate, within bounds, by resampling the WORLD frame sequence (pitch and
spectra stay as they are; only timing changes), and the phone timeline is scaled with it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# DIO makes occasional octave errors; statistics ignore the outer 2 % of voiced frames.
_TRIM_PERCENT = 2.0
# A flat synthetic contour must not be stretched into a siren, nor a lively one flattened.
SPREAD_RATIO_BOUNDS = (0.5, 2.5)
# Speaking-rate adaptation: at most 15 % faster or 20 % slower than the base voice; pushing a
# synthetic voice faster than that cost intelligibility on the bench (speaker b).
DURATION_FACTOR_BOUNDS = (0.85, 1.2)


@dataclass(frozen=True, slots=True)
class PitchStats:
    """Log-F0 statistics of voiced frames: mean and standard deviation (natural log of Hz)."""

    log_mean: float
    log_std: float

    @property
    def median_hz(self) -> float:
        return float(np.exp(self.log_mean))


def pitch_stats(f0_hz: np.ndarray) -> PitchStats | None:
    """PitchStats of an F0 contour (0 = unvoiced), or None with fewer than 20 voiced frames."""
    voiced = np.log(f0_hz[f0_hz > 0])
    if len(voiced) < 20:
        return None
    lo, hi = np.percentile(voiced, [_TRIM_PERCENT, 100.0 - _TRIM_PERCENT])
    kept = voiced[(voiced >= lo) & (voiced <= hi)]
    return PitchStats(float(kept.mean()), float(max(kept.std(), 1e-3)))


def map_pitch(f0_hz: np.ndarray, source: PitchStats, target: PitchStats) -> np.ndarray:
    """Move voiced frames' log-F0 from `source` statistics to `target`'s (unvoiced stay 0)."""
    ratio = float(np.clip(target.log_std / source.log_std, *SPREAD_RATIO_BOUNDS))
    out = np.zeros_like(f0_hz)
    voiced = f0_hz > 0
    out[voiced] = np.exp((np.log(f0_hz[voiced]) - source.log_mean) * ratio + target.log_mean)
    return out


def duration_factor(base_rate_hz: float, target_rate_hz: float) -> float:
    """How much longer the converted speech should last (syllable rates in nuclei per second)."""
    if base_rate_hz <= 0 or target_rate_hz <= 0:
        return 1.0
    return float(np.clip(base_rate_hz / target_rate_hz, *DURATION_FACTOR_BOUNDS))


def time_scale(
    f0_hz: np.ndarray, log_sp: np.ndarray, ap: np.ndarray, factor: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Resample WORLD frame sequences to `factor` times as many frames.

    Envelopes and aperiodicity are interpolated linearly between frames; voicing is taken from
    the nearest frame, so voiced stretches neither smear into nor lose their neighbours, and F0
    is interpolated only between voiced frames.
    """
    n = len(f0_hz)
    m = max(2, round(n * factor))
    if m == n:
        return f0_hz, log_sp, ap
    pos = np.linspace(0.0, n - 1.0, m)
    i0 = np.floor(pos).astype(np.int64)
    i1 = np.minimum(i0 + 1, n - 1)
    w = (pos - i0)[:, None]
    new_sp = log_sp[i0] * (1.0 - w) + log_sp[i1] * w
    new_ap = ap[i0] * (1.0 - w) + ap[i1] * w
    nearest = np.rint(pos).astype(np.int64)
    voiced = f0_hz[nearest] > 0
    new_f0 = np.zeros(m)
    if np.any(f0_hz > 0):
        idx = np.flatnonzero(f0_hz > 0)
        new_f0[voiced] = np.exp(np.interp(pos[voiced], idx, np.log(f0_hz[idx])))
    return new_f0, new_sp, new_ap
