"""Lip seal: lips that are parted at rest meet for real when the rig closes them.

A portrait may smile with parted lips and teeth showing. The rig then closes a bilabial by
moving the inner-lip mesh points together, but the smooth warp (a coarse node grid, blurred)
cannot fold the teeth away: they are squeezed into a bright line between the lips, and the
mouth composite keeps the portrait's own mouth at or below its rest gap. Here, once a frame's
lips are closing from the portrait's own gap, the lips are resampled from the portrait column
by column (the rest opening read from its pixels, see `_opening_edges`): the upper lip (outer to inner contour) is stretched onto its new
span, the lower lip likewise, and the gap between them shows the middle of the portrait's
own gap at its own scale (the lips slide over the teeth instead of squeezing them), so at a
full closure no tooth pixel is left. A soft contact shadow in a dark version of the lip colour
marks the seam. Above and below the lips the correction fades into the warp's own field.

Batched over frames (torch, CPU or CUDA); frames less than SEAL_FROM closed are untouched,
and a portrait whose lips meet at rest is never touched at all. The rig raises the jaw on such
a portrait too (rig.JAW_CLOSE_SHARE), so the lips need not stretch over the whole gap.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from scipy.ndimage import median_filter

from vitaphone.core.render import regions as rg
from vitaphone.core.render.raster import (
    catmull_rom_matrix,
    curve_y_at_each,
    smoothstep,
    union_box,
)

SEAL_FROM, SEAL_FULL = 0.05, 0.2  # share of the rest gap closed where the seal starts, is full
OPEN_REST_FROM_IOD = 0.02  # a rest gap above this (fully at 2x) counts as lips parted at rest
FADE_IOD = 0.08  # the correction fades out over this far above and below the lips
SEAM_WIDTH_IOD = 0.011  # contact shadow's Gaussian width
SEAM_DARKNESS = 0.3  # its opacity on a closed mouth (darker seams read as parted lips)
SEAM_SHADE = 0.45  # its colour: the lip colour times this
# The lips' inner edges are sampled this share of each lip inwards: a parted lower lip's inner
# part is its shadowed, wet side, which stretched up reads as a gap under the seam.
INSET_UPPER, INSET_LOWER = 0.15, 0.6
CORNER_REACH_IOD = 0.05  # the seal fades out over this far inside the outer mouth corners
MIN_GAP_IOD = 0.06  # a closing mouth leaves out at least this band of the rest gap
_SPLINE = catmull_rom_matrix(len(rg.LIP_INNER_UPPER), 4)
_LUMA = np.array([0.299, 0.587, 0.114])
_OUTER_SPLINE = catmull_rom_matrix(len(rg.LIP_OUTER_UPPER), 4)


@dataclass(frozen=True)
class SealStyle:
    """The portrait's rest lip curves (1, N, 2) in ROI px (x increasing), its seam colour (3,)
    float 0..255, the eye distance in px and how open the lips are at rest (0..1)."""

    outer_upper: torch.Tensor
    inner_upper: torch.Tensor
    inner_lower: torch.Tensor
    outer_lower: torch.Tensor
    seam: torch.Tensor
    iod_px: float
    open_rest: float


def _curves(points: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Smooth lip contours (B, n, 2) from mesh points (B, 468, 2): outer upper, inner upper,
    inner lower, outer lower."""
    inner, outer = _SPLINE.to(points), _OUTER_SPLINE.to(points)
    return (
        outer @ points[:, list(rg.LIP_OUTER_UPPER)],
        inner @ points[:, list(rg.LIP_INNER_UPPER)],
        inner @ points[:, list(rg.LIP_INNER_LOWER)],
        outer @ points[:, list(rg.LIP_OUTER_LOWER)],
    )


def seal_style(
    crop: np.ndarray, lm: np.ndarray, iod_px: float, roi_xy: tuple[int, int], device: torch.device
) -> SealStyle:
    """crop (H, W, 3) uint8; lm (468, 3) crop px; roi_xy: the warp ROI's top-left in crop px."""
    xy = lm[:, :2].astype(np.float64)
    gap = xy[list(rg.LIP_INNER_LOWER), 1] - xy[list(rg.LIP_INNER_UPPER), 1]
    open_rest = float(np.clip(gap.max() / iod_px / OPEN_REST_FROM_IOD - 1, 0, 1))
    rings = ((rg.LIP_OUTER_UPPER, rg.LIP_MID_UPPER), (rg.LIP_OUTER_LOWER, rg.LIP_MID_LOWER))
    lips = np.concatenate(
        [rg.region_pixels(crop, xy[list(out + tuple(reversed(mid)))]) for out, mid in rings]
    )
    lip = np.median(lips, 0) if len(lips) else np.array([150.0, 90.0, 80.0])
    pts = torch.as_tensor(xy, dtype=torch.float32)[None]
    curves = [_increasing(c)[0].numpy().astype(np.float64) for c in _curves(pts)]
    if open_rest > 0.0:
        curves[1], curves[2] = _opening_edges(crop, curves, lip)
    shift = np.asarray(roi_xy, np.float64)
    curves = [torch.as_tensor(c - shift, dtype=torch.float32)[None].to(device) for c in curves]
    seam = torch.as_tensor(lip * SEAM_SHADE * np.array([1.1, 0.9, 0.9]), dtype=torch.float32)
    return SealStyle(*curves, seam.clamp(0, 255).to(device), iod_px, open_rest)


