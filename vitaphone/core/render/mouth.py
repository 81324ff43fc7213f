"""Mouth interior: when the inner lips part, paint the cavity *under* the lips.

Only pixels between the warped upper and lower inner-lip contours change (feathered inwards,
so the lips keep their own edges). Layers, back to front: a dark cavity in a dark version of
the lip colour, darker with opening and towards the corners; a tongue hint low in the mouth;
the lower teeth as a thin band just above the lower lip (mostly hidden); the upper teeth hanging
from under the upper lip, with a soft shadowed top edge, receding into shadow at the sides, with
soft shading between incisors. Colours come from the portrait: teeth from the sclera and skin
(desaturated, lit like the face), the cavity and tongue from the lips.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from vitaphone.core.motion import geometry as geo
from vitaphone.core.motion.types import CHANNELS
from vitaphone.core.render import regions as rg
from vitaphone.core.render.raster import (
    between,
    catmull_rom_matrix,
    curve_y_at,
    smoothstep,
    union_box,
)

UPPER_TEETH_SHOW_IOD = 0.075  # upper incisors show this far below the relaxed upper lip
LOWER_TEETH_SHOW_IOD = 0.035
TEETH_GAP_SHARE = 0.6
TOOTH_WIDTH_IOD = 0.125  # central incisor width
LIP_SHADOW_IOD = 0.025  # contact shadow of the lips on the opening's edges
_SPLINE = catmull_rom_matrix(len(rg.LIP_INNER_UPPER), 4)


@dataclass(frozen=True)
class MouthStyle:
    """Colours (3,) float 0..255 and sizes in crop px."""

    cavity: torch.Tensor
    tongue: torch.Tensor
    teeth: torch.Tensor
    iod_px: float
    rest_gap_px: float  # the portrait's own largest inner-lip gap


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array([0.299, 0.587, 0.114])


def mouth_style(crop: np.ndarray, lm: np.ndarray, iod_px: float) -> MouthStyle:
    """Sample the portrait's colours. crop (H, W, 3) uint8; lm (468, 3) crop px."""
    xy = lm[:, :2].astype(np.float64)
    lips = np.concatenate(
        [
            rg.region_pixels(
                crop, xy[list(rg.LIP_OUTER_UPPER + tuple(reversed(rg.LIP_MID_UPPER)))]
            ),
            rg.region_pixels(
                crop, xy[list(rg.LIP_OUTER_LOWER + tuple(reversed(rg.LIP_MID_LOWER)))]
            ),
        ]
    )
    skin = np.concatenate([rg.region_pixels(crop, xy[list(g)]) for g in (rg.CHEEK_R, rg.CHEEK_L)])
    lip = np.median(lips, 0) if len(lips) else np.array([150.0, 90.0, 80.0])
    skin_c = np.median(skin, 0) if len(skin) else lip
    eye_px = np.concatenate(
        [rg.region_pixels(crop, xy[list(rg.eye_polygon(s))]) for s in ("right", "left")]
    )
    skin_l = float(_luma(skin_c))
    if len(eye_px) >= 8:
        luma = _luma(eye_px)
        sclera_l = float(np.percentile(luma, 85))
    else:
        sclera_l = skin_l * 1.2
    # Teeth: between the sclera and the lit skin in brightness (paintings often have dim,
    # tiny sclerae), tinted towards the skin (the scene's light) and desaturated.
    # Teeth sit in the mouth's shade: about as bright as the lit skin, never glowing white.
    teeth_l = float(np.clip(0.4 * sclera_l + 0.6 * skin_l, 0.9 * skin_l, 225.0))
    tint = skin_c / max(skin_l, 1.0)
    teeth = teeth_l * (0.4 + 0.6 * tint) * np.array([1.0, 0.98, 0.93])
    # Cavity: a dark version of the lip colour, as dark as the face's own deepest shadows
    # (nostrils, lash line) so a low-contrast painting does not get a hole blacker than itself.
    face = rg.region_pixels(crop, xy[list(rg.FACE_OVAL)])
    dark_l = float(np.percentile(_luma(face), 2)) if len(face) else 30.0
    ratio = float(np.clip(dark_l / max(float(_luma(lip)), 1.0), 0.22, 0.6))
    cavity = lip * ratio * np.array([1.15, 0.85, 0.8])
    tongue = lip * np.array([0.85, 0.6, 0.58])
    t = lambda a: torch.as_tensor(np.clip(a, 0, 255), dtype=torch.float32)
    rest_gap = float((xy[list(rg.LIP_INNER_LOWER), 1] - xy[list(rg.LIP_INNER_UPPER), 1]).max())
    return MouthStyle(t(cavity), t(tongue), t(teeth), iod_px, max(rest_gap, 0.0))


