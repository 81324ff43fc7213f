"""Expression measurements on one 468-point mesh, in the face's own units.

Every length is divided by the inter-ocular distance (IOD: between the two eye-contour
centres, ~63 mm on an adult) and measured in the head's own 3D frame (see face_frame_points),
so numbers compare across people, image sizes and head poses. Signs: positive
means "raised / wider / more open". The same definitions calibrate emotions on real footage
(bench/emotion_calibration.py) and can check rendered frames.
"""

from __future__ import annotations

import math

import numpy as np

from vitaphone.core.face import landmarks as L

FEATURES: tuple[str, ...] = (
    "brow_height",  # brow contour above the eye-corner line (both brows)
    "inner_brow_height",  # inner brow ends above the inner eye corners
    "outer_brow_height",  # outer brow ends above the outer eye corners
    "brow_gap",  # distance between the inner brow ends (furrow makes it smaller)
    "eye_opening",  # lid-to-lid distance at the eye's middle (both eyes)
    "eye_opening_ratio",  # the same divided by the eye's own width (corner to corner)
    "mouth_corner_height",  # corners lifted toward the subnasale (a rigid point): lift > 0
    "mouth_corner_vs_lip_centre",  # corners above the lip centre (mid of inner lips 13/14);
    # opening the jaw lowers that centre, so this reads "up" while talking
    "mouth_corner_asym",  # subject's left corner lift minus right corner lift (contempt)
    "mouth_width",  # corner to corner
    "lip_gap",  # inner lip opening at the midline
    "upper_lip_raise",  # upper lip top toward the nose (minus the subnasale-to-lip distance)
    "nose_wrinkle",  # nose wings toward the inner eye corners (minus that distance)
    "cheek_raise",  # cheek centres toward the eye-corner line (minus that distance)
    "jaw_drop",  # chin below the subnasale
)


def face_frame_points(landmarks: np.ndarray) -> tuple[np.ndarray, float]:
    """(468, 3) points in the head's own frame, in IOD units, and the IOD in pixels.

    The frame is built from points that do not move with expression or speech: x along the
    eye centres (subject's right -> left), y from the brow-less nose bridge (168) down to the
    subnasale (2), z the cross product (away from the viewer). Turning the mesh into that frame
    undoes the head's yaw, pitch and roll using the mesh's own depth, so a nod does not read as
    a change of brow height. Origin at the eye midpoint; y grows downward.
    """
    pts = landmarks.astype(np.float64)
    right = pts[list(L.RIGHT_EYE_RING)].mean(axis=0)
    left = pts[list(L.LEFT_EYE_RING)].mean(axis=0)
    ex = left - right
    iod = float(np.linalg.norm(ex))
    ex /= iod
    down = pts[2] - pts[168]
    ey = down - ex * float(down @ ex)
    ey /= np.linalg.norm(ey)
    rot = np.stack([ex, ey, np.cross(ex, ey)])
    return ((pts - (left + right) / 2) @ rot.T) / iod, iod


