"""Rendered video frames handed from the renderer to marking and encoding."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Frames:
    """rgb: (n_frames, H, W, 3) uint8, H and W even; fps frames per second.

    crop_xyxy: where the output sits in the source portrait's pixels (x0, y0, x1, y1) before any
    scaling to the output size; head_mask_box: the head region in output pixels, used by the
    stability metric and the label placement (the label avoids covering the face).
    """

    rgb: np.ndarray
    fps: float
    crop_xyxy: tuple[int, int, int, int]
    head_box_xyxy: tuple[int, int, int, int]

    @property
    def n_frames(self) -> int:
        return int(self.rgb.shape[0])

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps

    @property
    def format(self) -> FrameFormat:
        return FrameFormat(self.n_frames, int(self.rgb.shape[1]), int(self.rgb.shape[2]),
                           self.fps, self.crop_xyxy, self.head_box_xyxy)


@dataclass(frozen=True)
class FrameFormat:
    """What a stream of frame batches holds, known before the first frame: n_frames frames of
    height x width (even) at fps; crop_xyxy and head_box_xyxy as in `Frames`."""

    n_frames: int
    height: int
    width: int
    fps: float
    crop_xyxy: tuple[int, int, int, int]
    head_box_xyxy: tuple[int, int, int, int]

    @property
    def duration_s(self) -> float:
        return self.n_frames / self.fps
