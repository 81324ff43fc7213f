"""Batched 2D raster helpers in torch (CPU or CUDA): curves sampled per pixel column, soft bands.

The mouth and eye composites describe an opening by an upper and a lower curve (lip or lid
contours, corner to corner); a pixel is inside when it lies between them in its column. That
is exact for these x-monotone contours and needs no per-pixel polygon loop.
"""

from __future__ import annotations

import torch


def smoothstep(x: torch.Tensor) -> torch.Tensor:
    x = x.clamp(0.0, 1.0)
    return x * x * (3 - 2 * x)


def curve_y_at(curve: torch.Tensor, xs: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """curve (B, N, 2) points ordered along x, either way (made increasing and monotone),
    xs (W,) -> y (B, W), and a mask (B, W) of columns inside the curve's x-range."""
    return curve_y_at_each(curve, xs.to(curve.dtype)[None].expand(curve.shape[0], -1))


def curve_y_at_each(curve: torch.Tensor, q: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """curve (B or 1, N, 2) points ordered along x, either way; q (B, ...) x per frame ->
    y at q (held constant beyond the curve's ends) and a mask of q inside its x-range."""
    flip = curve[:, :1, :1] > curve[:, -1:, :1]  # (B, 1, 1): listed right to left
    curve = torch.where(flip, curve.flip(1), curve).expand(q.shape[0], -1, -1)
    x = torch.cummax(curve[..., 0], dim=1).values.contiguous()
    y = curve[..., 1]
    b, n = x.shape
    flat = q.reshape(b, -1).contiguous()
    idx = torch.searchsorted(x, flat).clamp(1, n - 1)
    x0, x1 = x.gather(1, idx - 1), x.gather(1, idx)
    y0, y1 = y.gather(1, idx - 1), y.gather(1, idx)
    t = ((flat - x0) / (x1 - x0).clamp(min=1e-4)).clamp(0, 1)
    inside = (flat >= x[:, :1]) & (flat <= x[:, -1:])
    return (y0 + t * (y1 - y0)).view_as(q), inside.view_as(q)


def between(
    top: torch.Tensor,
    bottom: torch.Tensor,
    valid: torch.Tensor,
    ys: torch.Tensor,
    feather: float,
) -> torch.Tensor:
    """Soft mask (B, H, W) of pixels below `top` and above `bottom` (both (B, W)), fading over
    `feather` px inside the edges, zero outside `valid` columns."""
    y = ys.view(1, -1, 1)
    m = smoothstep((y - top[:, None]) / feather) * smoothstep((bottom[:, None] - y) / feather)
    return m * valid[:, None].to(m.dtype)


def catmull_rom_matrix(n_points: int, per_segment: int) -> torch.Tensor:
    """(n_out, n_points) matrix M so that M @ points is a Catmull-Rom spline through the points
    (ends clamped), per_segment samples per segment: smooth lip and lid curves for one matmul."""
    n_out = (n_points - 1) * per_segment + 1
    m = torch.zeros(n_out, n_points)
    for seg in range(n_points - 1):
        idx = [max(seg - 1, 0), seg, seg + 1, min(seg + 2, n_points - 1)]
        for k in range(per_segment + (seg == n_points - 2)):
            t = k / per_segment
            w = (
                0.5 * (-(t**3) + 2 * t**2 - t),
                0.5 * (3 * t**3 - 5 * t**2 + 2),
                0.5 * (-3 * t**3 + 4 * t**2 + t),
                0.5 * (t**3 - t**2),
            )
            for i, wi in zip(idx, w):
                m[seg * per_segment + k, i] += wi
    return m


def union_box(
    points: torch.Tensor, pad: float, height: int, width: int
) -> tuple[int, int, int, int]:
    """Integer box (x0, y0, x1, y1), x1/y1 exclusive, around points (B, N, 2) of every frame."""
    lo = points.reshape(-1, 2).amin(0) - pad
    hi = points.reshape(-1, 2).amax(0) + pad
    x0, y0 = (int(v) for v in lo.floor().clamp(min=0).tolist())
    x1, y1 = (int(v) + 1 for v in hi.ceil().tolist())
    return x0, y0, min(x1, width), min(y1, height)