def _to(style: MouthStyle, device: torch.device) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    return (
        style.cavity.to(device).view(1, 3, 1, 1),
        style.tongue.to(device).view(1, 3, 1, 1),
        style.teeth.to(device).view(1, 3, 1, 1),
    )


def composite_mouth(
    img: torch.Tensor, points: torch.Tensor, values: torch.Tensor, style: MouthStyle
) -> torch.Tensor:
    """img (B, H, W, 3) uint8 ROI (changed in place and returned), points (B, 468, 2) ROI px,
    values (B, len(CHANNELS)) channel values."""
    spline = _SPLINE.to(points.device)
    upper = spline @ points[:, list(rg.LIP_INNER_UPPER)]  # smooth curves: no polygon corners
    lower = spline @ points[:, list(rg.LIP_INNER_LOWER)]
    gap = ((lower - upper)[..., 1]).amax(1)  # (B,) largest vertical opening, px
    # A portrait with parted lips keeps its own mouth until the lips open further.
    grow = smoothstep((gap - style.rest_gap_px - 0.3) / (0.03 * style.iod_px + 1.0))  # (B,)
    if float(grow.max()) <= 0.0:
        return img
    iod = style.iod_px
    _, height, width, _ = img.shape
    x0, y0, x1, y1 = union_box(torch.cat([upper, lower], 1), 0.06 * iod + 2, height, width)
    if x1 - x0 < 2 or y1 - y0 < 2:
        return img
    dev, dt = img.device, torch.float32
    xs = torch.arange(x0, x1, device=dev, dtype=dt)
    ys = torch.arange(y0, y1, device=dev, dtype=dt)
    top, valid_t = curve_y_at(upper, xs)
    bottom, valid_b = curve_y_at(lower, xs)
    valid = valid_t & valid_b & (bottom > top)
    feather = max(0.8, min(0.025 * iod, 0.3 * float(gap.max())))
    # The feather straddles the lip edge: the warp leaves the stretched lip seam (the darkest
    # line of a closed mouth) just inside the opening, and it must not show as an outline.
    inside = between(top - feather, bottom + 0.7 * feather, valid, ys, feather) * grow.view(
        -1, 1, 1
    )
    layer = _interior(top, bottom, xs, ys, points, values, style, iod)
    shadow = _lip_shadow(top, bottom, valid, ys, iod) * grow.view(-1, 1, 1)
    patch = img[:, y0:y1, x0:x1].permute(0, 3, 1, 2).to(dt)
    patch = patch * (1 - shadow[:, None])
    patch = patch + inside[:, None] * (layer - patch)
    img[:, y0:y1, x0:x1] = patch.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1)
    return img


