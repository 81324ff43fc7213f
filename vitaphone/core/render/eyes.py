"""Eyes: lids slide over an unmoving eyeball; lash line and lid shading on a closing eye.

The warp moves the upper-lid skin down (rig blink shapes) but would also squash the iris into
the shrinking opening. Here the opening between the *current* lids is refilled from the source
eye, only translated with the eye corners (head motion) and the gaze, so the lid covers the
iris instead of squeezing it. A closing lid gets a soft lash line along its edge and a slight
shadow on the lid, so a closed eye reads as closed rather than smeared.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from vitaphone.core.motion import geometry as geo
from vitaphone.core.motion.types import CHANNELS
from vitaphone.core.render import regions as rg
from vitaphone.core.render.raster import between, curve_y_at, smoothstep, union_box

LASH_IOD = 0.022  # lash line thickness
GAZE_SHARE = 0.6  # share of the geometry.py iris travel applied (the whole eye interior moves)

# Upper lid and the brow's lower edge of each eye, both image-left to image-right.
_LID_AREAS = (
    (rg.EYE_R_UPPER, (46, 53, 52, 65, 55)),
    (tuple(reversed(rg.EYE_L_UPPER)), (285, 295, 282, 283, 276)),
)

_EYES = (
    ("right", rg.EYE_R_UPPER, rg.EYE_R_LOWER, "blink_right"),
    ("left", rg.EYE_L_UPPER, rg.EYE_L_LOWER, "blink_left"),
)


@dataclass(frozen=True)
class EyeStyle:
    """lash: (3,) float 0..255 colour of lashes/lid edge; lids: (2, 3) the upper-lid skin
    colour of the right and left eye; rest_xy: (468, 2) crop px."""

    lash: torch.Tensor
    lids: torch.Tensor
    rest_xy: torch.Tensor
    iod_px: float


def eye_style(crop: np.ndarray, lm: np.ndarray, iod_px: float) -> EyeStyle:
    xy = lm[:, :2].astype(np.float64)
    px = np.concatenate(
        [rg.region_pixels(crop, xy[list(rg.eye_polygon(s))]) for s in ("right", "left")]
    )
    if len(px) >= 8:
        luma = px @ np.array([0.299, 0.587, 0.114])
        lash = px[luma <= np.percentile(luma, 10)].mean(0) * 0.7
    else:
        lash = np.array([40.0, 30.0, 28.0])
    lids = [_lid_colour(crop, xy, up, brow) for up, brow in _LID_AREAS]
    return EyeStyle(
        torch.as_tensor(lash, dtype=torch.float32),
        torch.as_tensor(np.stack(lids), dtype=torch.float32),
        torch.as_tensor(lm[:, :2], dtype=torch.float32),
        iod_px,
    )


def _lid_colour(crop: np.ndarray, xy: np.ndarray, upper: tuple, brow: tuple) -> np.ndarray:
    """Median of the middle tones between the upper lid and the brow (no lashes, no sclera)."""
    px = rg.region_pixels(crop, xy[list(upper + tuple(reversed(brow)))])
    if len(px) < 8:
        return np.array([180.0, 150.0, 130.0])
    luma = px @ np.array([0.299, 0.587, 0.114])
    lo, hi = np.percentile(luma, [50, 85])  # lit lid skin, not the crease
    return np.median(px[(luma >= lo) & (luma <= hi)], axis=0)


def composite_eyes(
    img: torch.Tensor,
    points: torch.Tensor,
    values: torch.Tensor,
    style: EyeStyle,
    source: torch.Tensor,
    roi_xy: tuple[int, int],
) -> torch.Tensor:
    """img (B, H, W, 3) uint8 ROI (changed in place and returned); points (B, 468, 2) ROI px;
    source (3, Hc, Wc) float crop on the same device; roi_xy: the ROI's offset in the crop."""
    gaze = torch.stack(
        [values[:, CHANNELS.index("gaze_x")], values[:, CHANNELS.index("gaze_y")]], 1
    )
    active = [float(values[:, CHANNELS.index(ch)].abs().max()) > 0.02 for *_, ch in _EYES]
    if not any(active) and float(gaze.abs().max()) < 0.02:
        return img
    rest = style.rest_xy.to(img.device) - torch.tensor(
        roi_xy, device=img.device, dtype=torch.float32
    )
    gaze_px = gaze.clamp(-1, 1) * geo.GAZE_TRAVEL_IOD * GAZE_SHARE * style.iod_px
    for side, (_, upper_i, lower_i, channel) in enumerate(_EYES):
        blink = values[:, CHANNELS.index(channel)].clamp(0, 1)
        lid = style.lids[side].to(img.device).view(1, 3, 1, 1)
        eye = (list(upper_i), list(lower_i), blink, lid)
        _one_eye(img, points, rest, eye, gaze_px, style, source, roi_xy)
    return img


