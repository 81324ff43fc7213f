"""Where the video sits in the portrait: a generous crop around the head at the portrait's own
resolution (scaled down only when the crop is larger than `max_side`), with even dimensions."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vitaphone.core.render import regions

# Crop size in face-silhouette heights: head, hair and shoulders fit comfortably.
CROP_HEIGHTS = 2.6
CROP_WIDTHS = 3.0  # in silhouette widths (faces are narrower than tall)
CROP_DOWN_SHIFT = 0.18  # of the crop height: more room below the chin (neck, shoulders) than above
WHOLE_IMAGE_FRACTION = 0.7  # take the whole picture when the crop would cover this much of it


@dataclass(frozen=True)
class CropPlan:
    """crop_xyxy: source-pixel box (x0, y0, x1, y1), x1/y1 exclusive; out_wh: output size (even);
    scale: output pixels per source pixel (<= 1)."""

    crop_xyxy: tuple[int, int, int, int]
    out_wh: tuple[int, int]
    scale: float

    def to_output(self, xy: np.ndarray) -> np.ndarray:
        """Source-pixel coordinates (..., 2) -> output-pixel coordinates (pixel centres kept)."""
        x0, y0 = self.crop_xyxy[:2]
        return (xy - np.array([x0, y0], dtype=np.float32) + 0.5) * self.scale - 0.5


def plan_crop(size_hw: tuple[int, int], landmarks: np.ndarray, max_side: int) -> CropPlan:
    """Choose the crop around the face. landmarks: (468, 3) image pixels."""
    height, width = size_hw
    oval = landmarks[list(regions.FACE_OVAL), :2]
    (fx0, fy0), (fx1, fy1) = oval.min(axis=0), oval.max(axis=0)
    face_w, face_h = fx1 - fx0, fy1 - fy0
    side_w = max(CROP_WIDTHS * face_w, CROP_HEIGHTS * face_h * 0.8)
    side_h = max(CROP_HEIGHTS * face_h, side_w)
    cx = (fx0 + fx1) / 2
    cy = (fy0 + fy1) / 2 + CROP_DOWN_SHIFT * side_h
    cw, ch = min(side_w, width), min(side_h, height)
    if cw * ch >= WHOLE_IMAGE_FRACTION * width * height:
        x0, y0, x1, y1 = 0, 0, width, height
    else:
        x0 = round(np.clip(cx - cw / 2, 0, width - cw))
        y0 = round(np.clip(cy - ch / 2, 0, height - ch))
        x1, y1 = min(width, x0 + round(cw)), min(height, y0 + round(ch))
    scale = min(1.0, max_side / max(x1 - x0, y1 - y0))
    out_w = max(2, int((x1 - x0) * scale) // 2 * 2)
    out_h = max(2, int((y1 - y0) * scale) // 2 * 2)
    if scale == 1.0:  # no resampling: trim to even size instead (at most one pixel a side)
        x1, y1 = x0 + out_w, y0 + out_h
    return CropPlan((x0, y0, x1, y1), (out_w, out_h), out_w / (x1 - x0))


def crop_image(rgb: np.ndarray, plan: CropPlan) -> np.ndarray:
    """The crop of an H x W x 3 uint8 image at output size (area-averaged when scaled down)."""
    x0, y0, x1, y1 = plan.crop_xyxy
    part = np.ascontiguousarray(rgb[y0:y1, x0:x1])
    if part.shape[1] == plan.out_wh[0] and part.shape[0] == plan.out_wh[1]:
        return part
    return cv2.resize(part, plan.out_wh, interpolation=cv2.INTER_AREA)


def head_box(landmarks_out: np.ndarray, out_wh: tuple[int, int]) -> tuple[int, int, int, int]:
    """The head (face, hair, ears) in output pixels: the silhouette grown by a third sideways,
    by half its height upwards (hair) and a tenth downwards, clipped to the frame."""
    oval = landmarks_out[list(regions.FACE_OVAL), :2]
    (x0, y0), (x1, y1) = oval.min(axis=0), oval.max(axis=0)
    w, h = x1 - x0, y1 - y0
    box = (x0 - 0.33 * w, y0 - 0.5 * h, x1 + 0.33 * w, y1 + 0.1 * h)
    return (
        int(max(0, np.floor(box[0]))),
        int(max(0, np.floor(box[1]))),
        int(min(out_wh[0], np.ceil(box[2]))),
        int(min(out_wh[1], np.ceil(box[3]))),
    )
