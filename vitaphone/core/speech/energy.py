"""The last-resort mouth track: pseudo-phones from loudness and voicing alone.

Used when neither alignment nor phone recognition produced phones (timing == "energy"). Every
10 ms frame gets one of four labels from the product's phone set, chosen for the mouth shape
they drive, not for what was said:

- SIL: quieter than the noise floor + 12 dB (mouth closed / at rest)
- S: unvoiced noise (zero-crossing rate above 0.25, more energy above 3 kHz than below):
  fricatives, mouth nearly closed, teeth together
- AA: voiced and loud (within 6 dB of the clip's 95th-percentile level): mouth wide open
- AH: other voiced sound: mouth half open

Runs shorter than 40 ms are merged into their neighbour so the mouth does not flutter.
"""

from __future__ import annotations

import numpy as np

from vitaphone.core.speech.types import SILENCE

FRAME_S = 0.01
_MIN_RUN_S = 0.04


def energy_track(samples: np.ndarray, rate_hz: int) -> tuple[tuple[str, float, float], ...]:
    """Pseudo-phone spans (label, start_s, end_s) covering mono float samples (n,)."""
    hop = max(1, int(FRAME_S * rate_hz))
    n_frames = len(samples) // hop
    if n_frames == 0:
        return ((SILENCE, 0.0, len(samples) / rate_hz),) if len(samples) else ()
    frames = np.asarray(samples[: n_frames * hop], dtype=np.float64).reshape(n_frames, hop)
    level_db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    zcr = np.mean(np.abs(np.diff(np.signbit(frames), axis=1)), axis=1)
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(hop), axis=1)) ** 2
    freqs = np.fft.rfftfreq(hop, 1.0 / rate_hz)
    high = spectrum[:, freqs >= 3000].sum(axis=1)
    low = spectrum[:, freqs < 3000].sum(axis=1) + 1e-12

    floor = np.percentile(level_db, 10)
    loud = np.percentile(level_db, 95)
    labels = np.full(n_frames, "AH", dtype=object)
    labels[level_db >= loud - 6] = "AA"
    labels[(zcr > 0.25) & (high > low)] = "S"
    labels[level_db < floor + 12] = SILENCE
    return _runs(list(labels), len(samples) / rate_hz)


def _runs(labels: list[str], duration_s: float) -> tuple[tuple[str, float, float], ...]:
    """Merge equal neighbours, absorb runs shorter than _MIN_RUN_S, end exactly at duration_s."""
    runs: list[list] = []
    for k, label in enumerate(labels):
        if runs and runs[-1][0] == label:
            runs[-1][2] = k + 1
        else:
            runs.append([label, k, k + 1])
    min_frames = int(round(_MIN_RUN_S / FRAME_S))
    merged: list[list] = []
    for run in runs:
        if merged and (run[2] - run[1] < min_frames or merged[-1][0] == run[0]):
            merged[-1][2] = run[2]  # too short (or same as before): part of the previous run
        else:
            merged.append(run)
    spans = [(label, a * FRAME_S, b * FRAME_S) for label, a, b in merged]
    if spans:
        spans[-1] = (spans[-1][0], spans[-1][1], duration_s)
    return tuple(spans)
