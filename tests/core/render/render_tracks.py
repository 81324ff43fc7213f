"""Hand-made motion tracks for the renderer tests (a module of its own: several test folders
have a conftest.py, so `from conftest import ...` would pick whichever was imported first)."""

from __future__ import annotations

import numpy as np

from vitaphone.core.motion.types import CHANNELS, MotionTrack


def make_track(rows: list[dict[str, float]], fps: float = 25.0) -> MotionTrack:
    """One frame per dict of channel values (missing channels are 0)."""
    values = np.zeros((len(rows), len(CHANNELS)), dtype=np.float32)
    for i, row in enumerate(rows):
        for name, value in row.items():
            values[i, CHANNELS.index(name)] = value
    return MotionTrack(values, fps)
