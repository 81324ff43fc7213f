"""Face analysis results passed from the face stage to motion and rendering."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Portrait:
    """A decoded, validated portrait.

    rgb: H x W x 3 uint8, EXIF orientation applied, alpha composited on white, 8-bit sRGB.
    source_sha256: hash of the file bytes as received.
    """

    rgb: np.ndarray
    source_sha256: str
    notes: tuple[str, ...] = ()  # what was done on the way in, e.g. "first frame of animated GIF"

    @property
    def size_hw(self) -> tuple[int, int]:
        return int(self.rgb.shape[0]), int(self.rgb.shape[1])


@dataclass(frozen=True)
class FaceBox:
    """A detected face: box in image pixels (x0, y0, x1, y1), detector score in [0, 1],
    and the detector's 6 keypoints (right eye, left eye, nose tip, mouth, right ear, left ear),
    shape (6, 2) in image pixels ("right" = the subject's right, i.e. image left)."""

    box_xyxy: tuple[float, float, float, float]
    score: float
    keypoints_xy: np.ndarray


@dataclass(frozen=True)
class FaceMesh:
    """The dense mesh of the chosen face, in the portrait's own pixel coordinates.

    landmarks: (468, 3) float32, MediaPipe face-mesh topology; x, y in image pixels, z in the
      same pixel scale (smaller z = closer to the camera), relative to the face centre.
    triangles: (852, 3) int32 vertex indices (the mesh tessellation).
    face: the detection the mesh was fitted in; faces_found: how many faces the detector saw
      (the largest, most central one is used when several are found).
    yaw_deg / pitch_deg / roll_deg: rough head pose estimated from the mesh.
    """

    landmarks: np.ndarray
    triangles: np.ndarray
    face: FaceBox
    faces_found: int
    yaw_deg: float
    pitch_deg: float
    roll_deg: float
    presence: float  # the mesh model's face-presence probability