def _opening_edges(
    crop: np.ndarray, curves: list[np.ndarray], lip: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """The portrait's inner-lip curves (n, 2) crop px, widened to the opening as its pixels show
    it: the mesh often puts the inner lips inside a painted or shadowed opening (Mona Lisa with
    parted lips: 4 px of a 12 px opening, its corners short of the opening's), and the teeth it
    leaves out would show through a closed mouth. Per pixel column between the outer corners,
    from the middle of the mesh's gap outwards, pixels that are teeth (greyer than the lips, lit
    or in shade, or above the gap much brighter) or cavity (much darker) belong to the opening;
    the edges found are median-filtered along the mouth, and never eat more than 60 % of the
    lower lip or 80 % of the upper."""
    outer_up, inner_up, inner_lo, outer_lo = curves
    x0, x1 = int(np.ceil(outer_up[0, 0])), int(np.floor(outer_up[-1, 0]))
    h, w = crop.shape[:2]
    if x1 - x0 < 3:
        return inner_up, inner_lo
    xs = np.arange(max(x0, 0), min(x1, w - 1) + 1)
    r_o, r_i, q_i, q_o = (np.interp(xs, c[:, 0], c[:, 1]) for c in curves)
    top = np.clip(np.floor(r_o + 0.2 * (r_i - r_o)), 0, h - 1).astype(int)
    bottom = np.clip(np.ceil(q_o - 0.4 * (q_o - q_i)), 0, h - 1).astype(int)
    y0, y1 = int(top.min()), int(bottom.max()) + 1
    rgb = crop[y0:y1, xs].astype(np.float64)  # (rows, columns, 3)
    luma = rgb @ _LUMA
    sat = (rgb.max(-1) - rgb.min(-1)) / np.maximum(rgb.max(-1), 1.0)
    lip_l, lip_s = float(lip @ _LUMA), float((lip.max() - lip.min()) / max(lip.max(), 1.0))
    opening = ((sat < 0.85 * lip_s) & (luma > 0.45 * lip_l)) | (luma < 0.7 * lip_l)
    rows = np.arange(y0, y1)[:, None]
    middle = np.round((r_i + q_i) / 2).astype(int)[None]
    # Runs of opening pixels from the middle row up (down): a cumulative product stops at the
    # first lip pixel; rows on the other side of the middle pass.
    # Upwards also whatever is much brighter than the lips: upper teeth tinted like the skin
    # (a painting's) are as saturated as the lips. Downwards a lit lower lip can be that bright.
    upper_teeth = opening | (luma > 1.25 * lip_l)
    passable = np.where(rows > middle, True, np.where(rows >= top[None], upper_teeth, False))
    run_up = np.cumprod(passable[::-1], 0)[::-1].astype(bool)
    first_up = np.where(run_up & (rows <= middle), rows, y1).min(0).astype(np.float64)
    passable = np.where(rows < middle, True, np.where(rows <= bottom[None], opening, False))
    run_down = np.cumprod(passable, 0).astype(bool)
    last_down = np.where(run_down & (rows >= middle), rows, y0).max(0).astype(np.float64)
    edge_up = np.minimum(median_filter(first_up - 0.5, 7, mode="nearest"), r_i)
    edge_lo = np.maximum(median_filter(last_down + 0.5, 7, mode="nearest"), q_i)
    return np.stack([xs, edge_up], 1), np.stack([xs, edge_lo], 1)


def _increasing(curve: torch.Tensor) -> torch.Tensor:
    """Curves (B, n, 2) listed by increasing x, x made monotone."""
    flip = curve[:, :1, :1] > curve[:, -1:, :1]
    curve = torch.where(flip, curve.flip(1), curve)
    x = torch.cummax(curve[..., 0], dim=1).values
    return torch.stack([x, curve[..., 1]], -1).contiguous()


def _y_at(curve: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """Curves (1 or B, n, 2), x increasing, at per-frame columns q (B, w) -> (B, w), held
    constant beyond their ends."""
    return curve_y_at_each(curve, q)[0]


def closure(points: torch.Tensor, rest_points: torch.Tensor) -> torch.Tensor:
    """How far the lips are closed from their rest gap, per frame (B,) 0..1: one minus the
    summed inner-lip column gaps over the portrait's own. points (B, 468, 2), rest (468, 2)."""
    up, lo = list(rg.LIP_INNER_UPPER[1:-1]), list(rg.LIP_INNER_LOWER[1:-1])
    rest = (rest_points[lo, 1] - rest_points[up, 1]).clamp(min=0).sum()
    now = (points[:, lo, 1] - points[:, up, 1]).clamp(min=0).sum(1)
    return (1 - now / rest.clamp(min=1e-3)).clamp(0, 1)


def seal_lips(
    img: torch.Tensor,
    points: torch.Tensor,
    rest_points: torch.Tensor,
    offsets: torch.Tensor,
    source: torch.Tensor,
    roi: tuple[int, int, int, int],
    style: SealStyle,
) -> torch.Tensor:
    """img (B, h, w, 3) uint8 warped ROI (changed in place and returned); points (B, 468, 2)
    and rest_points (468, 2) ROI px; offsets (B, 2, ny, nx) the warp's backward offsets in px
    (source = pixel + offset); source (3, H, W) float32 crop; roi (x0, y0, x1, y1) crop px."""
    if style.open_rest <= 0.0:
        return img
    shut = closure(points, rest_points)
    frames = torch.nonzero(shut > SEAL_FROM).flatten()
    if frames.numel() == 0:
        return img
    img[frames] = _seal(img[frames], points[frames], shut[frames], offsets[frames], source, roi,
                        style)  # fmt: skip
    return img


def _seal(img, points, shut, offsets, source, roi, style: SealStyle) -> torch.Tensor:
    iod = style.iod_px
    b, h, w, _ = img.shape
    uo, ui, li, lo = (_increasing(c) for c in _curves(points))
    fade = FADE_IOD * iod + 1.0
    x0, y0, x1, y1 = union_box(torch.cat([uo, lo], 1), 2 * fade + 1.0, h, w)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return img
    dev, dt = img.device, torch.float32
    xs = torch.arange(x0, x1, device=dev, dtype=dt)
    ys = torch.arange(y0, y1, device=dev, dtype=dt)
    cols = xs[None].expand(b, -1)
    now = [_y_at(c, cols)[:, None] for c in (uo, ui, li, lo)]  # (B, 1, w') output rows
    # Columns up to the outer corners: a smile's dark corners reach past the mesh's inner ones.
    reach = CORNER_REACH_IOD * iod + 1.0
    inside = torch.minimum(cols - uo[:, :1, 0], uo[:, -1:, 0] - cols)  # (B, w') px
    # From SEAL_FROM closed (an expression narrowing the gap a little keeps the warp's mouth)
    # to fully resampled at SEAL_FULL.
    ramp = smoothstep((shut - SEAL_FROM) / (SEAL_FULL - SEAL_FROM))[:, None]
    seal = ramp * smoothstep(inside / reach) * style.open_rest
    # The warp's own source position of every patch pixel (offsets upsampled like the warp).
    rh, rw = roi[3] - roi[1], roi[2] - roi[0]
    gy, gx = torch.meshgrid((ys + 0.5) * (2.0 / rh) - 1, (xs + 0.5) * (2.0 / rw) - 1, indexing="ij")
    grid = torch.stack([gx, gy], -1)[None].expand(b, -1, -1, -1)
    off = F.grid_sample(offsets, grid, mode="bilinear", padding_mode="border", align_corners=False)
    sx = xs.view(1, 1, -1) + off[:, 0]  # (B, h', w') ROI px
    # The source column each output column comes from (taken at the mouth's middle row).
    # The rest contours at the source column of every pixel (B, h', w'): rounding and
    # spreading move the lips sideways, and not alike above and below the seam.
    flat = sx.reshape(b, -1)
    rest = [_y_at(c, flat).view_as(sx) for c in (style.outer_upper, style.inner_upper,
                                                 style.inner_lower, style.outer_lower)]  # fmt: skip
    knots = _knots(now, rest, shut, iod)
    # Fade over at least 2.5x the correction at the outer contours, so the map never folds
    # (a fold shows a lip's edge twice: a dark line under the lower lip on a rounding "b").
    fades = []
    for row, src in ((now[0], rest[0]), (now[3], rest[3])):
        at = (row - y0).round().long().clamp(0, len(ys) - 1)  # (B, 1, w')
        warp_src = row + off[:, 1].gather(1, at)
        fades.append((2.5 * (src.gather(1, at) - warp_src).abs()).clamp(min=fade, max=2 * fade))
    _, height, width = source.shape
    patch, weight = 0.0, 0.0
    for sub in (-0.25, 0.25):  # two samples per pixel row: the seam is a hard edge
        y = (ys + sub).view(1, -1, 1)
        want, wgt = _source_rows(y, knots, fades, seal)
        sy = y + off[:, 1]
        sy = sy + wgt * (want - sy)
        grid = torch.stack([(sx + roi[0]) * (2.0 / (width - 1)) - 1,
                            (sy + roi[1]) * (2.0 / (height - 1)) - 1], -1)  # fmt: skip
        patch = patch + 0.5 * F.grid_sample(source[None].expand(b, -1, -1, -1), grid,
                                            mode="bilinear", padding_mode="border",
                                            align_corners=True)  # fmt: skip
        weight = weight + 0.5 * wgt
    # Contact shadow along the seam of a closed mouth.
    closed = seal[:, None] * smoothstep(1 - knots["gap"] / (0.03 * iod + 1.0))
    width_px = SEAM_WIDTH_IOD * iod + 0.5
    y = ys.view(1, -1, 1)
    shadow = SEAM_DARKNESS * closed * torch.exp(-(((y - knots["seam"]) / width_px) ** 2))
    patch = patch + shadow[:, None] * (style.seam.view(1, 3, 1, 1) - patch)
    old = img[:, y0:y1, x0:x1].permute(0, 3, 1, 2).to(dt)
    mix = smoothstep(weight / 0.05)[:, None]  # where nothing is corrected keep the warp's pixels
    out = old + mix * (patch - old)
    img[:, y0:y1, x0:x1] = out.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1)
    return img


def _knots(now: list, rest: list, shut: torch.Tensor, iod: float) -> dict[str, torch.Tensor]:
    """Where the lip contours are now (output rows, (B, 1, w')) and which source rows they take
    (rest: at each pixel's source column, (B, h', w')); both outer upper, inner upper, inner
    lower, outer lower. Returns tensors broadcasting to (B, h', w')."""
    u_o, u_i, l_i, l_o = now
    r_o, r_i, q_i, q_o = rest
    # Closing, the lips leave out at least a thin band about the rest gap's middle: the mesh
    # pinches the gap at the corners, where the portrait's dark corners are not that thin.
    centre = (r_i + q_i) / 2
    least = (MIN_GAP_IOD * iod * shut).view(-1, 1, 1) / 2
    r_i, q_i = torch.minimum(r_i, centre - least), torch.maximum(q_i, centre + least)
    gap = (l_i - u_i).clamp(min=0)
    thick = torch.stack([INSET_UPPER * (r_i - r_o), INSET_LOWER * (q_o - q_i)])
    inset = thick.clamp(min=1.0, max=0.06 * iod)
    # The lips' anti-aliased inner edges cover half a pixel each: upper and lower contours
    # interpolated between their own knots may sit a fraction of a pixel apart when closed.
    seam = (u_i + l_i) / 2
    half = (gap - 1.0).clamp(min=0) / 2
    return {
        "u_o": u_o, "u_i": seam - half, "l_i": seam + half, "l_o": l_o, "r_o": r_o,
        "r_in": r_i - inset[0], "q_in": q_i + inset[1], "q_o": q_o, "centre": centre,
        "seam": seam, "gap": gap, "slope": ((q_i - r_i) / gap.clamp(min=1e-3)).clamp(max=1.0),
    }  # fmt: skip


def _source_rows(
    y: torch.Tensor, k: dict[str, torch.Tensor], fades: list[torch.Tensor], seal: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor]:
    """Source row wanted for output rows y (1, h', 1), and how much of it (B, h', w'): the lips
    stretched onto their new spans, the gap at its own scale about its middle, slope 1 beyond
    the outer contours, faded into the warp's own field over `fades` (B, 1, w') px above and
    below."""
    eps = 1e-3
    upper = k["r_o"] + (y - k["u_o"]) / (k["u_i"] - k["u_o"]).clamp(min=eps) * (
        k["r_in"] - k["r_o"]
    )
    lower = k["q_in"] + (y - k["l_i"]) / (k["l_o"] - k["l_i"]).clamp(min=eps) * (
        k["q_o"] - k["q_in"]
    )
    middle = k["centre"] + (y - k["seam"]) * k["slope"]
    above, below = k["r_o"] + (y - k["u_o"]), k["q_o"] + (y - k["l_o"])
    want = torch.where(
        y < k["u_i"],
        torch.where(y < k["u_o"], above, upper),
        torch.where(y < k["l_i"], middle, torch.where(y < k["l_o"], lower, below)),
    )
    up, down = fades
    taper = smoothstep((y - k["u_o"] + up) / up) * smoothstep((k["l_o"] + down - y) / down)
    return want, taper * seal[:, None]