def _one_eye(img, points, rest, eye, gaze_px, style: EyeStyle, source, roi_xy) -> None:
    """eye: (upper-lid indices, lower-lid indices, blink (B,), lid colour (1, 3, 1, 1))."""
    upper_i, lower_i, blink, lid = eye
    iod = style.iod_px
    _, height, width, _ = img.shape
    upper, lower = points[:, upper_i], points[:, lower_i]
    box = union_box(torch.cat([upper, lower], 1), 0.12 * iod + 2, height, width)
    x0, y0, x1, y1 = box
    if x1 - x0 < 3 or y1 - y0 < 3:
        return
    dev, dt = img.device, torch.float32
    xs = torch.arange(x0, x1, device=dev, dtype=dt)
    ys = torch.arange(y0, y1, device=dev, dtype=dt)
    top, v_t = curve_y_at(upper, xs)
    bottom, v_b = curve_y_at(lower, xs)
    opening = between(top, bottom, v_t & v_b & (bottom > top), ys, max(0.7, 0.01 * iod))
    # The eyeball moves with the eye corners (head motion) and the gaze, not with the lids.
    corners = [upper_i[0], upper_i[-1]]
    shift = (points[:, corners] - rest[corners]).mean(1) + gaze_px  # (B, 2)
    b, h, w = len(points), len(ys), len(xs)
    src_x = (xs[None, None, :] - shift[:, 0, None, None]).expand(b, h, w)
    src_y = (ys[None, :, None] - shift[:, 1, None, None]).expand(b, h, w)
    r_top, r_vt = curve_y_at(rest[upper_i][None], src_x.reshape(-1))
    r_bot, r_vb = curve_y_at(rest[lower_i][None], src_x.reshape(-1))
    r_top, r_bot = r_top.view_as(src_x), r_bot.view_as(src_x)
    feather = max(0.7, 0.01 * iod)
    in_src = smoothstep((src_y - r_top) / feather) * smoothstep((r_bot - src_y) / feather)
    in_src = in_src * (r_vt & r_vb).view_as(src_x).to(dt)
    ball = _sample(source, src_x + roi_xy[0], src_y + roi_xy[1])  # (B, 3, h, w)
    patch = img[:, y0:y1, x0:x1].permute(0, 3, 1, 2).to(dt)
    # Per frame, fade the refill in with the blink or gaze, so frames without either are the
    # plain warp whichever batch they fall in (no flicker at batch edges).
    use = smoothstep(torch.maximum(blink, gaze_px.abs().amax(1) / max(0.02 * iod, 1e-3)) / 0.05)
    a = (opening * in_src * use.view(-1, 1, 1))[:, None]
    patch = patch + a * (ball - patch)
    meet = torch.minimum(top, bottom)
    rest_top, _ = curve_y_at(rest[upper_i][None], xs)
    rest_bot, _ = curve_y_at(rest[lower_i][None], xs)
    rest_gap = (rest_bot - rest_top).clamp(min=0)  # (1, w) the open eye's height per column
    patch = _cover_closed(patch, meet, bottom, rest_gap, v_t & v_b, ys, blink, lid, iod)
    patch = _lid_marks(patch, meet, v_t, ys, blink, style)
    img[:, y0:y1, x0:x1] = patch.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1)


