"""Named index groups of MediaPipe's 468-point face-mesh topology.

Sources: the connection lists of MediaPipe's `face_mesh_connections.py` (Apache-2.0):
FACEMESH_LIPS, FACEMESH_LEFT_EYE, FACEMESH_RIGHT_EYE, FACEMESH_LEFT_EYEBROW,
FACEMESH_RIGHT_EYEBROW, FACEMESH_FACE_OVAL and FACEMESH_NOSE, written here as ordered
contours. Single points (nose tip 1, chin 152, forehead 10, cheeks 50/280 ...) follow
MediaPipe's canonical face model (`canonical_face_model_uv_visualization.png`).

"right" / "left" are the SUBJECT's: the right eye is on the image's left in a frontal photo.
Every contour runs from the image-left end to the image-right end (lips, lids, brows) or
clockwise from the top of the forehead (face oval). Checked by drawing them on the portraits.
"""

from __future__ import annotations

import numpy as np

# --- lips (FACEMESH_LIPS) -------------------------------------------------------------------
LIPS_OUTER_UPPER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_OUTER_LOWER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
LIPS_INNER_UPPER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_INNER_LOWER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
MOUTH_CORNER_RIGHT, MOUTH_CORNER_LEFT = 61, 291  # outer lip corners
MOUTH_INNER_CORNER_RIGHT, MOUTH_INNER_CORNER_LEFT = 78, 308
UPPER_LIP_TOP, UPPER_LIP_BOTTOM = 0, 13  # midline: outer top of upper lip, inner edge
LOWER_LIP_TOP, LOWER_LIP_BOTTOM = 14, 17  # midline: inner edge, outer bottom of lower lip

# --- eyes (FACEMESH_RIGHT_EYE / FACEMESH_LEFT_EYE) ------------------------------------------
RIGHT_EYE_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
RIGHT_EYE_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)
LEFT_EYE_UPPER = (362, 398, 384, 385, 386, 387, 388, 466, 263)
LEFT_EYE_LOWER = (362, 382, 381, 380, 374, 373, 390, 249, 263)
RIGHT_EYE_OUTER, RIGHT_EYE_INNER = 33, 133
LEFT_EYE_INNER, LEFT_EYE_OUTER = 362, 263
RIGHT_EYE_TOP, RIGHT_EYE_BOTTOM = 159, 145  # lid midpoints
LEFT_EYE_TOP, LEFT_EYE_BOTTOM = 386, 374
# The 468-point model has no iris points; the eye contour's centroid approximates the iris
# centre of an eye looking ahead (see iris_centers).
RIGHT_EYE_RING = RIGHT_EYE_UPPER + RIGHT_EYE_LOWER[1:-1]
LEFT_EYE_RING = LEFT_EYE_UPPER + LEFT_EYE_LOWER[1:-1]

# --- brows (FACEMESH_RIGHT_EYEBROW / FACEMESH_LEFT_EYEBROW), outer -> inner on the right,
# inner -> outer on the left, i.e. image left to right ----------------------------------------
RIGHT_BROW_UPPER = (70, 63, 105, 66, 107)
RIGHT_BROW_LOWER = (46, 53, 52, 65, 55)
LEFT_BROW_UPPER = (336, 296, 334, 293, 300)
LEFT_BROW_LOWER = (285, 295, 282, 283, 276)
RIGHT_BROW_INNER, RIGHT_BROW_OUTER = (107, 55), (70, 46)
LEFT_BROW_INNER, LEFT_BROW_OUTER = (336, 285), (300, 276)

# --- nose (FACEMESH_NOSE) -------------------------------------------------------------------
NOSE_BRIDGE = (168, 6, 197, 195, 5, 4)  # between the eyes down to just above the tip
NOSE_TIP = 1
NOSE_BOTTOM = (98, 97, 2, 326, 327)  # under the nose: right ala, subnasale 2, left ala
NOSE_ALAR_RIGHT = (64, 48, 115, 220, 45)  # outer edge of the right nostril wing, up to 4
NOSE_ALAR_LEFT = (294, 278, 344, 440, 275)
NOSE_WING_RIGHT, NOSE_WING_LEFT = 64, 294

