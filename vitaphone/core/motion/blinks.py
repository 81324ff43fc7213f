"""Seeded, natural blinking.

Timing: spontaneous blink intervals are right-skewed with a refractory gap (Ponder & Kennedy
1927; Doughty 2001): a minimum gap plus a gamma-distributed remainder. Speakers blink more at
phrase boundaries and pauses (Nakano & Kitazawa 2010), so a blink that falls near a pause is
pulled to the pause's start. About one blink in eight is a double blink.

Shape: the lid closes fast and opens slowly (Evinger et al. 1991): ~100 ms down, a brief hold,
~150 ms up. Each blink's peak is placed on a frame centre so that every blink is seen fully
closed at 25 fps instead of being sampled at random phases. The two eyes share the blink, the
left eye lagging the right by a few seeded milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

CLOSE_S = 0.10  # lid travel down
HOLD_S = 0.03  # fully closed
OPEN_S = 0.15  # lid travel up
MIN_GAP_S = 1.0  # refractory interval between blinks
GAMMA_SHAPE = 2.5  # shape of the interval remainder (CV ~0.6 of the remainder)
DOUBLE_BLINK_P = 0.12
DOUBLE_BLINK_GAP_S = (0.32, 0.45)  # peak-to-peak of a double blink
PAUSE_PULL_S = 0.8  # a blink this close to a pause moves to it ...
PAUSE_PULL_P = 0.7  # ... with this probability
MAX_EYE_LAG_S = 0.008


@dataclass(frozen=True)
class Blinks:
    """closure: (n_frames, 2) float32 in [0, 1], columns (left, right); 1 = closed.
    peaks_s: blink peak times in seconds, sorted."""

    closure: np.ndarray
    peaks_s: tuple[float, ...]


def blink_times(duration_s: float, rate_per_min: float, rng: np.random.Generator,
                pauses_s: tuple[float, ...] = ()) -> list[float]:
    """Blink peak times in [0.5 s, duration_s - 0.2 s], sorted, at about `rate_per_min`.

    pauses_s: start times of pauses/phrase boundaries that attract blinks.
    """
    if rate_per_min <= 0 or duration_s <= 0.7:
        return []
    mean_interval = 60.0 / rate_per_min
    remainder_mean = max(mean_interval - MIN_GAP_S, 0.2)
    scale = remainder_mean / GAMMA_SHAPE
    pauses = np.asarray(sorted(pauses_s), np.float64)
    times: list[float] = []
    # Start at a random phase of the process, but not in the first half second: the portrait's
    # first frames stay as photographed.
    t = 0.5 + rng.uniform(0.0, mean_interval)
    while t < duration_s - 0.2:
        if pauses.size:
            nearest = pauses[np.argmin(np.abs(pauses - t))]
            moved = nearest + 0.05
            pull = rng.random() < PAUSE_PULL_P  # drawn every time: keeps the stream stable
            room = not times or moved - times[-1] >= MIN_GAP_S
            if pull and abs(nearest - t) < PAUSE_PULL_S and room:
                t = float(moved)
        if t >= 0.5:
            times.append(t)
        if rng.random() < DOUBLE_BLINK_P:
            second = t + rng.uniform(*DOUBLE_BLINK_GAP_S)
            if second < duration_s - 0.2:
                times.append(second)
                t = second
        t += MIN_GAP_S + rng.gamma(GAMMA_SHAPE, scale)
    return sorted(times)


def blink_shape(dt: np.ndarray) -> np.ndarray:
    """Lid closure (0..1) at `dt` seconds from a blink's peak (hold centred at 0): eased
    closing over CLOSE_S, HOLD_S closed, eased opening over OPEN_S."""
    half_hold = 0.5 * HOLD_S
    down = np.clip((dt + half_hold + CLOSE_S) / CLOSE_S, 0.0, 1.0)
    up = np.clip(1.0 - (dt - half_hold) / OPEN_S, 0.0, 1.0)
    # Closing accelerates (ease-in), opening decelerates (ease-out): smoothstep both sides.
    down = down * down * (3 - 2 * down)
    up = up * up * (3 - 2 * up)
    return np.where(dt < -half_hold, down, np.where(dt > half_hold, up, 1.0))


def plan_blinks(n_frames: int, fps: float, rate_per_min: float, seed: int,
                pauses_s: tuple[float, ...] = ()) -> Blinks:
    """Blink closure curves for a clip of `n_frames` at `fps`, reproducible from `seed`."""
    rng = np.random.default_rng([seed, 0xB11C])
    duration_s = n_frames / fps
    # Peaks snapped to frame centres so every blink is sampled fully closed.
    raw = blink_times(duration_s, rate_per_min, rng, pauses_s)
    peaks = sorted({(np.floor(p * fps) + 0.5) / fps for p in raw})
    lag = rng.uniform(0.0, MAX_EYE_LAG_S)
    t = (np.arange(n_frames) + 0.5) / fps
    closure = np.zeros((n_frames, 2), np.float32)
    for p in peaks:
        # Right eye leads; the left lags by `lag` (values at the peak stay ~1 for both eyes).
        closure[:, 1] = np.maximum(closure[:, 1], blink_shape(t - p))
        closure[:, 0] = np.maximum(closure[:, 0], blink_shape(t - p - lag))
    return Blinks(closure, tuple(float(p) for p in peaks))
