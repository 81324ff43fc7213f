"""The per-frame motion track that drives the renderer, and the emotion vocabulary."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np


class Emotion(str, Enum):
    NEUTRAL = "neutral"
    HAPPY = "happy"
    SAD = "sad"
    ANGRY = "angry"
    SURPRISED = "surprised"
    FEAR = "fear"
    DISGUST = "disgust"
    CONTEMPT = "contempt"


# Channel names of a MotionTrack. Units: mouth and face channels are normalised in [0, 1]
# (or [-1, 1] where signed) relative to the face's own size; head angles in degrees.
MOUTH_CHANNELS = (
    "jaw_open",  # 0 closed .. 1 widest
    "lip_spread",  # -1 pursed .. 1 spread (smile-like width)
    "lip_round",  # 0 .. 1 rounding/protrusion (oo, w)
    "lip_close",  # 0 .. 1 lips pressed together (p, b, m) even if the jaw is slightly open
    "lower_lip_tuck",  # 0 .. 1 lower lip under the upper teeth (f, v)
    "upper_lip_raise",  # 0 .. 1 upper lip raised (teeth show; also disgust)
)
FACE_CHANNELS = (
    "mouth_corner",  # -1 down (sad) .. 1 up (happy); asymmetric part in mouth_corner_asym
    "mouth_corner_asym",  # -1 .. 1: left minus right corner lift (contempt)
    "brow_raise",  # -1 lowered .. 1 raised (inner and outer)
    "brow_inner_raise",  # 0 .. 1 inner brows up (sad, fear)
    "brow_furrow",  # 0 .. 1 brows pulled together and down (angry)
    "eye_open",  # -1 squint .. 1 wide (surprise, fear); blinks are separate
    "cheek_raise",  # 0 .. 1 (happy: Duchenne)
    "nose_wrinkle",  # 0 .. 1 (disgust)
    "blink_left",  # 0 open .. 1 closed (subject's left)
    "blink_right",
)
HEAD_CHANNELS = (
    "head_pitch_deg",  # + nods down
    "head_yaw_deg",  # + turns to the subject's left
    "head_roll_deg",  # + tilts clockwise in the image
    "gaze_x",  # -1 .. 1, fraction of the iris travel, + to image right
    "gaze_y",  # -1 .. 1, + down
)
CHANNELS: tuple[str, ...] = MOUTH_CHANNELS + FACE_CHANNELS + HEAD_CHANNELS


@dataclass(frozen=True)
class MotionTrack:
    """values: (n_frames, len(CHANNELS)) float32, column order = CHANNELS, at `fps`."""

    values: np.ndarray
    fps: float
    emotion: Emotion = Emotion.NEUTRAL
    intensity: float = 0.0
    seed: int = 0
    notes: dict[str, str] = field(default_factory=dict)

    @property
    def n_frames(self) -> int:
        return int(self.values.shape[0])

    def channel(self, name: str) -> np.ndarray:
        """One channel over time, shape (n_frames,)."""
        return self.values[:, CHANNELS.index(name)]