def expression_features(landmarks: np.ndarray) -> dict[str, float]:
    """The FEATURES of one mesh (468, 3), in IOD units (eye_opening_ratio: eye widths)."""
    p, _ = face_frame_points(landmarks)
    p = p[:, :2]  # lengths are measured in the face plane
    y = p[:, 1]

    def mean_y(idx: tuple[int, ...] | list[int]) -> float:
        return float(y[list(idx)].mean())

    def dist(a: int, b: int) -> float:
        return float(np.hypot(*(p[a] - p[b])))

    corners_y = mean_y((L.RIGHT_EYE_OUTER, L.RIGHT_EYE_INNER, L.LEFT_EYE_INNER, L.LEFT_EYE_OUTER))
    brow_y = mean_y(L.RIGHT_BROW_UPPER + L.RIGHT_BROW_LOWER + L.LEFT_BROW_UPPER + L.LEFT_BROW_LOWER)
    inner_brow = mean_y(L.RIGHT_BROW_INNER + L.LEFT_BROW_INNER)
    outer_brow = mean_y(L.RIGHT_BROW_OUTER + L.LEFT_BROW_OUTER)
    inner_eye = mean_y((L.RIGHT_EYE_INNER, L.LEFT_EYE_INNER))
    outer_eye = mean_y((L.RIGHT_EYE_OUTER, L.LEFT_EYE_OUTER))
    lids = []
    for upper, lower in (((160, 159, 158), (144, 145, 153)), ((385, 386, 387), (380, 374, 373))):
        lids.append(mean_y(lower) - mean_y(upper))
    eye_widths = [dist(L.RIGHT_EYE_OUTER, L.RIGHT_EYE_INNER), dist(L.LEFT_EYE_OUTER, L.LEFT_EYE_INNER)]
    lip_centre = mean_y((L.UPPER_LIP_BOTTOM, L.LOWER_LIP_TOP))
    subnasale = float(y[2])
    right_lift = subnasale - float(y[L.MOUTH_CORNER_RIGHT])
    left_lift = subnasale - float(y[L.MOUTH_CORNER_LEFT])
    cheeks = mean_y((L.CHEEK_RIGHT, L.CHEEK_LEFT))
    wing_to_eye = (dist(L.NOSE_WING_RIGHT, L.RIGHT_EYE_INNER) + dist(L.NOSE_WING_LEFT, L.LEFT_EYE_INNER)) / 2
    return {
        "brow_height": corners_y - brow_y,
        "inner_brow_height": inner_eye - inner_brow,
        "outer_brow_height": outer_eye - outer_brow,
        "brow_gap": dist(55, 285),
        "eye_opening": float(np.mean(lids)),
        "eye_opening_ratio": float(np.mean([l / w for l, w in zip(lids, eye_widths)])),
        "mouth_corner_height": (right_lift + left_lift) / 2,
        "mouth_corner_vs_lip_centre": lip_centre - mean_y((L.MOUTH_CORNER_RIGHT, L.MOUTH_CORNER_LEFT)),
        "mouth_corner_asym": left_lift - right_lift,
        "mouth_width": dist(L.MOUTH_CORNER_RIGHT, L.MOUTH_CORNER_LEFT),
        "lip_gap": max(0.0, float(y[L.LOWER_LIP_TOP] - y[L.UPPER_LIP_BOTTOM])),
        "upper_lip_raise": -(float(y[L.UPPER_LIP_TOP]) - subnasale),
        "nose_wrinkle": -wing_to_eye,
        "cheek_raise": -(cheeks - corners_y),
        "jaw_drop": float(y[L.CHIN]) - subnasale,
    }


SYMMETRIC_WITHIN_IOD = 0.002  # corner lifts closer than this are the mesh's noise, not the face


def smirk_side(landmarks: np.ndarray, yaw_deg: float) -> int:
    """Which corner a one-sided expression (contempt) should lift: +1 the subject's left, -1
    the right. The corner this face already holds higher, however slightly: a smirk against the
    sitter's own asymmetry first evens the mouth out and reads as no expression at all (dlib
    reads the same side on 7 of our 9 portraits, the other two within 0.002 IOD of level). On a
    level mouth, the corner nearer the camera (yaw + = turned to the subject's left, showing
    the right cheek), whose lift a viewer sees at full size."""
    asym = expression_features(landmarks)["mouth_corner_asym"]
    if abs(asym) >= SYMMETRIC_WITHIN_IOD:
        return 1 if asym > 0 else -1
    return -1 if yaw_deg > 0 else 1


# The portrait's own smile, against a neutral mouth. "mouth_corner_vs_lip_centre" is nearly free
# of anatomy (corner height from the subnasale is not: upper lips differ in length): the nine
# neutral-faced shared portraits read 0.003-0.037 IOD (median 0.020, the Mona Lisa 0.020), a
# MEAD actor smiling broadly with teeth 0.149, MEAD's happy clips +0.050 over neutral. Parted
# lips lower the lip centre faster than the corners, so a share of the gap is taken off.
NEUTRAL_CORNER_VS_LIP_CENTRE_IOD = 0.020
NEUTRAL_SPREAD_IOD = 0.017  # half the neutral portraits' range: within it a mouth reads neutral
GAP_SHARE = 0.15  # corner-vs-centre rise per IOD of lip gap on a mouth that only opens


def smile_iod(landmarks: np.ndarray) -> float:
    """How far this face's mouth corners sit above a neutral mouth's, in IOD: + smiling,
    - turned down, 0 within the spread of neutral faces (MotionOptions.own_expression)."""
    f = expression_features(landmarks)
    excess = (f["mouth_corner_vs_lip_centre"] - NEUTRAL_CORNER_VS_LIP_CENTRE_IOD
              - GAP_SHARE * f["lip_gap"])
    return float(np.sign(excess) * max(0.0, abs(excess) - NEUTRAL_SPREAD_IOD))
