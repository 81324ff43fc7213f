"""Control points of the warp: the 468 mesh vertices plus anchors, and their triangulation.

Anchors make the warp fall off smoothly: a *moving* ring just outside the face silhouette
(hair, ears, neck) follows the head rotation (and, under the chin, part of the jaw), a *still*
ring at about twice the face size and points along the crop border never move. The whole crop
is covered by triangles, so the interpolated field is continuous everywhere and exactly zero
outside the still ring.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.spatial import Delaunay

from vitaphone.core.render import regions

N_MESH = 468
MOVING_RING_SCALE = 1.32  # x the face silhouette, about the face centre
STILL_RING_SCALE = 2.0
STILL_RING_SCALE_BELOW = 2.3  # the neck and collar absorb the jaw: give them room


@dataclass(frozen=True)
class ControlPoints:
    """xy: (K, 2) float32 crop pixels; z: (K,) float32 depth in pixels (mesh scale);
    head_weight: (K,) how much each point follows the head rotation (1 on the face);
    jaw_follow: (K,) share of the chin's jaw displacement an anchor takes (neck below the chin);
    triangles: (M, 3) int64 indices into xy covering the crop; the first 468 points are the mesh.
    """

    xy: np.ndarray
    z: np.ndarray
    head_weight: np.ndarray
    jaw_follow: np.ndarray
    triangles: np.ndarray


def _strip(upper: tuple[int, ...], lower: tuple[int, ...]) -> list[tuple[int, int, int]]:
    """Triangles filling the hole between two contours that share their end points."""
    tris = []
    for k in range(len(upper) - 1):
        a, b, c, d = upper[k], upper[k + 1], lower[k + 1], lower[k]
        if b != c:
            tris.append((a, b, c))
        if a != d:
            tris.append((a, c, d))
    return tris


def _ring(
    oval_xy: np.ndarray, centre: np.ndarray, scale_up: float, scale_down: float
) -> np.ndarray:
    """The silhouette scaled about centre, with a larger factor below the centre (K, 2)."""
    rel = oval_xy - centre
    scale = np.where(rel[:, 1] > 0, scale_down, scale_up)[:, None]
    return centre + rel * scale


def _border_points(width: int, height: int, step: float) -> np.ndarray:
    nx = max(2, int(np.ceil(width / step)) + 1)
    ny = max(2, int(np.ceil(height / step)) + 1)
    xs = np.linspace(0, width - 1, nx)
    ys = np.linspace(0, height - 1, ny)
    top = np.stack([xs, np.zeros_like(xs)], 1)
    bottom = np.stack([xs, np.full_like(xs, height - 1)], 1)
    left = np.stack([np.zeros_like(ys[1:-1]), ys[1:-1]], 1)
    right = np.stack([np.full_like(ys[1:-1], width - 1), ys[1:-1]], 1)
    return np.concatenate([top, bottom, left, right])


def build_control_points(
    mesh_xyz: np.ndarray,
    mesh_triangles: np.ndarray,
    width: int,
    height: int,
    iod_px: float,
) -> ControlPoints:
    """Mesh (468, 3) in crop pixels -> control points and a triangulation covering the crop."""
    oval_idx = list(regions.FACE_OVAL)
    oval = mesh_xyz[oval_idx, :2]
    oval_z = mesh_xyz[oval_idx, 2]
    centre = oval.mean(axis=0)
    inside = lambda p, margin: (
        (p[:, 0] > margin)
        & (p[:, 0] < width - 1 - margin)
        & (p[:, 1] > margin)
        & (p[:, 1] < height - 1 - margin)
    )
    margin = 0.25 * iod_px
    moving = _ring(oval, centre, MOVING_RING_SCALE, MOVING_RING_SCALE * 1.12)
    moving_z = oval_z + 0.2 * iod_px  # hair and neck sit a little behind the silhouette
    rel_angle = np.arctan2(moving[:, 1] - centre[1], moving[:, 0] - centre[0])  # +pi/2 = below
    below = np.clip(np.sin(rel_angle), 0.0, 1.0)
    moving_head = 1.0 - 0.6 * below**2  # the neck turns less than the skull
    moving_jaw = 0.55 * np.clip((np.sin(rel_angle) - 0.35) / 0.65, 0.0, 1.0)
    keep = inside(moving, margin)
    moving, moving_z, moving_head, moving_jaw = (
        a[keep] for a in (moving, moving_z, moving_head, moving_jaw)
    )

    still = _ring(oval, centre, STILL_RING_SCALE, STILL_RING_SCALE_BELOW)
    still = still[inside(still, margin)]
    border = _border_points(width, height, max(16.0, 0.6 * iod_px))
    anchors = np.concatenate([moving, still, border])
    n_moving = len(moving)

    xy = np.concatenate([mesh_xyz[:, :2], anchors]).astype(np.float32)
    z = np.concatenate(
        [
            mesh_xyz[:, 2],
            moving_z,
            np.full(len(still) + len(border), moving_z.mean() if n_moving else 0.0),
        ]
    )
    head_w = np.concatenate([np.ones(N_MESH), moving_head, np.zeros(len(still) + len(border))])
    jaw_f = np.concatenate([np.zeros(N_MESH), moving_jaw, np.zeros(len(still) + len(border))])
    tris = _triangulate(xy, oval_idx, np.asarray(mesh_triangles, dtype=np.int64))
    return ControlPoints(
        xy,
        z.astype(np.float32),
        head_w.astype(np.float32),
        jaw_f.astype(np.float32),
        tris,
    )


def _triangulate(xy: np.ndarray, oval_idx: list[int], mesh_tris: np.ndarray) -> np.ndarray:
    """Mesh triangles + hole fills (mouth, eyes) + Delaunay of silhouette and anchors outside it."""
    holes = (
        _strip(regions.LIP_INNER_UPPER, regions.LIP_INNER_LOWER)
        + _strip(regions.EYE_R_UPPER, regions.EYE_R_LOWER)
        + _strip(regions.EYE_L_UPPER, regions.EYE_L_LOWER)
    )
    outer_idx = np.concatenate([np.asarray(oval_idx), np.arange(N_MESH, len(xy))])
    dela = Delaunay(xy[outer_idx].astype(np.float64))
    outer = outer_idx[dela.simplices]
    cent = xy[outer].mean(axis=1)
    in_face = regions.points_in_polygon(cent, xy[oval_idx])
    return np.concatenate([mesh_tris, np.asarray(holes, dtype=np.int64), outer[~in_face]])
