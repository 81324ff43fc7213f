"""Loudness normalisation: -16 LUFS integrated (ITU-R BS.1770-4), true peak <= -1 dBTP.

Integrated loudness comes from `pyloudnorm` (a faithful BS.1770-4 meter: K-weighting, 400 ms
blocks, absolute and relative gates). True peak is measured on a 4x oversampled signal
(BS.1770-4 Annex 2). When the gain needed for -16 LUFS would push true peaks over the ceiling, a
smooth look-ahead peak limiter takes the peaks down instead of turning the whole clip down, so
speech with a high crest factor still reaches its loudness target.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

TARGET_LUFS = -16.0
PEAK_CEILING_DBTP = -1.0
_BLOCK_S = 0.4  # BS.1770 gating block
_OVERSAMPLE = 4
_LIMITER_WINDOW_S = 0.005  # 5 ms: short enough to leave syllables alone, long enough not to buzz


def integrated_loudness(samples: np.ndarray, rate_hz: int) -> float:
    """Integrated loudness in LUFS of mono float samples (shape (n,)); -inf for silence.

    Clips shorter than one 400 ms gating block are measured looped to one block.
    """
    import pyloudnorm

    x = np.asarray(samples, dtype=np.float64)
    if len(x) == 0 or not np.any(x):
        return float("-inf")
    block = int(np.ceil(_BLOCK_S * rate_hz)) + 1
    if len(x) < block:
        x = np.resize(x, block)
    with np.errstate(divide="ignore"):
        return float(pyloudnorm.Meter(rate_hz).integrated_loudness(x))


def true_peak_dbtp(samples: np.ndarray, rate_hz: int) -> float:
    """True peak in dBTP: the sample peak of the 4x oversampled signal (BS.1770-4 Annex 2)."""
    peak = float(np.max(np.abs(_oversampled(samples)), initial=0.0))
    return 20.0 * np.log10(peak) if peak > 0 else float("-inf")


def normalize_loudness(
    samples: np.ndarray,
    rate_hz: int,
    *,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = PEAK_CEILING_DBTP,
) -> np.ndarray:
    """Gain mono float samples (shape (n,)) to `target_lufs`, true peaks limited to `ceiling_dbtp`.

    Returns float32 (n,). Silent input comes back unchanged (there is nothing to normalise).
    """
    x = np.asarray(samples, dtype=np.float64)
    loudness = integrated_loudness(x, rate_hz)
    if not np.isfinite(loudness):
        return np.asarray(samples, dtype=np.float32)
    # Gated loudness scales exactly with gain, so one measurement sets the gain; only when the
    # limiter had to act (it lowers loudness a little) is it measured and re-gained again.
    x = x * 10 ** ((target_lufs - loudness) / 20.0)
    for _ in range(4):
        x, limited = _limit_peaks(x, rate_hz, ceiling_dbtp)
        if not limited:
            break
        loudness = integrated_loudness(x, rate_hz)
        if abs(loudness - target_lufs) < 0.2:
            break
        x = x * 10 ** ((target_lufs - loudness) / 20.0)
    else:
        # Still over after four rounds: guarantee the ceiling by turning the whole clip down.
        over = true_peak_dbtp(x, rate_hz) - ceiling_dbtp
        if over > 0:
            x = x * 10 ** (-(over + 0.01) / 20.0)
    return x.astype(np.float32)


def _oversampled(samples: np.ndarray) -> np.ndarray:
    return resample_poly(np.asarray(samples, dtype=np.float64), _OVERSAMPLE, 1)


def _limit_peaks(x: np.ndarray, rate_hz: int, ceiling_dbtp: float) -> tuple[np.ndarray, bool]:
    """Smooth gain reduction wherever the 4x oversampled peak exceeds the ceiling.

    The gain needed at each sample is min-filtered over +-w and then box-smoothed over w: each
    smoothed value averages minima whose windows all contain that sample, so it never exceeds
    the gain that sample needs (no overshoot), yet it changes gradually (no clicks).
    """
    ceiling = 10 ** (ceiling_dbtp / 20.0) * 0.995  # margin for inter-sample estimation error
    envelope = np.abs(_oversampled(x)).reshape(-1, _OVERSAMPLE).max(axis=1)[: len(x)]
    if envelope.max(initial=0.0) <= ceiling:
        return x, False
    need = np.minimum(1.0, ceiling / np.maximum(envelope, 1e-12))
    w = max(1, int(_LIMITER_WINDOW_S * rate_hz))
    gain = uniform_filter1d(minimum_filter1d(need, 2 * w + 1, mode="nearest"), w, mode="nearest")
    return x * gain, True
