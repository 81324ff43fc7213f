"""The 468-point MediaPipe face mesh, run through LiteRT on a rotated square crop.

As in MediaPipe's face-landmark graph: the crop is the detection box turned upright by the
eye-line angle, scaled 1.5x and made square; the model sees it at 192 x 192, RGB in [0, 1].
The result is then refined by cropping again around the first mesh (MediaPipe's tracking
step), which centres the face the way the model was trained and sharpens the contours.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from vitaphone.core.face._tflite import load_model
from vitaphone.core.face.types import FaceBox

MESH_FILE = "face_landmark.tflite"
MESH_INPUT_PX = 192
N_LANDMARKS = 468
RECT_SCALE = 1.5
# Outer eye corners (subject's right = image left, subject's left) used for the crop angle.
_RIGHT_EYE_OUTER, _LEFT_EYE_OUTER = 33, 263


@dataclass(frozen=True)
class CropRect:
    """A square crop: centre (x, y) and side in image pixels, and the face's roll in radians
    (clockwise in the image, y down); the crop is rotated by -angle so the face is upright."""

    center_xy: tuple[float, float]
    size_px: float
    angle_rad: float


def rect_from_detection(face: FaceBox) -> CropRect:
    """MediaPipe's DetectionsToRects + RectTransformation(scale 1.5, square_long)."""
    x0, y0, x1, y1 = face.box_xyxy
    right_eye, left_eye = face.keypoints_xy[0], face.keypoints_xy[1]
    angle = math.atan2(left_eye[1] - right_eye[1], left_eye[0] - right_eye[0])
    return _transformed_rect((x0 + x1) / 2, (y0 + y1) / 2, x1 - x0, y1 - y0, angle)


def rect_from_landmarks(landmarks: np.ndarray) -> CropRect:
    """The crop MediaPipe derives from a previous mesh: landmark bounding box (measured in the
    face's own upright frame, so a tilted head is not over-cropped), scale 1.5, square."""
    xy = landmarks[:, :2].astype(np.float64)
    d = xy[_LEFT_EYE_OUTER] - xy[_RIGHT_EYE_OUTER]
    angle = math.atan2(d[1], d[0])
    c, s = math.cos(angle), math.sin(angle)
    upright = xy @ np.array([[c, -s], [s, c]])  # rotate by -angle
    lo, hi = upright.min(axis=0), upright.max(axis=0)
    mid = (lo + hi) / 2
    cx, cy = _rotate(mid, angle)  # back from the upright frame to image pixels
    return _transformed_rect(cx, cy, hi[0] - lo[0], hi[1] - lo[1], angle)


def _rotate(p: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([c * p[0] - s * p[1], s * p[0] + c * p[1]])


def _transformed_rect(cx: float, cy: float, w: float, h: float, angle: float) -> CropRect:
    return CropRect((float(cx), float(cy)), float(max(w, h) * RECT_SCALE), float(angle))


def crop_matrix(rect: CropRect) -> np.ndarray:
    """3 x 3 affine mapping image pixels to crop pixels (0..192), face upright."""
    k = MESH_INPUT_PX / rect.size_px
    c, s = math.cos(rect.angle_rad), math.sin(rect.angle_rad)
    a = k * np.array([[c, s], [-s, c]])  # rotate by -angle, then scale
    m = np.eye(3)
    m[:2, :2] = a
    m[:2, 2] = MESH_INPUT_PX / 2 - a @ np.asarray(rect.center_xy)
    return m


def sample_crop(rgb: np.ndarray, rect: CropRect) -> np.ndarray:
    """The 192 x 192 x 3 uint8 crop. Large faces are first shrunk with area averaging, since
    warpAffine's bilinear sampling would alias when reducing by more than ~1.5x."""
    m = crop_matrix(rect)
    shrink = rect.size_px / MESH_INPUT_PX
    src = rgb
    if shrink > 1.5:
        h, w = rgb.shape[:2]
        half = 0.75 * rect.size_px  # covers the rotated square (half-diagonal 0.707)
        x0 = int(max(0, math.floor(rect.center_xy[0] - half)))
        y0 = int(max(0, math.floor(rect.center_xy[1] - half)))
        x1 = int(min(w, math.ceil(rect.center_xy[0] + half)))
        y1 = int(min(h, math.ceil(rect.center_xy[1] + half)))
        if x1 - x0 >= 2 and y1 - y0 >= 2:
            sub = rgb[y0:y1, x0:x1]
            nw = max(2, round((x1 - x0) / shrink))
            nh = max(2, round((y1 - y0) / shrink))
            src = cv2.resize(sub, (nw, nh), interpolation=cv2.INTER_AREA)
            to_small = np.array(
                [[nw / (x1 - x0), 0, -x0 * nw / (x1 - x0)], [0, nh / (y1 - y0), -y0 * nh / (y1 - y0)],
                 [0, 0, 1]]
            )
            m = m @ np.linalg.inv(to_small)
    return cv2.warpAffine(
        src, m[:2], (MESH_INPUT_PX, MESH_INPUT_PX),
        flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE,
    )


def run_mesh(rgb: np.ndarray, rect: CropRect) -> tuple[np.ndarray, float]:
    """Mesh in one crop. Returns landmarks (468, 3) float32 in image pixels (z in the same
    pixel scale, relative to the face centre, smaller = nearer) and face-presence in [0, 1]."""
    crop = sample_crop(rgb, rect)
    x = crop[None].astype(np.float32) / 255.0
    out = load_model(MESH_FILE).run(x)
    lm_crop = out["conv2d_21"].reshape(N_LANDMARKS, 3).astype(np.float64)
    presence = 1.0 / (1.0 + math.exp(-float(np.clip(out["conv2d_31"].ravel()[0], -50, 50))))
    inv = np.linalg.inv(crop_matrix(rect))
    xy1 = np.concatenate([lm_crop[:, :2], np.ones((N_LANDMARKS, 1))], axis=1)
    xy = (xy1 @ inv.T)[:, :2]
    z = lm_crop[:, 2] * (rect.size_px / MESH_INPUT_PX)
    return np.concatenate([xy, z[:, None]], axis=1).astype(np.float32), presence


def fit_mesh(rgb: np.ndarray, face: FaceBox, *, refine_steps: int = 2) -> tuple[np.ndarray, float]:
    """Mesh for a detected face: a first pass in the detection's crop, then `refine_steps`
    passes in the crop computed from the previous mesh. Returns (landmarks, presence)."""
    landmarks, presence = run_mesh(rgb, rect_from_detection(face))
    for _ in range(refine_steps):
        landmarks, presence = run_mesh(rgb, rect_from_landmarks(landmarks))
    return landmarks, presence
