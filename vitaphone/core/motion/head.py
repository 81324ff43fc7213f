"""Head motion from prosody, with seeded idle motion and no drift.

Three layers, each zero-mean by construction:
1. **Nods** on accents (stressed syllables / energy+pitch peaks): the head dips (pitch +)
   and comes back, with a small brow raise on the strongest accents (speakers raise their
   brows on emphasis, Cavé et al. 1996).
2. **Sway** with the intonation: roll and pitch follow the F0 contour (high pitch lifts the
   chin a little), high-passed so a long rising or falling contour cannot tilt the head away.
3. **Idle** motion: per axis a sum of a few seeded sinusoids at 0.05-0.5 Hz, which has zero
   mean and bounded amplitude over any length.

The prosodic part is high-passed (a 4 s moving mean removed); the sum is soft-limited (tanh)
to the natural range: |pitch| < 6, |yaw| < 8, |roll| < 4 degrees at amplitude 1 (scaled with
the amplitude above 1). Motion fades in over the first 0.6 s so the first frame is the
portrait as photographed.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vitaphone.core.motion.prosody import Prosody, accent_peaks

LIMIT_DEG = np.array([6.0, 8.0, 4.0], np.float32)  # pitch, yaw, roll at amplitude 1
# Amplitudes at amplitude 1 are ~0.6 of a live speaker's: a warped photo shows every degree
# (hair, collar and background edges move with the head). bench/animate.py measured 0.8-1.4
# grey levels/frame outside the head at 1.75x these values and 0.75-1.24 at 1.15x, against a
# < 1 target; sad (head gain 0.7) read 0.75-0.92 there while still looking alive.
IDLE_DEG = np.array([0.8, 1.25, 0.55], np.float32)  # RMS-ish idle amplitude per axis
IDLE_BAND_HZ = (0.05, 0.5)
NOD_DEG = 1.3  # pitch dip of the strongest accent
NOD_RISE_S, NOD_FALL_S = 0.12, 0.35  # dip reached ~120 ms after it starts, recovers in ~350
SWAY_ROLL_DEG_PER_ST = 0.15  # roll per semitone of F0 above the local mean
SWAY_PITCH_DEG_PER_ST = -0.12  # chin up (pitch -) with high F0
HIGHPASS_S = 4.0
FADE_IN_S = 0.6


@dataclass(frozen=True)
class HeadMotion:
    """angles_deg: (n_frames, 3) float32 (pitch, yaw, roll), degrees, zero = rest pose.
    brow: (n_frames,) float32, brow_raise gestures (0..~0.3) that go with the nods.
    nods_s: times of the nods (accent peaks) in seconds."""

    angles_deg: np.ndarray
    brow: np.ndarray
    nods_s: tuple[float, ...]


def _moving_mean(x: np.ndarray, width: int) -> np.ndarray:
    """Centred moving mean along axis 0 with reflected edges, same shape as x."""
    if width < 2 or x.shape[0] < 2:
        return np.repeat(x.mean(axis=0, keepdims=True), x.shape[0], axis=0)
    r = width // 2
    pad = np.pad(x, ((r, r), (0, 0)), mode="reflect") if x.shape[0] > r else np.pad(
        x, ((r, r), (0, 0)), mode="edge")
    c = np.cumsum(np.vstack([np.zeros((1, x.shape[1])), pad]), axis=0)
    return (c[2 * r + 1:] - c[:-2 * r - 1]) / (2 * r + 1)


def _idle(n: int, fps: float, tempo: float, rng: np.random.Generator) -> np.ndarray:
    """(n, 3) idle motion: per axis 4 sinusoids, log-uniform frequencies in IDLE_BAND_HZ
    (times `tempo`), random phases, amplitudes normalised to IDLE_DEG RMS."""
    t = np.arange(n) / fps
    out = np.zeros((n, 3))
    for axis in range(3):
        f = np.exp(rng.uniform(*np.log(IDLE_BAND_HZ), size=4)) * tempo
        a = rng.uniform(0.5, 1.0, size=4) / np.sqrt(f / IDLE_BAND_HZ[0])  # more slow than fast
        phase = rng.uniform(0, 2 * np.pi, size=4)
        a *= IDLE_DEG[axis] / np.sqrt(0.5 * np.sum(a**2))
        out[:, axis] = np.sum(a * np.sin(2 * np.pi * f * t[:, None] + phase), axis=1)
    return out


def _nod_kernel(fps: float, tempo: float) -> np.ndarray:
    """Pitch profile of one nod of depth 1: smooth rise then slower return, starting ~1 frame
    before the accent peak, shape (k,)."""
    rise, fall = NOD_RISE_S / tempo, NOD_FALL_S / tempo
    t = np.arange(0, rise + fall + 1.0 / fps, 1.0 / fps)
    up = np.clip(t / rise, 0, 1)
    down = np.clip((t - rise) / fall, 0, 1)
    return np.where(t <= rise, np.sin(0.5 * np.pi * up) ** 2, np.cos(0.5 * np.pi * down) ** 2)


def _nods(prosody: Prosody, fps: float, tempo: float,
          rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nod pitch (n,), brow gesture (n,), peak frames, from accent peaks."""
    n = prosody.accent.shape[0]
    peaks, heights = accent_peaks(prosody.accent, fps, min_gap_s=0.45 / tempo)
    kernel = _nod_kernel(fps, tempo)
    lead = int(round(0.08 * fps))  # the head moves with, slightly ahead of, the accent
    pitch = np.zeros(n + len(kernel) + lead)
    brow = np.zeros_like(pitch)
    for p, h in zip(peaks, heights):
        start = max(0, p - lead)
        depth = NOD_DEG * min(1.0, 0.4 + h) * rng.uniform(0.7, 1.1)
        pitch[start:start + len(kernel)] += depth * kernel
        if h > 0.45:  # only clear emphasis lifts the brows
            brow[start:start + len(kernel)] = np.maximum(
                brow[start:start + len(kernel)], 0.3 * min(1.0, h) * kernel)
    return pitch[:n], brow[:n], peaks


