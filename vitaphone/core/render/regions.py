"""MediaPipe face-mesh (468 points) index groups the renderer's rig and composites need.

Orientation: "right" is the subject's right (image left). Contours listed corner to corner so
that upper and lower halves pair up column by column (same length, same corners). The shared
groups come from `vitaphone.core.face.landmarks`; the lip rings between the inner and outer
contours, the lid halves from the outer corner, and the rig's cheek/nose areas are added here.
"""

from __future__ import annotations

import numpy as np

from vitaphone.core.face import landmarks as lmk

# Lips. Inner contour halves run from the right corner (78) to the left corner (308).
LIP_INNER_UPPER = lmk.LIPS_INNER_UPPER
LIP_INNER_LOWER = lmk.LIPS_INNER_LOWER
LIP_OUTER_UPPER = lmk.LIPS_OUTER_UPPER
LIP_OUTER_LOWER = lmk.LIPS_OUTER_LOWER
# The ring between inner and outer contour (lip body), upper and lower.
LIP_MID_UPPER = (62, 183, 42, 41, 38, 12, 268, 271, 272, 407, 292)
LIP_MID_LOWER = (62, 96, 89, 179, 86, 15, 316, 403, 319, 325, 292)
LIP_RING2_UPPER = (76, 184, 74, 73, 72, 11, 302, 303, 304, 408, 306)
LIP_RING2_LOWER = (76, 77, 90, 180, 85, 16, 315, 404, 320, 307, 306)
MOUTH_CORNERS = (61, 291)  # outer corners, right then left
MOUTH_CORNERS_INNER = (78, 308)

# Eyes: upper and lower lid contours from the outer to the inner corner.
EYE_R_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
EYE_R_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)
EYE_L_UPPER = (263, 466, 388, 387, 386, 385, 384, 398, 362)
EYE_L_LOWER = (263, 249, 390, 373, 374, 380, 381, 382, 362)

# Brows, outer to inner (upper and lower edge mixed: the whole brow moves together).
BROW_R = (46, 53, 52, 65, 55, 70, 63, 105, 66, 107)
BROW_L = (276, 283, 282, 295, 285, 300, 293, 334, 296, 336)
BROW_R_INNER = (55, 65, 107, 66)
BROW_L_INNER = (285, 295, 336, 296)

# Cheeks (the malar fat pad that rises in a Duchenne smile).
CHEEK_R = (50, 101, 118, 117, 123, 187, 205, 36, 119, 100, 47, 126, 142, 203, 206)
CHEEK_L = (280, 330, 347, 346, 352, 411, 425, 266, 348, 329, 277, 355, 371, 423, 426)
# Nose: wings and the sides of the bridge that wrinkle.
NOSE_WINGS = (
    48,
    64,
    98,
    129,
    49,
    102,
    278,
    294,
    327,
    358,
    279,
    331,
    219,
    439,
    115,
    344,
)
NOSE_BRIDGE = (6, 197, 195, 5, 122, 351, 188, 412, 196, 419, 174, 399)

# Face silhouette (closed loop, clockwise in the image starting at the forehead top).
FACE_OVAL = lmk.FACE_OVAL
CHIN = 152
FOREHEAD_TOP = 10
NOSE_TIP = 1


def eye_centres(landmarks_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Centres (2,) of the subject's right and left eye contours, in the input's units."""
    right = landmarks_xy[list(EYE_R_UPPER + EYE_R_LOWER)].mean(axis=0)
    left = landmarks_xy[list(EYE_L_UPPER + EYE_L_LOWER)].mean(axis=0)
    return right, left


def inner_lip_polygon() -> tuple[int, ...]:
    """Inner-lip loop: upper half corner to corner, then lower half back (no repeated corners)."""
    return LIP_INNER_UPPER + tuple(reversed(LIP_INNER_LOWER[1:-1]))


def eye_polygon(side: str) -> tuple[int, ...]:
    """Eye-opening loop for side "right" or "left"."""
    upper, lower = (EYE_R_UPPER, EYE_R_LOWER) if side == "right" else (EYE_L_UPPER, EYE_L_LOWER)
    return upper + tuple(reversed(lower[1:-1]))


def points_in_polygon(points: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Even-odd test: points (N, 2), polygon (V, 2) closed implicitly -> (N,) bool."""
    x, y = points[:, 0:1], points[:, 1:2]
    x0, y0 = polygon[:, 0][None], polygon[:, 1][None]
    x1, y1 = np.roll(polygon[:, 0], -1)[None], np.roll(polygon[:, 1], -1)[None]
    crosses = (y0 > y) != (y1 > y)
    with np.errstate(divide="ignore", invalid="ignore"):
        x_at = x0 + (y - y0) * (x1 - x0) / (y1 - y0)
    return (crosses & (x < x_at)).sum(axis=1) % 2 == 1


def region_pixels(rgb: np.ndarray, polygon: np.ndarray) -> np.ndarray:
    """Pixels (N, 3) of rgb inside a polygon (V, 2)."""
    x0, y0 = np.floor(polygon.min(0)).astype(int)
    x1, y1 = np.ceil(polygon.max(0)).astype(int) + 1
    x0, y0 = max(x0, 0), max(y0, 0)
    x1, y1 = min(x1, rgb.shape[1]), min(y1, rgb.shape[0])
    yy, xx = np.mgrid[y0:y1, x0:x1]
    pts = np.stack([xx.ravel(), yy.ravel()], 1).astype(np.float64)
    inside = points_in_polygon(pts, polygon)
    return rgb[y0:y1, x0:x1].reshape(-1, 3)[inside].astype(np.float64)