def _sample(source: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of source (3, H, W) at crop px x, y (B, h, w) -> (B, 3, h, w)."""
    _, h, w = source.shape
    b, hh, ww = x.shape
    grid = torch.stack([x * (2.0 / (w - 1)) - 1, y * (2.0 / (h - 1)) - 1], -1).reshape(
        1, b * hh, ww, 2
    )
    out = F.grid_sample(
        source[None], grid, mode="bilinear", padding_mode="border", align_corners=True
    )
    return out.view(3, b, hh, ww).permute(1, 0, 2, 3)


def _cover_closed(patch, meet, bottom, rest_gap, valid, ys, blink, lid, iod: float) -> torch.Tensor:
    """On a nearly closed eye, lid skin covers the band around the closed lid line. The mesh's lid
    points sit a little inside the visible lid margin, so the skin the warp pulls down starts
    with a strip of sclera; that strip and what the smoothed field leaves between the lids are
    painted with skin sampled per column well above the lid edge, pulled towards the eye's lid
    colour where the sample is much brighter (a painted sclera reaching above the mesh's lid).
    The band is as tall as most of the open eye in each column, tapering off at the corners."""
    strength = smoothstep((blink - 0.55) / 0.35).view(-1, 1, 1)
    if float(strength.max()) <= 0.0:
        return patch
    _, _, h, _ = patch.shape
    lift = 0.6 * rest_gap + 0.01 * iod  # (1, w)
    row = (meet - lift - 0.04 * iod - ys[0]).round().long()  # (B, w)
    skin = (
        sum(
            patch.gather(2, (row + k).clamp(0, h - 1)[:, None, None, :].expand(-1, 3, 1, -1))
            for k in (-2, -1, 0, 1, 2)
        )
        / 5.0
    )  # (B, 3, 1, w), averaged over rows and (below) columns: no streaks
    k = 2 * max(1, round(0.03 * iod)) + 1
    skin = F.avg_pool2d(skin, (1, k), stride=1, padding=(0, k // 2), count_include_pad=False)
    luma = torch.tensor([0.299, 0.587, 0.114], device=patch.device).view(1, 3, 1, 1)
    brighter = ((skin - lid) * luma).sum(1, keepdim=True)  # sclera is the outlier to catch
    skin = skin + smoothstep((brighter - 20.0) / 30.0) * (lid - skin)
    feather = max(0.7, 0.02 * iod)
    taper = smoothstep(rest_gap / (0.5 * rest_gap.amax().clamp(min=1e-3)))[:, None]  # (1, 1, w)
    band = between(meet - lift, bottom + 0.25 * lift, valid, ys, feather) * strength * taper
    return patch + band[:, None] * (skin - patch)


def _lid_marks(patch, top, valid, ys, blink, style: EyeStyle) -> torch.Tensor:
    """Lash line along the lid edge and a faint lid shadow, growing as the eye closes."""
    iod = style.iod_px
    y = ys.view(1, -1, 1)
    strength = smoothstep((blink - 0.25) / 0.6).view(-1, 1, 1)
    across = valid.to(y.dtype)[:, None]
    # Fade the line towards the eye corners (lashes are shorter there).
    cols = valid.to(y.dtype)
    n = cols.sum(1, keepdim=True).clamp(min=1)
    pos = (cols.cumsum(1) - 0.5) / n
    along = smoothstep(torch.minimum(pos, 1 - pos) / 0.25)[:, None]
    d = y - top[:, None]
    lash = (
        torch.exp(-(((d - 0.25 * LASH_IOD * iod) / (0.5 * LASH_IOD * iod + 0.4)) ** 2))
        * across
        * along
    )
    lid = smoothstep(1 + d / (0.12 * iod)) * (d < 0) * across
    lash_c = style.lash.to(patch.device).view(1, 3, 1, 1)
    patch = patch * (1 - (0.1 * lid * strength)[:, None])
    a = (0.8 * lash * strength)[:, None]
    return patch + a * (lash_c - patch)