def _interior(top, bottom, xs, ys, points, values, style: MouthStyle, iod: float) -> torch.Tensor:
    """The mouth interior colour (B, 3, h, w) for the columns' lip curves top/bottom (B, w)."""
    cavity, tongue, teeth = _to(style, top.device)
    y = ys.view(1, -1, 1)
    gap = (bottom - top).clamp(min=1e-3)[:, None]  # (B, 1, w)
    t = (y - top[:, None]) / gap  # 0 at the upper lip, 1 at the lower lip
    centre_x = (points[:, 78, 0] + points[:, 308, 0]) / 2
    half_w = ((points[:, 308, 0] - points[:, 78, 0]) / 2).clamp(min=1.0)
    rel = ((xs[None] - centre_x[:, None]) / half_w[:, None]).abs()[:, None]  # (B, 1, w)
    opening = smoothstep(gap.amax(-1, keepdim=True) / (0.3 * iod))  # (B, 1, 1)
    # Cavity: darkest just under the teeth and towards the corners; deeper when wider open.
    depth = (
        (1.0 - 0.35 * opening) * (1 - 0.35 * smoothstep(rel)) * (0.75 + 0.25 * (t - 0.45).abs() * 2)
    )
    out = cavity * depth[:, None]
    # Tongue: a low, wide dome visible once the jaw drops.
    raise_up = values[:, CHANNELS.index("upper_lip_raise")].clamp(0, 1).view(-1, 1, 1)
    # Height above the lower lip, in units of the tongue's visible height (~35 % of the gap).
    ty = (bottom[:, None] - y) / (0.35 * gap + 1.0)
    dome = smoothstep((1 - (rel / 0.75) ** 2 - ty.clamp(min=0) ** 2) / 0.3)
    t_mask = dome * smoothstep((gap - 0.08 * iod) / (0.1 * iod)) * 0.9
    tongue_c = tongue * (0.55 + 0.45 * smoothstep(1 - ty))[:, None]
    out = out + t_mask[:, None] * (tongue_c - out)
    # Lower teeth: a thin band above the lower lip when open enough, in shadow.
    lt_h = LOWER_TEETH_SHOW_IOD * iod * smoothstep((gap - 0.1 * iod) / (0.15 * iod))
    lt = smoothstep((y - (bottom[:, None] - lt_h)) / max(0.8, 0.01 * iod)) * (
        1 - smoothstep(rel / 0.8)
    )
    out = out + (lt * 0.9)[:, None] * (teeth * 0.62 - out)
    # Upper teeth: from under the upper lip down to their edge, fixed to the skull, so a raised
    # upper lip shows more of them.
    ut_h = (UPPER_TEETH_SHOW_IOD + geo.UPPER_LIP_RAISE_IOD * raise_up) * iod
    # At most TEETH_GAP_SHARE of a column's gap: a dark line under the teeth keeps small
    # openings reading as parted lips.
    edge = top[:, None] + torch.minimum(ut_h * (1 - 0.35 * rel**2), TEETH_GAP_SHARE * gap)
    ut = smoothstep((edge - y) / max(0.8, 0.012 * iod)) * (1 - smoothstep((rel - 0.55) / 0.5))
    shade = (0.82 + 0.18 * smoothstep((y - top[:, None]) / (0.5 * ut_h + 1))) * (
        1 - 0.45 * smoothstep(rel)
    )
    gaps = _incisor_gaps(xs, centre_x, iod)[:, None]  # (B, 1, w)
    tooth = teeth * (shade * (1 - 0.12 * gaps))[:, None]
    return out + ut[:, None] * (tooth - out)


def _incisor_gaps(xs: torch.Tensor, centre_x: torch.Tensor, iod: float) -> torch.Tensor:
    """(B, w) 0..1 soft shading between teeth: at the midline, then each tooth width out.
    Wide and faint, so each tooth reads as rounded; thin dark lines read as a drawn comb."""
    d = (xs[None] - centre_x[:, None]) / (TOOTH_WIDTH_IOD * iod)
    # Teeth narrow towards the corners (laterals, canines): warp the distance a little.
    d = d.sign() * d.abs() ** 0.85
    frac = (d - d.round()).abs()  # 0 on a gap
    width = max(0.2, 1.5 / (TOOTH_WIDTH_IOD * iod))  # a fifth of a tooth, at least 1.5 px
    return torch.exp(-((frac / width) ** 2))


def _lip_shadow(top, bottom, valid, ys, iod: float) -> torch.Tensor:
    """Soft contact shadow just outside the opening (B, h, w), 0..0.3: small openings read as
    parted lips rather than as a drawn line."""
    y = ys.view(1, -1, 1)
    w = LIP_SHADOW_IOD * iod + 0.5
    above = torch.exp(-(((top[:, None] - y).clamp(min=0) / w) ** 2)) * (y < top[:, None])
    below = torch.exp(-(((y - bottom[:, None]).clamp(min=0) / (0.6 * w)) ** 2)) * (
        y > bottom[:, None]
    )
    open_ = smoothstep((bottom - top) / (0.03 * iod))[:, None]
    return (0.08 * above + 0.05 * below) * open_ * valid[:, None].to(y.dtype)