def _sway(prosody: Prosody, fps: float) -> np.ndarray:
    """(n, 3) pitch/roll following the F0 contour relative to its local (2 s) mean."""
    n = prosody.f0_st.shape[0]
    f0 = prosody.f0_st.astype(np.float64)
    # Fill unvoiced gaps by holding the last voiced value, so consonants do not jerk the head.
    idx = np.where(prosody.voiced, np.arange(n), 0)
    np.maximum.accumulate(idx, out=idx)
    held = np.where(prosody.voiced.any(), f0[idx], 0.0)
    local = _moving_mean(held[:, None], int(2.0 * fps))[:, 0]
    smooth = _moving_mean((held - local)[:, None], max(1, int(0.3 * fps)))[:, 0]
    out = np.zeros((n, 3))
    out[:, 0] = SWAY_PITCH_DEG_PER_ST * smooth
    out[:, 2] = SWAY_ROLL_DEG_PER_ST * smooth
    return out


def plan_head(prosody: Prosody, fps: float, amplitude: float, seed: int,
              gain: float = 1.0, tempo: float = 1.0) -> HeadMotion:
    """Head angles for a clip, reproducible from `seed`. `amplitude` is the user's knob
    (0 = still, 1 = natural, 2 = double); `gain` and `tempo` come from the emotion."""
    n = prosody.accent.shape[0]
    rng = np.random.default_rng([seed, 0x4EAD])
    idle = _idle(n, fps, tempo, rng)
    nod, brow, peaks = _nods(prosody, fps, tempo, rng)
    driven = _sway(prosody, fps)
    driven[:, 0] += nod
    # High-pass the speech-driven part (nods only go one way): nothing drifts, however long
    # the clip. The idle sinusoids are zero-mean already and keep their slow sway.
    angles = idle + driven - _moving_mean(driven, int(HIGHPASS_S * fps))
    scale = amplitude * gain
    limit = LIMIT_DEG * max(1.0, amplitude)
    angles = limit * np.tanh(angles * scale / limit)
    fade = np.clip(np.arange(n) / (FADE_IN_S * fps), 0, 1)
    fade = fade * fade * (3 - 2 * fade)
    angles *= fade[:, None]
    return HeadMotion(angles.astype(np.float32), (brow * fade).astype(np.float32),
                      tuple(float((p + 0.5) / fps) for p in peaks))
