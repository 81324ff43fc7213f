"""The rig: MotionTrack channel values -> 2D displacements of the warp's control points.

Per frame, in this order: linear blend shapes (lips, corners, brows, eyes, cheeks, nose), the
jaw as a rotation of the lower face about a pivot near the ears (the chin keeps its length and
swings down and slightly back), the lip-closure correction (bilabials close the inner-lip gap
whatever the jaw does; f/v bring the lower lip to the upper teeth), then the head as a rigid
3D rotation about a pivot at the neck, using the mesh depth, fading out into hair and neck.
All of it is batched tensor math over frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import torch

from vitaphone.core.motion import geometry as geo
from vitaphone.core.motion.types import CHANNELS
from vitaphone.core.render import regions as rg
from vitaphone.core.render.controls import N_MESH, ControlPoints
from vitaphone.core.render.shapes import (
    LIP_PART_IOD,
    SHAPE_NAMES,
    FaceGeometry,
    build_shapes,
)

JAW_PIVOT_BELOW_EYES_IOD = 0.5  # the jaw hinge sits a little below the eye line, by the ears
LIP_PART_FULL_AT = 0.18  # jaw_open at which the lips' own parting is complete
TUCK_GAP_IOD = 0.03  # inner-lip gap left when the lower lip is under the upper teeth
CLOSE_SHARE_UPPER = 0.35  # share of a bilabial closure done by the upper lip
# Lips parted at rest (a toothy smile): this share of the rest gap above CLOSED_REST_IOD is
# closed by raising the jaw, the rest by the lips. Stretching the lips alone over the whole gap
# made them twice as thick, and the face mesh read the stretched lips as a parted mouth.
JAW_CLOSE_SHARE = 1.0
CLOSED_REST_IOD = 0.03


@dataclass(frozen=True)
class FaceFrame:
    """origin (2,) between the eye centres, ex (2,) along the eye line, ey (2,) down, in px."""

    origin: np.ndarray
    ex: np.ndarray
    ey: np.ndarray
    iod_px: float

    @staticmethod
    def from_landmarks(xy: np.ndarray) -> FaceFrame:
        right, left = rg.eye_centres(xy)
        ex = (left - right) / np.linalg.norm(left - right)
        return FaceFrame(
            (right + left) / 2,
            ex,
            np.array([-ex[1], ex[0]]),
            float(np.linalg.norm(left - right)),
        )

    def to_uv(self, xy: np.ndarray) -> np.ndarray:
        rel = xy - self.origin
        return np.stack([rel @ self.ex, rel @ self.ey], -1) / self.iod_px


def _rotation(pitch: torch.Tensor, yaw: torch.Tensor, roll: torch.Tensor) -> torch.Tensor:
    """(T,) radians -> (T, 3, 3) = R_roll @ R_yaw @ R_pitch in image axes (x right, y down,
    z away): +pitch moves the front down, +yaw moves it to image right, +roll is clockwise."""
    cp, sp, cy, sy, cr, sr = (
        pitch.cos(),
        pitch.sin(),
        yaw.cos(),
        yaw.sin(),
        roll.cos(),
        roll.sin(),
    )
    one, zero = torch.ones_like(pitch), torch.zeros_like(pitch)
    rx = torch.stack([one, zero, zero, zero, cp, -sp, zero, sp, cp], -1).view(-1, 3, 3)
    ry = torch.stack([cy, zero, -sy, zero, one, zero, sy, zero, cy], -1).view(-1, 3, 3)
    rz = torch.stack([cr, -sr, zero, sr, cr, zero, zero, zero, one], -1).view(-1, 3, 3)
    return rz @ ry @ rx


def _head_depth(controls: ControlPoints, yaw_deg: float) -> np.ndarray:
    """Depth used for the head rotation (K,): a plane fitted to the mesh plus the mesh's relief,
    the relief damped on turned faces. Their far cheek is squeezed against the silhouette, and
    full parallax there would stretch background into the face (nothing behind it to reveal)."""
    xy, z = controls.xy.astype(np.float64), controls.z.astype(np.float64)
    design = np.c_[xy[:N_MESH], np.ones(N_MESH)]
    coef, *_ = np.linalg.lstsq(design, z[:N_MESH], rcond=None)
    plane = np.c_[xy, np.ones(len(xy))] @ coef
    relief = float(np.clip(1.0 - abs(yaw_deg) / 40.0, 0.3, 1.0))
    return plane + relief * (z - plane)


class Rig:
    """Built once per portrait from the control points (crop pixels); `displace` per batch."""

    def __init__(self, controls: ControlPoints, device: torch.device, yaw_deg: float = 0.0) -> None:
        mesh_xy = controls.xy[:N_MESH].astype(np.float64)
        self.frame = FaceFrame.from_landmarks(mesh_xy)
        iod = self.frame.iod_px
        uv = self.frame.to_uv(mesh_xy)
        shapes, self.geometry = build_shapes(uv)
        basis = np.stack([self.frame.ex, self.frame.ey])  # (2, 2): uv -> xy
        self.device = device
        t = lambda a: torch.as_tensor(np.asarray(a, dtype=np.float32), device=device)
        self.shapes_px = t((shapes @ basis) * iod).reshape(len(SHAPE_NAMES), -1)  # (S, 468*2)
        self.frame_basis = t(basis)
        self.iod = iod
        z = controls.z.astype(np.float64)
        self.points = t(
            np.concatenate([controls.xy, _head_depth(controls, yaw_deg)[:, None]], 1)
        )  # (K, 3)
        self.head_weight = t(controls.head_weight)
        self.jaw_follow = t(controls.jaw_follow)
        self._setup_jaw(uv, z[:N_MESH], self.geometry)
        self._setup_lip_pairs(uv, self.geometry)
        oval_z = z[list(rg.FACE_OVAL)]
        head_pivot_xy = self.frame.origin + self.frame.ey * 1.3 * iod
        self.head_pivot = t([*head_pivot_xy, oval_z.mean() + 0.2 * iod])

    # --- set-up -------------------------------------------------------------------------------
    def _setup_jaw(self, uv: np.ndarray, z: np.ndarray, g: FaceGeometry) -> None:
        """Per-vertex jaw weights and the hinge; max angle so the lower lip drops JAW_OPEN_IOD."""
        mouth_v = np.interp(uv[:, 0], *zip(*sorted(uv[list(rg.MOUTH_CORNERS)].tolist())))
        rel = uv[:, 1] - mouth_v
        ramp = np.where(
            rel < 0,
            0.45 * np.clip(1 + rel / 0.3, 0, 1) ** 2,
            0.45 + 0.55 * np.clip(rel / 0.3, 0, 1),
        )
        w = np.where(g.lower >= 0.999, 1.0, np.where(g.upper >= 0.999, 0.0, ramp))
        corner_near = np.maximum(
            *(np.exp(-(((uv - uv[i]) ** 2).sum(-1)) / 0.12**2) for i in rg.MOUTH_CORNERS)
        )
        w = np.where(g.upper >= 0.999, 0.45 * corner_near, w)
        w = np.where(g.lower >= 0.999, 1 - 0.55 * corner_near, w)
        for i in rg.MOUTH_CORNERS + rg.MOUTH_CORNERS_INNER:
            w[i] = 0.45
        sides = z[[234, 454]].mean()
        self.jaw_pivot_vz = np.array(
            [JAW_PIVOT_BELOW_EYES_IOD, sides / self.frame.iod_px]
        )  # (v, z) IOD
        # Angle giving the lower lip centre its geometry.py drop, net of the lips' own parting.
        p = np.array([uv[14, 1], z[14] / self.frame.iod_px]) - self.jaw_pivot_vz
        target = geo.JAW_OPEN_IOD - 0.75 * LIP_PART_IOD
        angles = np.radians(np.linspace(0, 45, 451))
        drops = p[0] * np.cos(angles) - p[1] * np.sin(angles) - p[0]
        self.jaw_max_rad = float(
            angles[np.searchsorted(drops, target)] if drops[-1] > target else angles[-1]
        )
        # Raising the jaw by this angle at lip_close = 1 closes part of a rest gap (radians).
        pairs = uv[list(rg.LIP_INNER_LOWER), 1] - uv[list(rg.LIP_INNER_UPPER), 1]
        rest_open = max(0.0, float(pairs.max()) - CLOSED_REST_IOD)
        self.jaw_close_rad = JAW_CLOSE_SHARE * rest_open * self.jaw_max_rad / max(target, 1e-6)
        self.jaw_weight = torch.as_tensor(w, dtype=torch.float32, device=self.device)
        self.jaw_vz = torch.as_tensor(
            np.stack([uv[:, 1], z / self.frame.iod_px], 1),
            dtype=torch.float32,
            device=self.device,
        )

    def _setup_lip_pairs(self, uv: np.ndarray, g: FaceGeometry) -> None:
        """Inner-lip column pairs and per-vertex interpolation of a per-column correction."""
        up = np.asarray(rg.LIP_INNER_UPPER[1:-1])
        lo = np.asarray(rg.LIP_INNER_LOWER[1:-1])
        cols_u = (uv[up, 0] + uv[lo, 0]) / 2
        knots = np.concatenate([[uv[78, 0]], cols_u, [uv[308, 0]]])
        order = np.argsort(knots)
        eye = np.eye(len(knots))
        interp = np.stack(
            [np.interp(uv[:, 0], knots[order], eye[k][order]) for k in range(len(knots))],
            1,
        )
        interp = interp[:, 1:-1]  # corner knots carry zero correction
        self.pair_up = torch.as_tensor(up, device=self.device)
        self.pair_lo = torch.as_tensor(lo, device=self.device)
        f = lambda a: torch.as_tensor(a, dtype=torch.float32, device=self.device)
        self.close_up = f(interp * g.upper[:, None])  # (468, P)
        self.close_lo = f(interp * g.lower[:, None])

    # --- per batch ----------------------------------------------------------------------------
    def coefficients(self, values: torch.Tensor) -> torch.Tensor:
        """(T, len(CHANNELS)) channel values -> (T, len(SHAPE_NAMES)) shape weights."""
        ch = {name: values[:, i] for i, name in enumerate(CHANNELS)}
        relu = torch.relu
        blink_r, blink_l = ch["blink_right"].clamp(0, 1), ch["blink_left"].clamp(0, 1)
        eye = ch["eye_open"]
        cols = {
            "spread_wide": relu(ch["lip_spread"]),
            "spread_narrow": relu(-ch["lip_spread"]),
            "round": ch["lip_round"].clamp(0, 1),
            "tuck": ch["lower_lip_tuck"].clamp(0, 1),
            "upper_raise": ch["upper_lip_raise"].clamp(0, 1),
            "lip_part": (ch["jaw_open"].clamp(0, 1) / LIP_PART_FULL_AT).clamp(0, 1).sqrt(),
            "corner_up": relu(ch["mouth_corner"]),
            "corner_down": relu(-ch["mouth_corner"]),
            "corner_asym": ch["mouth_corner_asym"],
            "brow_up": relu(ch["brow_raise"]),
            "brow_down": relu(-ch["brow_raise"]),
            "brow_inner": ch["brow_inner_raise"].clamp(0, 1),
            "brow_furrow": ch["brow_furrow"].clamp(0, 1),
            "wide_r": relu(eye) * (1 - blink_r),
            "wide_l": relu(eye) * (1 - blink_l),
            "squint_r": relu(-eye) * (1 - blink_r),
            "squint_l": relu(-eye) * (1 - blink_l),
            "cheek": ch["cheek_raise"].clamp(0, 1),
            "nose_wrinkle": ch["nose_wrinkle"].clamp(0, 1),
            "blink_r": blink_r,
            "blink_l": blink_l,
        }
        return torch.stack([cols[n] for n in SHAPE_NAMES], 1)

    def displace(self, values: torch.Tensor) -> torch.Tensor:
        """(T, len(CHANNELS)) float32 -> (T, K, 2) control-point displacements in crop px."""
        values = values.to(self.device, torch.float32)
        n = values.shape[0]
        mesh = (self.coefficients(values) @ self.shapes_px).view(n, N_MESH, 2)
        jaw = values[:, CHANNELS.index("jaw_open")].clamp(0, 1) * self.jaw_max_rad
        jaw = jaw - values[:, CHANNELS.index("lip_close")].clamp(0, 1) * self.jaw_close_rad
        jaw_disp = self._jaw(jaw)  # (T, 468, 2)
        mesh = mesh + jaw_disp
        mesh = mesh + self._close_lips(mesh, values)
        chin = jaw_disp[:, rg.CHIN]  # (T, 2)
        anchors = self.jaw_follow[N_MESH:, None] * chin[:, None, :]
        disp = torch.cat([mesh, anchors], 1)
        return disp + self._head(disp, values)

    def _jaw(self, angle: torch.Tensor) -> torch.Tensor:
        rel = self.jaw_vz - torch.as_tensor(
            self.jaw_pivot_vz, dtype=torch.float32, device=self.device
        )
        c, s = angle.cos()[:, None], angle.sin()[:, None]
        dv = rel[None, :, 0] * c - rel[None, :, 1] * s - rel[None, :, 0]  # (T, 468) IOD, + down
        dv = dv * self.jaw_weight[None] * self.iod
        return dv[..., None] * self.frame_basis[1]

    def _close_lips(self, mesh: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        """Shrink each inner-lip column's gap to (1 - lip_close) of itself, and to TUCK_GAP under a
        lower-lip tuck; the upper lip does CLOSE_SHARE_UPPER of the work, the lower lip the rest."""
        pos = self.points[None, :N_MESH, :2] + mesh
        ey = self.frame_basis[1]
        gap = (pos[:, self.pair_lo] - pos[:, self.pair_up]) @ ey  # (T, P) px
        close = values[:, CHANNELS.index("lip_close")].clamp(0, 1)[:, None]
        tuck = values[:, CHANNELS.index("lower_lip_tuck")].clamp(0, 1)[:, None]
        target = gap * (1 - close)
        target = target + tuck * (
            torch.minimum(target, torch.full_like(target, TUCK_GAP_IOD * self.iod)) - target
        )
        delta = (target - gap).clamp(max=0)  # (T, P) <= 0: the gap only shrinks
        dv = (
            -CLOSE_SHARE_UPPER * delta @ self.close_up.T
            + (1 - CLOSE_SHARE_UPPER) * delta @ self.close_lo.T
        )
        return dv[..., None] * ey

    def _head(self, disp: torch.Tensor, values: torch.Tensor) -> torch.Tensor:
        deg = math.pi / 180
        rot = _rotation(
            values[:, CHANNELS.index("head_pitch_deg")] * deg,
            values[:, CHANNELS.index("head_yaw_deg")] * deg,
            values[:, CHANNELS.index("head_roll_deg")] * deg,
        )  # (T, 3, 3)
        pts = self.points[None].clone().expand(disp.shape[0], -1, -1).clone()
        pts[..., :2] = pts[..., :2] + disp
        rel = pts - self.head_pivot
        moved = rel @ rot.transpose(1, 2) - rel  # (T, K, 3)
        return moved[..., :2] * self.head_weight[None, :, None]
