"""Linear blend shapes of the rig: per-vertex (du, dv) in IOD for a channel at value 1.

Coordinates are the face frame: u along the eye line (image right), v perpendicular to it
(down), origin between the eyes, unit = inter-ocular distance (IOD). Amplitudes come from the
motion stage's `geometry.py`, so "brow_raise = 1" means the same on both sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vitaphone.core.motion import geometry as geo
from vitaphone.core.render import regions as rg

SHAPE_NAMES = (
    "spread_wide",
    "spread_narrow",
    "round",
    "tuck",
    "upper_raise",
    "lip_part",
    "corner_up",
    "corner_down",
    "corner_asym",
    "brow_up",
    "brow_down",
    "brow_inner",
    "brow_furrow",
    "wide_r",
    "wide_l",
    "squint_r",
    "squint_l",
    "cheek",
    "nose_wrinkle",
    "blink_r",
    "blink_l",
)
# Lips part by their own muscles before the jaw does much (small openings), ~4.5 mm on an
# adult face. 0.045 left a schwa's gap so thin that dlib read it as closed; 0.07, on the
# 72-clip judge: lip-sync r0 mean 0.522 -> 0.530 (>= 0.5 on 61 -> 60 clips), identity max
# <= 0.35 on 65 -> 67, bilabials closed 72/72 either way; 0.09 was no better (8 clips).
LIP_PART_IOD = 0.07


@dataclass(frozen=True)
class FaceGeometry:
    """uv: (468, 2) vertex positions in the face frame (IOD units), plus the lip layout."""

    uv: np.ndarray
    mouth_centre: np.ndarray  # (2,)
    mouth_half_width: float
    upper: np.ndarray  # (468,) 0..1, membership of the upper-lip side (with falloff)
    lower: np.ndarray  # (468,) 0..1, lower-lip side


def _ss(x: np.ndarray) -> np.ndarray:
    """Smoothstep on [0, 1]."""
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def _gauss(uv: np.ndarray, centre: np.ndarray, radius: float) -> np.ndarray:
    return np.exp(-(((uv - centre) ** 2).sum(-1)) / radius**2)


def _curve_at(uv: np.ndarray, contour: tuple[int, ...], u: np.ndarray) -> np.ndarray:
    """v of a contour (indices) linearly interpolated at u (extrapolated flat)."""
    pts = uv[list(contour)]
    order = np.argsort(pts[:, 0])
    return np.interp(u, pts[order, 0], pts[order, 1])


def face_geometry(uv: np.ndarray) -> FaceGeometry:
    corners = uv[list(rg.MOUTH_CORNERS)]
    centre = (uv[13] + uv[14]) / 2
    half_w = float(np.linalg.norm(corners[1] - corners[0]) / 2)
    u, v = uv[:, 0], uv[:, 1]
    lateral = np.clip((np.abs(u - centre[0]) - half_w) / (0.5 * half_w), 0, None)
    side_fall = np.exp(-(lateral**2))
    top = _curve_at(uv, rg.LIP_OUTER_UPPER, u)
    bottom = _curve_at(uv, rg.LIP_OUTER_LOWER, u)
    mouth_line = _curve_at(uv, rg.MOUTH_CORNERS, u)
    upper_body = set(
        rg.LIP_OUTER_UPPER + rg.LIP_RING2_UPPER + rg.LIP_MID_UPPER + rg.LIP_INNER_UPPER
    )
    lower_body = set(
        rg.LIP_OUTER_LOWER + rg.LIP_RING2_LOWER + rg.LIP_MID_LOWER + rg.LIP_INNER_LOWER
    )
    above = v < mouth_line
    upper = np.where(above, np.exp(-((np.clip(top - v, 0, None) / 0.12) ** 2)), 0.0) * side_fall
    lower = np.where(~above, np.exp(-((np.clip(v - bottom, 0, None) / 0.22) ** 2)), 0.0) * side_fall
    for i in upper_body:
        upper[i], lower[i] = 1.0, 0.0
    for i in lower_body:
        upper[i], lower[i] = 0.0, 1.0
    for i in rg.MOUTH_CORNERS + rg.MOUTH_CORNERS_INNER + (62, 292, 76, 306):
        upper[i], lower[i] = 0.5, 0.5
    return FaceGeometry(uv, centre, half_w, upper, lower)


def _mouth_scale(g: FaceGeometry, width_change_iod: float) -> np.ndarray:
    """Horizontal scaling of the mouth about its centre: corners move by width_change/2 each."""
    rel = (g.uv[:, 0] - g.mouth_centre[0]) / g.mouth_half_width
    near = np.exp(-(((g.uv[:, 1] - g.mouth_centre[1]) / 0.35) ** 2)) * np.exp(
        -((np.clip(np.abs(rel) - 1, 0, None) / 0.6) ** 2)
    )
    out = np.zeros_like(g.uv)
    out[:, 0] = 0.5 * width_change_iod * np.clip(rel, -1.3, 1.3) * near
    return out


def _corner_weights(g: FaceGeometry, radius: float = 0.22) -> tuple[np.ndarray, np.ndarray]:
    right = _gauss(g.uv, g.uv[rg.MOUTH_CORNERS[0]], radius)
    left = _gauss(g.uv, g.uv[rg.MOUTH_CORNERS[1]], radius)
    return right, left


def _ring_factor(
    inner: float, mid: float, ring2: float, outer: float, lower: bool
) -> dict[int, float]:
    groups = (
        (rg.LIP_INNER_LOWER, rg.LIP_MID_LOWER, rg.LIP_RING2_LOWER, rg.LIP_OUTER_LOWER)
        if lower
        else (
            rg.LIP_INNER_UPPER,
            rg.LIP_MID_UPPER,
            rg.LIP_RING2_UPPER,
            rg.LIP_OUTER_UPPER,
        )
    )
    out: dict[int, float] = {}
    for grp, f in zip(groups, (inner, mid, ring2, outer)):
        for i in grp[1:-1]:
            out[i] = f
    return out


def _lip_shape(
    g: FaceGeometry, dv_upper: float, dv_lower: float, rings_u=None, rings_l=None
) -> np.ndarray:
    """Vertical lip motion: upper side by dv_upper, lower by dv_lower (IOD, + down), fading
    towards the corners; rings_* optionally scale individual lip rings (thinning, rolling)."""
    rel = np.abs(g.uv[:, 0] - g.mouth_centre[0]) / g.mouth_half_width
    bow = 0.25 + 0.75 * (1 - _ss(rel))
    out = np.zeros_like(g.uv)
    fu, fl = g.upper.copy(), g.lower.copy()
    for i, f in (rings_u or {}).items():
        fu[i] *= f
    for i, f in (rings_l or {}).items():
        fl[i] *= f
    out[:, 1] = (dv_upper * fu + dv_lower * fl) * bow
    return out


def _brow_weights(g: FaceGeometry, inner_only: bool) -> np.ndarray:
    """Brow region: 1 on the brows, fading up the forehead and down to the upper lid."""
    uv = g.uv
    w = np.zeros(len(uv))
    for brow in (rg.BROW_R, rg.BROW_L):
        b = uv[list(brow)]
        bv = _curve_at(uv, brow, uv[:, 0])
        lid = -0.06  # upper lid sits just above the eye line
        vert = np.where(
            uv[:, 1] < bv,
            np.exp(-(((bv - uv[:, 1]) / 0.55) ** 2)),
            np.clip((lid - uv[:, 1]) / np.maximum(lid - bv, 1e-3), 0.12, 1.0),
        )
        vert = np.where(uv[:, 1] > lid + 0.02, 0.0, vert)
        lo, hi = b[:, 0].min(), b[:, 0].max()
        horiz = np.exp(-((np.clip(np.maximum(lo - uv[:, 0], uv[:, 0] - hi), 0, None) / 0.2) ** 2))
        if inner_only:
            inner_u = b[np.argmin(np.abs(b[:, 0])), 0]
            horiz = horiz * np.exp(-(((uv[:, 0] - inner_u) / 0.28) ** 2))
        w = np.maximum(w, vert * horiz)
    return w


# How far above the upper lid a blink still pulls skin down (IOD): the lid skin below the
# crease. 0.16 dragged the brows down on every blink (dlib identity distance on a closed eye
# 0.16-0.32; with 0.07, 0.14-0.30).
LID_SKIN_FALLOFF = 0.07


def _eye_shapes(
    g: FaceGeometry, upper: tuple[int, ...], lower: tuple[int, ...]
) -> dict[str, np.ndarray]:
    """Per-eye shapes: blink (upper lid down to the lower lid), widen, squint."""
    uv = g.uv
    up_v = _curve_at(uv, upper, uv[:, 0])
    lo_v = _curve_at(uv, lower, uv[:, 0])
    pts = uv[list(upper + lower)]
    lo_u, hi_u = pts[:, 0].min(), pts[:, 0].max()
    half = (hi_u - lo_u) / 2
    mid_u = (hi_u + lo_u) / 2
    along = np.clip(1 - np.abs(uv[:, 0] - mid_u) / half, 0, 1)  # 1 mid-eye, 0 at the corners
    horiz = np.exp(-((np.clip(np.abs(uv[:, 0] - mid_u) - half, 0, None) / 0.12) ** 2))
    gap = np.clip(lo_v - up_v, 0, None)
    above = np.clip(up_v - uv[:, 1], 0, None)
    up_fall = np.where(uv[:, 1] <= up_v + 1e-6, np.exp(-((above / LID_SKIN_FALLOFF) ** 2)), 0.0) * horiz
    below = np.clip(uv[:, 1] - lo_v, 0, None)
    lo_fall = np.where(uv[:, 1] >= lo_v - 1e-6, np.exp(-((below / 0.10) ** 2)), 0.0) * horiz
    for i in upper[1:-1]:
        up_fall[i], lo_fall[i] = 1.0, 0.0
    for i in lower[1:-1]:
        up_fall[i], lo_fall[i] = 0.0, 1.0
    for i in (upper[0], upper[-1]):
        up_fall[i] = lo_fall[i] = 0.0
    aperture = geo.EYE_OPEN_FRACTION * np.maximum(gap, 0.02)
    blink = np.zeros_like(uv)
    # The lids meet exactly (no overshoot: that would fold the warp); eyes.py covers the
    # sliver the smoothed field leaves.
    blink[:, 1] = 0.86 * gap * up_fall - 0.14 * gap * lo_fall
    wide = np.zeros_like(uv)
    wide[:, 1] = (-0.8 * up_fall + 0.2 * lo_fall) * aperture * np.sqrt(along)
    squint = np.zeros_like(uv)
    squint[:, 1] = (0.45 * up_fall - 0.55 * lo_fall) * aperture * np.sqrt(along)
    return {"blink": blink, "wide": wide, "squint": squint}


def build_shapes(uv: np.ndarray) -> tuple[np.ndarray, FaceGeometry]:
    """All linear shapes, (len(SHAPE_NAMES), 468, 2) float32 in IOD (du, dv; v down)."""
    g = face_geometry(uv)
    s: dict[str, np.ndarray] = {}
    s["spread_wide"] = _mouth_scale(g, geo.LIP_SPREAD_IOD) + _lip_shape(g, 0.01, -0.01)
    s["spread_narrow"] = _mouth_scale(g, -geo.LIP_SPREAD_IOD * 0.8) + _lip_shape(g, -0.01, 0.01)
    # Rounding protrudes the lips; seen from the front they pout: the vermilion everts, so the
    # outer contours move out (taller lips) more than the inner ones (a smaller, rounder opening).
    s["round"] = _mouth_scale(g, -geo.LIP_ROUND_WIDTH_IOD) + _lip_shape(
        g,
        -0.03,
        0.035,
        _ring_factor(0.35, 0.7, 1.0, 1.2, False),
        _ring_factor(0.35, 0.7, 1.0, 1.2, True),
    )
    s["tuck"] = _lip_shape(
        g,
        -0.015,
        -geo.LOWER_LIP_TUCK_IOD,
        None,
        _ring_factor(1.0, 0.9, 0.7, 0.45, True),
    )
    s["upper_raise"] = _lip_shape(
        g, -geo.UPPER_LIP_RAISE_IOD, 0.0, _ring_factor(1.0, 0.95, 0.85, 0.7, False)
    )
    s["upper_raise"] += np.where(np.isin(np.arange(468), rg.NOSE_WINGS), 1.0, 0.0)[:, None] * [
        0,
        -0.015,
    ]
    s["lip_part"] = _lip_shape(
        g,
        -0.25 * LIP_PART_IOD,
        0.75 * LIP_PART_IOD,
        _ring_factor(1.0, 0.8, 0.5, 0.3, False),
        _ring_factor(1.0, 0.8, 0.6, 0.4, True),
    )
    right, left = _corner_weights(g)
    c = geo.MOUTH_CORNER_IOD
    s["corner_up"] = np.stack([0.5 * c * (left - right), -c * (left + right)], 1)
    s["corner_down"] = np.stack([0.15 * c * (left - right), c * (left + right)], 1)
    a = geo.MOUTH_CORNER_ASYM_IOD / 2
    s["corner_asym"] = np.stack([0.4 * a * (left + right), -a * (left - right)], 1)
    brow = _brow_weights(g, inner_only=False)
    inner = _brow_weights(g, inner_only=True)
    s["brow_up"] = np.stack([np.zeros(468), -geo.BROW_RAISE_IOD * brow], 1)
    s["brow_down"] = np.stack([np.zeros(468), geo.BROW_RAISE_IOD * brow], 1)
    s["brow_inner"] = np.stack([np.zeros(468), -geo.BROW_INNER_RAISE_IOD * inner], 1)
    f = geo.BROW_FURROW_IOD
    s["brow_furrow"] = np.stack([-f * np.sign(g.uv[:, 0]) * inner, f * inner], 1)
    eye_r = _eye_shapes(g, rg.EYE_R_UPPER, rg.EYE_R_LOWER)
    eye_l = _eye_shapes(g, rg.EYE_L_UPPER, rg.EYE_L_LOWER)
    s["wide_r"], s["wide_l"] = eye_r["wide"], eye_l["wide"]
    s["squint_r"], s["squint_l"] = eye_r["squint"], eye_l["squint"]
    s["blink_r"], s["blink_l"] = eye_r["blink"], eye_l["blink"]
    cheeks = np.zeros(468)
    for grp in (rg.CHEEK_R, rg.CHEEK_L):
        cheeks = np.maximum(cheeks, _gauss(g.uv, g.uv[list(grp)].mean(0), 0.38))
    s["cheek"] = np.stack([np.zeros(468), -geo.CHEEK_RAISE_IOD * cheeks], 1)
    s["cheek"] += 0.4 * (eye_r["squint"] + eye_l["squint"]) * (eye_r["squint"][:, 1:] < 0)
    nose = np.zeros(468)
    for i in rg.NOSE_WINGS:
        nose = np.maximum(nose, _gauss(g.uv, g.uv[i], 0.12))
    for i in rg.NOSE_BRIDGE:
        nose = np.maximum(nose, 0.35 * _gauss(g.uv, g.uv[i], 0.1))
    s["nose_wrinkle"] = np.stack([np.zeros(468), -geo.NOSE_WRINKLE_IOD * nose], 1)
    s["nose_wrinkle"] += 0.3 * s["upper_raise"] + np.stack([np.zeros(468), 0.02 * inner], 1)
    return np.stack([s[n] for n in SHAPE_NAMES]).astype(np.float32), g