# --- face outline (FACEMESH_FACE_OVAL), clockwise in the image from the forehead top ---------
FACE_OVAL = (
    10, 338, 297, 332, 284, 251, 389, 356, 454, 323, 361, 288, 397, 365, 379, 378, 400, 377,
    152, 148, 176, 149, 150, 136, 172, 58, 132, 93, 234, 127, 162, 21, 54, 103, 67, 109,
)
# The jaw line: from the right cheek edge (image left, near the ear) under the chin to the left.
JAW_LINE = (
    234, 93, 132, 58, 172, 136, 150, 149, 176, 148, 152, 377, 400, 378, 379, 365, 397, 288,
    361, 323, 454,
)
CHIN = 152  # lowest midline point
CHIN_MIDLINE = (17, 18, 200, 199, 175, 152)  # lower lip bottom down to the chin
FOREHEAD_TOP = 10
FOREHEAD_MIDLINE = (10, 151, 9, 8, 168)
FOREHEAD = (10, 338, 297, 109, 67, 151, 108, 69, 337, 299, 9, 107, 336)
FACE_SIDE_RIGHT, FACE_SIDE_LEFT = 234, 454  # widest points of the oval, near the ears

# --- cheeks ----------------------------------------------------------------------------------
CHEEK_RIGHT, CHEEK_LEFT = 50, 280  # centre of the cheek below the eye
CHEEK_RIGHT_AREA = (50, 101, 36, 205, 187, 123, 117, 118, 119, 100, 142, 207)
CHEEK_LEFT_AREA = (280, 330, 266, 425, 411, 352, 346, 347, 348, 329, 371, 427)
CHEEKBONE_RIGHT, CHEEKBONE_LEFT = 116, 345

#: Every named group, for drawing, tests and callers that look groups up by name.
GROUPS: dict[str, tuple[int, ...]] = {
    "lips_outer_upper": LIPS_OUTER_UPPER,
    "lips_outer_lower": LIPS_OUTER_LOWER,
    "lips_inner_upper": LIPS_INNER_UPPER,
    "lips_inner_lower": LIPS_INNER_LOWER,
    "right_eye_upper": RIGHT_EYE_UPPER,
    "right_eye_lower": RIGHT_EYE_LOWER,
    "left_eye_upper": LEFT_EYE_UPPER,
    "left_eye_lower": LEFT_EYE_LOWER,
    "right_brow_upper": RIGHT_BROW_UPPER,
    "right_brow_lower": RIGHT_BROW_LOWER,
    "left_brow_upper": LEFT_BROW_UPPER,
    "left_brow_lower": LEFT_BROW_LOWER,
    "nose_bridge": NOSE_BRIDGE,
    "nose_bottom": NOSE_BOTTOM,
    "nose_alar_right": NOSE_ALAR_RIGHT,
    "nose_alar_left": NOSE_ALAR_LEFT,
    "face_oval": FACE_OVAL,
    "jaw_line": JAW_LINE,
    "chin_midline": CHIN_MIDLINE,
    "forehead_midline": FOREHEAD_MIDLINE,
    "forehead": FOREHEAD,
    "cheek_right": CHEEK_RIGHT_AREA,
    "cheek_left": CHEEK_LEFT_AREA,
}


def iris_centers(landmarks: np.ndarray) -> np.ndarray:
    """Approximate iris centres (2, 2): [subject's right eye, left eye], x y in image pixels."""
    xy = landmarks[:, :2]
    return np.stack([xy[list(RIGHT_EYE_RING)].mean(axis=0), xy[list(LEFT_EYE_RING)].mean(axis=0)])


def interocular_px(landmarks: np.ndarray) -> float:
    """Distance between the two iris-centre approximations, in image pixels: the face's own
    length unit (about 63 mm on an adult)."""
    right, left = iris_centers(landmarks)
    return float(np.linalg.norm(left - right))
