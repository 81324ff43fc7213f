"""An independent face judge for bench/animate.py: dlib, not the renderer's MediaPipe mesh.

dlib's HOG face detector, its 68-point shape predictor (iBUG 300-W points; the model file is
for non-commercial use: a bench judge only, never shipped) and its 128-d face-recognition
ResNet, all from the `face-recognition-models` package (pip install 'vitaphone[eval]').
Its files are located with importlib (the package's own helper imports pkg_resources).

68-point indices used: jaw 0-16, brows 17-21 (image left) and 22-26, nose bottom 33,
eyes 36-41 and 42-47, mouth corners 48 and 54, inner lips 60-67 (61-63 upper, 65-67 lower).
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

DETECT_MAX_SIDE = 640  # HOG detection on a downscaled copy: ~30 ms instead of ~120 ms at 1024 px


def _models_dir() -> Path:
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("face-recognition-models is missing: pip install 'vitaphone[eval]'")
    return Path(next(iter(spec.submodule_search_locations))) / "models"


@lru_cache(maxsize=1)
def _dlib_models():
    try:
        import dlib
    except ImportError as exc:
        raise SystemExit("dlib is missing: pip install 'vitaphone[eval]' (a dlib-bin wheel)") from exc
    d = _models_dir()
    return (
        dlib,
        dlib.get_frontal_face_detector(),
        dlib.shape_predictor(str(d / "shape_predictor_68_face_landmarks.dat")),
        dlib.shape_predictor(str(d / "shape_predictor_5_face_landmarks.dat")),
        dlib.face_recognition_model_v1(str(d / "dlib_face_recognition_resnet_model_v1.dat")),
    )


@dataclass(frozen=True)
class FrameFace:
    """dlib's reading of one frame: 68 points (68, 2) float64 in frame pixels, the face box,
    and (when asked) the 128-d identity embedding."""

    points: np.ndarray
    box_xyxy: tuple[int, int, int, int]
    embedding: np.ndarray | None


def detect_box(rgb: np.ndarray, upsample: int = 0) -> tuple[int, int, int, int] | None:
    """The largest HOG face box in frame pixels, or None."""
    dlib, detector, *_ = _dlib_models()
    scale = min(1.0, DETECT_MAX_SIDE / max(rgb.shape[:2]))
    small = cv2.resize(rgb, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA) if scale < 1 else rgb
    rects = detector(np.ascontiguousarray(small), upsample)
    if not rects:
        return None
    r = max(rects, key=lambda r: r.width() * r.height())
    return tuple(int(round(v / scale)) for v in (r.left(), r.top(), r.right(), r.bottom()))  # type: ignore[return-value]


def read_face(rgb: np.ndarray, box: tuple[int, int, int, int], *, embed: bool) -> FrameFace:
    """68 points (and optionally the identity embedding) of the face in `box`."""
    dlib, _, predictor68, predictor5, resnet = _dlib_models()
    rect = dlib.rectangle(*box)
    img = np.ascontiguousarray(rgb)
    shape = predictor68(img, rect)
    pts = np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)
    emb = None
    if embed:
        emb = np.array(resnet.compute_face_descriptor(img, predictor5(img, rect)), dtype=np.float64)
    return FrameFace(pts, box, emb)


def box_from_points(points: np.ndarray) -> tuple[int, int, int, int]:
    """A detector-like box around the previous frame's points (to follow a face when HOG
    misses a frame): dlib's boxes span roughly brows-to-chin and jaw-to-jaw."""
    x0, y0 = points.min(axis=0)
    x1, y1 = points.max(axis=0)
    return int(x0), int(y0), int(x1), int(y1)


# --- measurements on the 68 points -----------------------------------------------------------
def iod(points: np.ndarray) -> float:
    """Distance between the eye centres (mean of each eye's six points), pixels."""
    return float(np.linalg.norm(points[42:48].mean(0) - points[36:42].mean(0)))


def _upright(points: np.ndarray) -> np.ndarray:
    """Points rotated so the eye line is horizontal, in IOD units (y down)."""
    right, left = points[36:42].mean(0), points[42:48].mean(0)
    d = left - right
    a = math.atan2(d[1], d[0])
    c, s = math.cos(a), math.sin(a)
    return ((points - (left + right) / 2) @ np.array([[c, -s], [s, c]])) / float(np.hypot(*d))


def mouth_opening(points: np.ndarray) -> float:
    """Inner-lip gap at three columns (61-67, 62-66, 63-65), mean, in IOD units."""
    p = _upright(points)
    return float(np.mean([p[67 - k, 1] - p[61 + k, 1] for k in range(3)]).clip(0, None))


def expression(points: np.ndarray) -> dict[str, float]:
    """Brow height, eye opening and mouth-corner height (+ corner asymmetry), IOD units,
    positive = raised / more open. Mouth corners are measured against the nose bottom (33)."""
    p = _upright(points)
    y = p[:, 1]
    eye_corners = y[[36, 39, 42, 45]].mean()
    lift_right, lift_left = y[33] - y[48], y[33] - y[54]  # 48 = image left = subject's right
    return {
        "brow_height": float(eye_corners - y[17:27].mean()),
        "eye_opening": float(np.mean([y[41] - y[37], y[40] - y[38], y[47] - y[43], y[46] - y[44]])),
        "mouth_corner_height": float((lift_right + lift_left) / 2),
        "mouth_corner_asym": float(lift_left - lift_right),
    }


def head_hull(points: np.ndarray, *, hair: bool = True) -> np.ndarray:
    """A generous head region around the 68 points (int32 polygon): the face hull grown 1.7x
    about its centre (ears), stretched down one face height (neck) and, with `hair`, up 0.8 of
    a face height: the 68 points stop at the brows, and the forehead and the hair above are head
    too (the renderer turns them with it). Everything else must stay still."""
    hull = cv2.convexHull(points.astype(np.float32)).reshape(-1, 2)
    centre = hull.mean(axis=0)
    grown = centre + (hull - centre) * 1.7
    height = float(points[:, 1].max() - points[:, 1].min())
    parts = [grown, grown + np.array([0.0, height])]
    if hair:
        parts.append(grown - np.array([0.0, 0.8 * height]))
    return cv2.convexHull(np.concatenate(parts).astype(np.float32)).reshape(-1, 2).astype(np.int32)
