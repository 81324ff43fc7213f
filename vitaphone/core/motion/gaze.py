"""Gaze shifts: the eyes hold on the camera, glance away now and then (a saccade, a hold) and
come back. Speakers look away more at the start of a phrase (Kendon 1967), so glances
prefer phrase starts. Saccades take ~40-60 ms: at 25 fps that is one in-between frame.
"""

from __future__ import annotations

import numpy as np

HOLD_CAMERA_S = 2.8  # mean fixation on the camera between glances
HOLD_AWAY_S = 0.7  # mean length of a glance away
SACCADE_S = 0.05
MAX_X, MAX_Y = 0.45, 0.25  # reach of a glance, fraction of the iris travel


def plan_gaze(n_frames: int, fps: float, seed: int, rate: float = 1.0,
              phrase_starts_s: tuple[float, ...] = ()) -> np.ndarray:
    """Gaze (n_frames, 2) float32 (gaze_x, gaze_y) in [-1, 1]; 0 = looking at the camera.
    `rate` multiplies how often glances happen (emotion)."""
    rng = np.random.default_rng([seed, 0x6A2E])
    duration = n_frames / fps
    starts = np.asarray(sorted(phrase_starts_s), np.float64)
    targets: list[tuple[float, float, float]] = []  # (time, x, y): fixation starts
    t = rng.exponential(HOLD_CAMERA_S / max(rate, 1e-3))
    while t < duration:
        if starts.size:  # pull the glance to a nearby phrase start
            near = starts[np.argmin(np.abs(starts - t))]
            if abs(near - t) < 0.6:
                t = float(near)
        x = rng.uniform(0.4, 1.0) * MAX_X * rng.choice((-1.0, 1.0))
        y = rng.uniform(-0.6, 1.0) * MAX_Y  # more often down than up
        targets.append((t, x, y))
        back = t + max(0.25, rng.gamma(3.0, HOLD_AWAY_S / 3.0))
        targets.append((back, 0.0, 0.0))
        t = back + max(0.6, rng.exponential(HOLD_CAMERA_S / max(rate, 1e-3)))
    return _render(targets, n_frames, fps)


def _render(targets: list[tuple[float, float, float]], n_frames: int, fps: float) -> np.ndarray:
    """Step-and-hold between fixations, each step a short smoothstep (the saccade)."""
    t = (np.arange(n_frames) + 0.5) / fps
    gaze = np.zeros((n_frames, 2))
    prev = np.zeros(2)
    for time_s, x, y in targets:
        target = np.array([x, y])
        s = np.clip((t - time_s) / SACCADE_S, 0.0, 1.0)
        s = s * s * (3 - 2 * s)
        gaze += s[:, None] * (target - prev)[None, :]
        prev = target
    return np.clip(gaze, -1, 1).astype(np.float32)
