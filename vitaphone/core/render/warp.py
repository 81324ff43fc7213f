"""Dense warp: sparse control-point displacements -> a smooth field -> the warped image.

Once per portrait, `build_warp_table` rasterises the control triangulation on a coarse grid of
nodes covering the region that can move (the still ring's bounding box, `roi`), giving each
node its triangle's three vertices and barycentric weights, stored as a sparse (nodes x K)
matrix. Per batch of frames the forward field is one sparse matmul, smoothed by a small
separable Gaussian (no creases along triangle edges), inverted by fixed-point iteration
x <- y - d(x) on the grid, upsampled to pixels and applied with one `grid_sample`.
Everything outside `roi` is copied from the source, so the background is exactly still.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from scipy.sparse import coo_matrix, csr_matrix, kron

from vitaphone.core.render.controls import ControlPoints

FIELD_NODES_MAX = 128  # grid nodes along the ROI's longer side (field resolution)
SMOOTH_SIGMA_NODES = 0.8
INVERSION_STEPS = 3


@dataclass(frozen=True)
class WarpTable:
    """weights: sparse CSR (ny*nx, K) float32; roi: (x0, y0, x1, y1) crop px, x1/y1 exclusive;
    grid_hw: (ny, nx) nodes. Node i sits at pixel x0 + (i + 0.5) * w / nx - 0.5 (likewise in y):
    the half-pixel convention shared by cv2.resize and torch's align_corners=False, so both
    upsample the node grid to the same pixels."""

    weights: torch.Tensor
    roi: tuple[int, int, int, int]
    grid_hw: tuple[int, int]


def moving_roi(
    controls: ControlPoints, width: int, height: int, margin_px: float
) -> tuple[int, int, int, int]:
    """Box around every triangle with a vertex that can move (outside it the field is exactly
    zero), plus a margin for the smoothing, clipped to the crop."""
    moving = (controls.head_weight > 0) | (controls.jaw_follow > 0)
    touched = controls.triangles[moving[controls.triangles].any(axis=1)]
    pts = controls.xy[np.unique(touched)]
    x0, y0 = (int(v) for v in np.floor(pts.min(0) - margin_px))
    x1, y1 = (int(v) for v in np.ceil(pts.max(0) + margin_px))
    return max(0, x0), max(0, y0), min(width, x1 + 1), min(height, y1 + 1)


def build_warp_table(
    controls: ControlPoints, roi: tuple[int, int, int, int], device: torch.device
) -> WarpTable:
    x0, y0, x1, y1 = roi
    w, h = x1 - x0, y1 - y0
    step = max(w, h) / FIELD_NODES_MAX
    nx, ny = max(2, round(w / step) + 1), max(2, round(h / step) + 1)
    gx = node_positions(x0, w, nx)
    gy = node_positions(y0, h, ny)
    tri_of, bary = _locate(gx, gy, controls.xy.astype(np.float64), controls.triangles)
    found = np.nonzero(tri_of >= 0)[0]
    table = coo_matrix(
        (bary[found].ravel(), (np.repeat(found, 3), controls.triangles[tri_of[found]].ravel())),
        shape=(nx * ny, len(controls.xy)),
    ).tocsr()
    # The smoothing is linear, so it is folded into the table once (a sparse Gaussian operator
    # applied to the sparse table): per frame the smoothed field is a single sparse matmul.
    table = (kron(_gauss_1d(ny), _gauss_1d(nx), format="csr") @ table).tocsr()
    table.data[np.abs(table.data) < 1e-4] = 0.0
    table.eliminate_zeros()
    with warnings.catch_warnings():  # "sparse CSR support is in beta": matmul is all we use
        warnings.simplefilter("ignore", UserWarning)
        csr = torch.sparse_csr_tensor(
            torch.as_tensor(table.indptr, dtype=torch.int64),
            torch.as_tensor(table.indices, dtype=torch.int64),
            torch.as_tensor(table.data, dtype=torch.float32),
            size=table.shape,
        ).to(device)
    return WarpTable(csr, roi, (ny, nx))


def _gauss_1d(n: int) -> csr_matrix:
    """(n, n) row-normalised Gaussian smoothing matrix, sigma SMOOTH_SIGMA_NODES, edges clamped
    (like replicate padding: rows still sum to one, so the field keeps its partition of unity)."""
    radius = max(1, round(2.5 * SMOOTH_SIGMA_NODES))
    offs = np.arange(-radius, radius + 1)
    k = np.exp(-0.5 * (offs / SMOOTH_SIGMA_NODES) ** 2)
    k /= k.sum()
    rows = np.repeat(np.arange(n), len(offs))
    cols = np.clip(rows + np.tile(offs, n), 0, n - 1)
    return coo_matrix((np.tile(k, n), (rows, cols)), shape=(n, n)).tocsr()


def node_positions(start: int, length: int, n: int) -> np.ndarray:
    """Pixel positions of n nodes spread over [start, start + length) (half-pixel convention)."""
    return start + (np.arange(n) + 0.5) * length / n - 0.5


def _locate(
    gx: np.ndarray, gy: np.ndarray, xy: np.ndarray, tris: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For the node grid (gx: nx, gy: ny, evenly spaced): triangle index (-1 if none) and
    barycentric weights (ny*nx, 3) of each node. Triangles are rasterised with OpenCV (a few ms
    for ~1300 triangles) in reverse order, so the first listed (the mesh) wins where they touch."""
    nx, ny = len(gx), len(gy)
    # Vertex positions in node-index units, fixed point for fillPoly's sub-pixel accuracy.
    shift = 8
    u = (xy[:, 0] - gx[0]) / (gx[1] - gx[0])
    v = (xy[:, 1] - gy[0]) / (gy[1] - gy[0])
    fixed = np.round(np.stack([u, v], 1) * (1 << shift)).astype(np.int32)
    ids = np.full((ny, nx), -1, dtype=np.int32)
    for t in range(len(tris) - 1, -1, -1):
        cv2.fillPoly(ids, [fixed[tris[t]]], int(t), lineType=cv2.LINE_8, shift=shift)
    tri_of = ids.ravel().astype(np.int64)
    bary = np.zeros((nx * ny, 3))
    found = np.nonzero(tri_of >= 0)[0]
    a, b, c = (np.stack([u, v], 1)[tris[tri_of[found], k]] for k in range(3))
    pts = np.stack([found % nx, found // nx], 1).astype(np.float64)
    e1, e2, r = b - a, c - a, pts - a
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    det = np.where(np.abs(det) < 1e-12, 1e-12, det)
    l1 = (r[:, 0] * e2[:, 1] - r[:, 1] * e2[:, 0]) / det
    l2 = (e1[:, 0] * r[:, 1] - e1[:, 1] * r[:, 0]) / det
    # Nodes on an edge may be given the neighbour across it: clamp the tiny extrapolation.
    lam = np.clip(np.stack([1 - l1 - l2, l1, l2], 1), 0.0, None)
    bary[found] = lam / lam.sum(1, keepdims=True)
    return tri_of, bary


def forward_field(table: WarpTable, disp: torch.Tensor) -> torch.Tensor:
    """disp (B, K, 2) px -> smoothed forward field (B, 2, ny, nx) px on the node grid."""
    b, k, _ = disp.shape
    ny, nx = table.grid_hw
    flat = table.weights @ disp.permute(1, 0, 2).reshape(k, b * 2)  # (ny*nx, B*2)
    return flat.view(ny, nx, b, 2).permute(2, 3, 0, 1).contiguous()


def backward_field(table: WarpTable, field: torch.Tensor) -> torch.Tensor:
    """Forward field (B, 2, ny, nx) -> backward offsets (B, 2, ny, nx): source = node + offset.
    Fixed point of x = y - d(x), d sampled bilinearly from the forward field."""
    x0, y0, x1, y1 = table.roi
    ny, nx = table.grid_hw
    # Pixel offsets -> normalised units (align_corners=False: -1..1 spans the ROI's w pixels).
    to_norm = torch.tensor(
        [2.0 / (x1 - x0), 2.0 / (y1 - y0)], device=field.device, dtype=field.dtype
    )
    base = _identity_grid(ny, nx, field.device, field.dtype)
    offset = -field.permute(0, 2, 3, 1)  # first guess: -d(y)
    for _ in range(INVERSION_STEPS):
        d = F.grid_sample(
            field,
            base + offset * to_norm,
            mode="bilinear",
            padding_mode="border",
            align_corners=False,
        )
        offset = -d.permute(0, 2, 3, 1)
    return offset.permute(0, 3, 1, 2)


def _identity_grid(h: int, w: int, device: torch.device, dtype: torch.dtype) -> torch.Tensor:
    """Node centres in align_corners=False normalised units, (1, h, w, 2)."""
    ys = (torch.arange(h, device=device, dtype=dtype) + 0.5) * (2.0 / h) - 1
    xs = (torch.arange(w, device=device, dtype=dtype) + 0.5) * (2.0 / w) - 1
    gy, gx = torch.meshgrid(ys, xs, indexing="ij")
    return torch.stack([gx, gy], -1)[None]


def warp_roi(
    image: torch.Tensor, image_u8: np.ndarray, table: WarpTable, offsets: torch.Tensor
) -> torch.Tensor:
    """Warp the crop inside the ROI: (B, h, w, 3) uint8 on offsets' device.

    image: (3, H, W) float32 crop on the device; image_u8: (H, W, 3) uint8 crop (host);
    offsets: (B, 2, ny, nx) backward offsets in px. On CUDA one batched grid_sample; on the
    CPU OpenCV's remap, about ten times faster than grid_sample there and exact on zero offsets
    (the background stays bit-identical)."""
    if offsets.device.type == "cpu":
        return _warp_cv2(image_u8, table, offsets)
    return _warp_torch(image, table, offsets)


def _warp_torch(image: torch.Tensor, table: WarpTable, offsets: torch.Tensor) -> torch.Tensor:
    x0, y0, x1, y1 = table.roi
    h, w = y1 - y0, x1 - x0
    _, height, width = image.shape
    dev, dt = offsets.device, offsets.dtype
    # Offsets are upsampled (not absolute positions: the half-pixel convention clamps at the
    # ROI's edges), then added to the pixel grid, in grid_sample's align_corners=True units.
    scale = torch.tensor([2.0 / (width - 1), 2.0 / (height - 1)], device=dev, dtype=dt).view(
        1, 2, 1, 1
    )
    off = F.interpolate(offsets * scale, size=(h, w), mode="bilinear", align_corners=False)
    xs = torch.arange(x0, x1, device=dev, dtype=dt) * (2.0 / (width - 1)) - 1
    ys = torch.arange(y0, y1, device=dev, dtype=dt) * (2.0 / (height - 1)) - 1
    b = off.shape[0]
    grid = torch.stack([off[:, 0] + xs.view(1, 1, w), off[:, 1] + ys.view(1, h, 1)], -1).reshape(
        1, b * h, w, 2
    )
    out = F.grid_sample(
        image[None], grid, mode="bilinear", padding_mode="border", align_corners=True
    )
    out = out.view(3, b, h, w).permute(1, 2, 3, 0)
    return out.clamp(0, 255).round().to(torch.uint8)


def _warp_cv2(image_u8: np.ndarray, table: WarpTable, offsets: torch.Tensor) -> torch.Tensor:
    x0, y0, x1, y1 = table.roi
    h, w = y1 - y0, x1 - x0
    ys, xs = np.mgrid[y0:y1, x0:x1].astype(np.float32)
    base = np.stack([xs, ys], -1)  # (h, w, 2) absolute crop px
    off = offsets.permute(0, 2, 3, 1).contiguous().numpy()  # (B, ny, nx, 2)
    out = np.empty((len(off), h, w, 3), dtype=np.uint8)
    for i, o in enumerate(off):  # one C++ call per frame; no Python loop over pixels
        full = cv2.resize(o, (w, h), interpolation=cv2.INTER_LINEAR)
        full += base
        out[i] = cv2.remap(image_u8, full, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    return torch.from_numpy(out)
