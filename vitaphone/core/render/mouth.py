"""Mouth interior: when the inner lips part, paint what is *behind* the lips.

Only pixels between the warped upper and lower inner-lip contours change. From the lips
inwards: the lips' own inner edge (the portrait's lip pixels mirrored a little past the contour,
so the interior never eats the lips), then the interior, back to front:

* the cavity, a dark version of the lip colour, lit near the rim (light falls in from the front
  and from above) and dark at the back, brighter on the side away from the light (the face's
  lighting direction is read from the portrait's cheeks); a narrow slit stays dark;
* the tongue, a shaded dome fixed to the jaw, lit at its front, with a faint median groove;
  its tip rises to the upper teeth on tongue consonants (`tongue_tip`);
* the lower teeth, fixed to the jaw (they ride with the lower lip's centre);
* the upper teeth, fixed to the skull (they follow the nose base), hanging from under the upper
  lip: more of them shows the more the lips part or the upper lip rises.

Tongue and lower teeth fade in once the opening is wide enough. Teeth lie on an arch (edges
rising and receding into shadow towards the corners), softly shaded per tooth. Every colour
comes from the portrait: teeth from the sclera and the lit skin; cavity, walls and tongue in the
lips' hue, as dark as the face's deep shadows but bounded by the lit skin. A portrait with
parted lips keeps its own mouth wherever its lips have not opened further than they are. Lip
rounding (lip_round) also darkens the skin under the everted lower lip.
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

UPPER_TEETH_SHOW_IOD = 0.11  # upper incisal edge below the relaxed upper lip's inner edge
LOWER_TEETH_SHOW_IOD = 0.03  # lower incisal edge above the lower lip's inner edge
TEETH_ARCH_IOD = 0.035  # incisal edges rise this much at the mouth corners (the smile arc)
TEETH_GAP_SHARE = 0.6  # upper teeth fill at most this share of a column's opening
TOOTH_WIDTH_IOD = 0.125  # central incisor width
TOOTH_NOTCH_IOD = 0.012  # how far each upper tooth's rounded corners rise at the gaps
TONGUE_ABOVE_IOD = 0.03  # the tongue's top shows this far above the lower incisal edge
# Lower teeth and the tongue fade in over these openings, and sit low behind the lower lip: in
# speech-sized openings a real mouth shows mostly upper teeth over a dark cavity. Higher (0.055,
# 0.09, from 0.12 IOD) they filled the bottom half of the opening with lip-coloured tongue, and
# the judge (dlib) took its top for the lower lip and read openings smaller than the rig made
# them (frames dlib reads open >= 0.25 IOD on the pearl-earring girl: 13 -> 43,
# docs/mouth_interior.md).
LOWER_SHOW_GAP_IOD = (0.2, 0.15)
LIP_ROLL_IOD = (0.005, 0.01)  # inner-lip band (upper, lower) shown inside a wide opening
LIP_SHADOW_IOD = 0.025  # contact shadow of the lips on the opening's edges
POUT_SHADOW_IOD = 0.045  # shadow under the everted lower lip at lip_round 1
# A rest opening at least this wide (ramp start, width; IOD) keeps its own teeth when opening.
OWN_TEETH_GAP_IOD = (0.06, 0.04)
OWN_TEETH_MAX_STRETCH = 1.8  # up to this opening / rest opening (then fades out over 0.6)
OWN_UPPER_SHARE = 0.6  # the part of a rest opening under the upper lip (upper teeth) that stays
_SPLINE = catmull_rom_matrix(len(rg.LIP_INNER_UPPER), 4)
_SPLINE_OUTER = catmull_rom_matrix(len(rg.LIP_OUTER_LOWER), 3)
_SKULL = (2, 94)  # nose base: moves with the head only
_EYE_CORNERS = (33, 263)  # outer eye corners: the face's axis (blinks do not move them)
_LUMA = (0.299, 0.587, 0.114)


@dataclass(frozen=True)
class MouthStyle:
    """Colours (3,) float 0..255, sizes in crop px, teeth anchors in IOD along the face's
    vertical axis (from the nose base, + down)."""

    cavity: torch.Tensor  # the back of the mouth
    cavity_lit: torch.Tensor  # the cavity's walls near the lips
    tongue: torch.Tensor
    teeth: torch.Tensor
    iod_px: float
    rest_gap_px: torch.Tensor  # (N,) the portrait's own inner-lip gap along the lip spline
    light_x: float  # -1..1: + when the light comes from image right
    teeth_u: float  # midline of the teeth, from the nose base along the eye line
    upper_edge_v: float  # upper incisal edge at rest
    half_width_px: float  # the rest mouth's half width (inner corners)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb @ np.array(_LUMA)


def _toned(rgb: np.ndarray, luma: float) -> np.ndarray:
    """rgb scaled to the given luma (its hue and saturation kept)."""
    return rgb * (float(luma) / max(float(_luma(rgb)), 1.0))


def _axes(xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    ex = xy[_EYE_CORNERS[1]] - xy[_EYE_CORNERS[0]]
    ex = ex / max(float(np.linalg.norm(ex)), 1e-6)
    return ex, np.array([-ex[1], ex[0]])


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
    cheek_r, cheek_l = (rg.region_pixels(crop, xy[list(g)]) for g in (rg.CHEEK_R, rg.CHEEK_L))
    skin = np.concatenate([cheek_r, cheek_l])
    lip = np.median(lips, 0) if len(lips) else np.array([150.0, 90.0, 80.0])
    skin_c = np.median(skin, 0) if len(skin) else lip
    eye_px = np.concatenate(
        [rg.region_pixels(crop, xy[list(rg.eye_polygon(s))]) for s in ("right", "left")]
    )
    skin_l = float(_luma(skin_c))
    lip_l = max(float(_luma(lip)), 1.0)
    sclera_l = float(np.percentile(_luma(eye_px), 85)) if len(eye_px) >= 8 else skin_l * 1.2
    # Teeth: between the sclera and the lit skin in brightness (paintings often have dim,
    # tiny sclerae), a little brighter than the skin and a third tinted towards it (the scene's
    # light); capped below pure white. At the skin's own brightness and 0.6 of its tint they
    # read as grey-beige slabs beside real teeth (docs/mouth_sheet.png, last rows).
    teeth_l = float(np.clip(0.55 * sclera_l + 0.45 * skin_l, 1.05 * skin_l, 232.0))
    tint = skin_c / max(skin_l, 1.0)
    teeth = teeth_l * (0.67 + 0.33 * tint) * np.array([1.0, 0.985, 0.95])
    # Cavity: a dark version of the lip colour, as dark as the face's own deep shadows
    # (nostrils, lash line) so a low-contrast painting does not get a hole blacker than itself;
    # brightness bounded by the lit skin's (dark or hidden lips must not make a black hole).
    face = rg.region_pixels(crop, xy[list(rg.FACE_OVAL)])
    dark_l = float(np.percentile(_luma(face), 2)) if len(face) else 30.0
    cavity = _toned(lip * np.array([1.1, 0.8, 0.8]),
                    np.clip(dark_l, 0.23 * skin_l, 0.35 * skin_l))
    # The walls near the lips (in their shade) and the tongue (lit, lighter than the walls).
    lit_l = np.clip(0.6 * lip_l, 0.3 * skin_l, 0.45 * skin_l)
    cavity_lit = _toned(lip * np.array([1.0, 0.75, 0.72]), lit_l)
    tongue_l = np.clip(0.9 * lip_l, 0.6 * skin_l, 0.85 * skin_l)
    tongue = _toned(lip * np.array([1.0, 0.72, 0.7]), tongue_l)
    # The inside of the mouth is less saturated than the lips' own colour suggests (measured on
    # real talking mouths: a*, b* spread 3-8 in CIELAB): 40 % of the way to grey of its luma.
    grey = lambda c: float(_luma(c)) + 0.6 * (c - float(_luma(c)))
    cavity, cavity_lit, tongue = grey(cavity), grey(cavity_lit), grey(tongue)
    # Lighting direction: the brighter cheek faces the light (its median luma; CHEEK_R is the
    # subject's right, image left).
    if len(cheek_r) and len(cheek_l):
        lr, ll = float(np.median(_luma(cheek_r))), float(np.median(_luma(cheek_l)))
        light_x = float(np.clip(3.0 * (ll - lr) / max(ll + lr, 1.0), -1.0, 1.0))
    else:
        light_x = 0.0
    # Teeth anchors in the rest face, IOD units from the nose base.
    ex, ey = _axes(xy)
    base = xy[list(_SKULL)].mean(0)
    centre = (xy[13] + xy[14]) / 2
    upper_lip_v = float((xy[13] - base) @ ey) / iod_px
    t = lambda a: torch.as_tensor(np.clip(a, 0, 255), dtype=torch.float32)
    rest_gap = xy[list(rg.LIP_INNER_LOWER), 1] - xy[list(rg.LIP_INNER_UPPER), 1]
    rest_gap = (_SPLINE @ torch.as_tensor(rest_gap, dtype=torch.float32)).clamp(min=0)
    return MouthStyle(
        cavity=t(cavity),
        cavity_lit=t(cavity_lit),
        tongue=t(tongue),
        teeth=t(teeth),
        iod_px=iod_px,
        rest_gap_px=rest_gap,
        light_x=light_x,
        teeth_u=float((centre - base) @ ex) / iod_px,
        upper_edge_v=upper_lip_v + UPPER_TEETH_SHOW_IOD,
        half_width_px=float(np.linalg.norm(xy[308] - xy[78])) / 2,
    )


def tongue_tip(values: torch.Tensor) -> torch.Tensor:
    """(B,) 0..1 how far the tongue tip is raised to the upper teeth. A `tongue_tip` channel is
    used when the track has one; otherwise it is derived: tongue consonants (t, d, n, l, th)
    leave the lips unrounded, unclosed and untucked at a small-to-mid jaw opening."""
    if "tongue_tip" in CHANNELS:
        return values[:, CHANNELS.index("tongue_tip")].clamp(0, 1)
    ch = lambda name: values[:, CHANNELS.index(name)]
    jaw = ch("jaw_open").clamp(0, 1)
    free = (
        (1 - ch("lip_round").clamp(0, 1) * 2).clamp(0, 1)
        * (1 - ch("lip_close").clamp(0, 1) * 2).clamp(0, 1)
        * (1 - ch("lower_lip_tuck").clamp(0, 1) * 2).clamp(0, 1)
        * (1 - (ch("lip_spread") - 0.3).clamp(min=0) * 3).clamp(0, 1)
    )
    # Highest at the consonants' jaw (0.15-0.2), gone by an open vowel's 0.45.
    at_jaw = smoothstep((jaw - 0.06) / 0.08) * (1 - smoothstep((jaw - 0.22) / 0.23))
    return free * at_jaw


def composite_mouth(
    img: torch.Tensor, points: torch.Tensor, values: torch.Tensor, style: MouthStyle
) -> torch.Tensor:
    """img (B, H, W, 3) uint8 ROI (changed in place and returned), points (B, 468, 2) ROI px,
    values (B, len(CHANNELS)) channel values."""
    spline = _SPLINE.to(points.device)
    upper = spline @ points[:, list(rg.LIP_INNER_UPPER)]  # smooth curves: no polygon corners
    lower = spline @ points[:, list(rg.LIP_INNER_LOWER)]
    gap = ((lower - upper)[..., 1]).amax(1)  # (B,) largest vertical opening, px
    # A portrait with parted lips keeps its own mouth (its own teeth) wherever the lips have
    # not opened further than they are: each spline sample (column) against its rest gap.
    rest = style.rest_gap_px.to(points.device)
    opened = (lower - upper)[..., 1] - rest - 0.3  # (B, N) px
    pout = values[:, CHANNELS.index("lip_round")].clamp(0, 1)  # (B,)
    # Only frames with an opening or a pout are drawn (and boxed): closed ones are left as is.
    active = (opened.amax(1) > 0) | (pout > 0.02)
    sel = active.nonzero().squeeze(1)
    if len(sel) == 0:
        return img
    if len(sel) < len(active):
        upper, lower, gap, opened, pout = upper[sel], lower[sel], gap[sel], opened[sel], pout[sel]
        points, values = points[sel], values[sel]
    iod = style.iod_px
    dev, dt = img.device, torch.float32
    _, height, width, _ = img.shape

    def region(pts: torch.Tensor, pad: float):
        """The box around pts over the drawn frames: (x0, y0, x1, y1, xs, ys) or None."""
        x0, y0, x1, y1 = union_box(pts, pad, height, width)
        if x1 - x0 < 2 or y1 - y0 < 2:
            return None
        xs = torch.arange(x0, x1, device=dev, dtype=dt)
        return x0, y0, x1, y1, xs, torch.arange(y0, y1, device=dev, dtype=dt)

    if float(pout.max()) > 0.02:  # its own box: under the lower lip, outside the opening's
        outer = _SPLINE_OUTER.to(points.device) @ points[:, list(rg.LIP_OUTER_LOWER)]
        box = region(outer, POUT_SHADOW_IOD * 1.5 * iod + 2)
        if box is not None:
            x0, y0, x1, y1, xs, ys = box
            shade = 1 - _pout_shadow(outer, pout, xs, ys, iod)  # (B, h, w)
            patch = img[sel, y0:y1, x0:x1].to(dt) * shade[..., None]
            img[sel, y0:y1, x0:x1] = patch.round().clamp(0, 255).to(torch.uint8)
    if float(opened.max()) > 0.0:
        box = region(torch.cat([upper, lower], 1), 0.06 * iod + 2)
        if box is not None:
            x0, y0, x1, y1, xs, ys = box
            patch = img[sel, y0:y1, x0:x1].permute(0, 3, 1, 2).to(dt)
            grow_at = torch.stack([(upper[..., 0] + lower[..., 0]) / 2, opened], -1)  # (B, N, 2)
            grow = smoothstep(curve_y_at(grow_at, xs)[0] / (0.03 * iod + 1.0))  # (B, w)
            rest_at = torch.stack([grow_at[..., 0], rest.expand_as(opened)], -1)
            rest_col = curve_y_at(rest_at, xs)[0]  # (B, w) the portrait's own gap per column
            patch = _open_mouth(patch, upper, lower, gap, grow, rest_col, xs, ys, points,
                                values, style)
            img[sel, y0:y1, x0:x1] = (
                patch.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1)
            )
    return img


def _open_mouth(patch, upper, lower, gap, grow, rest_col, xs, ys, points, values,
                style: MouthStyle):
    """The opening between the inner-lip curves: inner-lip bands, then the interior; a mouth
    parted at rest keeps its own teeth (see _own_teeth)."""
    iod = style.iod_px
    top, valid_t = curve_y_at(upper, xs)
    bottom, valid_b = curve_y_at(lower, xs)
    valid = valid_t & valid_b & (bottom > top)
    col_gap = (bottom - top).clamp(min=0)  # (B, w)
    feather = max(0.8, min(0.025 * iod, 0.3 * float(gap.max())))
    # Inner-lip bands: each lip's vermilion continues past the contour into the mouth.
    opening = smoothstep(gap / (0.15 * iod))[:, None]  # (B, 1)
    band_u = torch.minimum(LIP_ROLL_IOD[0] * iod * opening, 0.18 * col_gap)
    band_l = torch.minimum(LIP_ROLL_IOD[1] * iod * opening, 0.22 * col_gap)
    top_i, bottom_i = top + band_u, bottom - band_l
    lips = _lip_bands(patch, top, bottom, band_u, band_l, ys, feather)
    layer = _interior(top_i, bottom_i, xs, ys, points, values, style)
    # The outer feather straddles the lip edge: the warp leaves the stretched lip seam (the
    # darkest line of a closed mouth) just inside the opening, and it must not show as an outline.
    g = grow[:, None]  # (B, 1, w)
    inside = between(top - feather, bottom + 0.7 * feather, valid, ys, feather) * g
    inner = between(top_i, bottom_i, valid, ys, max(0.8, 0.6 * feather))
    content = lips + inner[:, None] * (layer - lips)
    content = _own_teeth(patch, content, top, bottom, rest_col, ys, style)
    shadow = _lip_shadow(top, bottom, valid, ys, iod) * g
    patch = patch * (1 - shadow[:, None])
    return patch + inside[:, None] * (content - patch)


def _own_teeth(patch, content, top, bottom, rest_col, ys, style: MouthStyle) -> torch.Tensor:
    """A portrait whose lips are parted at rest (a smile showing teeth) keeps its own teeth as
    the mouth opens further: its upper OWN_UPPER_SHARE of the rest opening stays under the upper
    lip and the rest rides on the lower lip (the jaw), un-stretched, with our cavity between.
    The warp stretches the rest opening evenly between the lips (the control triangles span
    it), so the rest pixel d px under the upper lip is found at d * gap / rest_gap."""
    iod = style.iod_px
    use = smoothstep((rest_col - OWN_TEETH_GAP_IOD[0] * iod) / (OWN_TEETH_GAP_IOD[1] * iod))
    if float(use.max()) <= 0.0:
        return content
    b, c, h, w = patch.shape
    y, y0 = ys.view(1, -1, 1), float(ys[0])
    gap = (bottom - top).clamp(min=1.0)[:, None]  # (B, 1, w)
    rest = rest_col.clamp(min=1.0)[:, None]
    stretch = (gap / rest).clamp(min=1.0)
    t, b_ = top[:, None], bottom[:, None]
    upper_end = t + OWN_UPPER_SHARE * rest  # where the own upper row ends, un-stretched
    lower_start = b_ - (1 - OWN_UPPER_SHARE) * rest
    src = torch.where(y < (upper_end + lower_start) / 2,
                      t + (y - t) * stretch, b_ - (b_ - y) * stretch)
    rows = (src - y0).round().clamp(0, h - 1).long()
    own = patch.gather(2, rows[:, None].expand(b, c, h, w))
    soft = max(1.0, 0.015 * iod)
    keep = torch.maximum(smoothstep((upper_end - y) / soft), smoothstep((y - lower_start) / soft))
    # Past about twice its rest gap the warp no longer stretches the opening evenly (the upper
    # lip's rise squeezes the row under it): our teeth take over there.
    keep = keep * use[:, None] * (1 - smoothstep((stretch - OWN_TEETH_MAX_STRETCH) / 0.6))
    return content + keep[:, None] * (own - content)


def _lip_bands(patch, top, bottom, band_u, band_l, ys, feather: float) -> torch.Tensor:
    """(B, 3, h, w): each lip's own pixels mirrored across its inner contour (skipping the
    seam), darker towards the inside of the mouth, where the lip curls away from the light."""
    b, c, h, w = patch.shape
    y = ys.view(1, -1, 1)
    y0 = float(ys[0])
    mid = (top + bottom)[:, None] / 2
    src = torch.where(
        y < mid,
        2 * top[:, None] - feather - y,
        2 * bottom[:, None] + feather - y,
    )
    rows = (src - y0).round().clamp(0, h - 1).long()  # (B, h, w)
    mirrored = patch.gather(2, rows[:, None].expand(b, c, h, w))
    u_up = ((y - top[:, None]) / (band_u[:, None] + 1e-3)).clamp(0, 1)
    u_lo = ((bottom[:, None] - y) / (band_l[:, None] + 1e-3)).clamp(0, 1)
    shade = torch.where(y < mid, 1 - 0.15 * u_up, 1 - 0.1 * u_lo)
    return mirrored * shade[:, None]


def _face_axes(points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Per frame: nose base (B, 2), eye-line unit vector ex (B, 2), face-down unit ey (B, 2)."""
    base = points[:, list(_SKULL)].mean(1)
    ex = points[:, _EYE_CORNERS[1]] - points[:, _EYE_CORNERS[0]]
    ex = ex / ex.norm(dim=-1, keepdim=True).clamp(min=1e-6)
    ey = torch.stack([-ex[:, 1], ex[:, 0]], -1)
    return base, ex, ey


@dataclass(frozen=True)
class _Layout:
    """Where things are in one batch's patch (tensors broadcast to (B, h, w))."""

    y: torch.Tensor  # (1, h, 1) row px
    top: torch.Tensor  # (B, 1, w) the opening's upper edge per column
    gap: torch.Tensor  # (B, 1, w) its height
    dx: torch.Tensor  # (B, 1, w) px from the teeth's midline
    rel_s: torch.Tensor  # (B, 1, w) dx in rest half-mouth widths (signed)
    upper_edge: torch.Tensor  # (B, 1, w) upper incisal edge (fixed to the skull)
    lower_edge: torch.Tensor  # (B, 1, w) lower incisal edge (fixed to the jaw)
    shows: torch.Tensor  # (B, 1, 1) 0..1 lower teeth and tongue shown (wide enough opening)
    soft: float  # edge softness px
    iod: float

    @property
    def rel(self) -> torch.Tensor:
        return self.rel_s.abs()


def _layout(top, bottom, xs, ys, points, style: MouthStyle) -> _Layout:
    """The face's frame in this frame: upper teeth fixed to the skull (the nose base), lower
    teeth and tongue riding on the jaw with the lower lip's centre: they keep their place behind
    it at every opening (no sliding), and fade in as it opens wide."""
    iod = style.iod_px
    x = xs.view(1, 1, -1)
    gap = (bottom - top).clamp(min=1e-3)[:, None]  # (B, 1, w)
    base, ex, ey = _face_axes(points)
    centre = base + style.teeth_u * iod * ex  # (B, 2) the teeth's midline on the nose-base line
    lower_v = ((points[:, 14] - base) * ey).sum(-1) / iod - LOWER_TEETH_SHOW_IOD  # (B,)
    lo, span = LOWER_SHOW_GAP_IOD
    shows = smoothstep((gap.amax(-1, keepdim=True) - lo * iod) / (span * iod))  # (B, 1, 1)
    slope = (ex[:, 1] / ex[:, 0].clamp(min=1e-3)).view(-1, 1, 1)  # the eye line's tilt
    dx = x - centre[:, 0].view(-1, 1, 1)
    rel_s = dx / style.half_width_px  # 1 at the rest mouth's inner corners

    def line(v: torch.Tensor) -> torch.Tensor:  # y (B, 1, w) of a face-horizontal line
        p = centre + (v * iod)[:, None] * ey  # (B, 2) its point on the midline
        return p[:, 1].view(-1, 1, 1) + slope * (x - p[:, 0].view(-1, 1, 1))

    arch = TEETH_ARCH_IOD * iod * rel_s.abs().clamp(max=1.3) ** 2  # the smile arc
    upper_edge = line(torch.full_like(lower_v, style.upper_edge_v)) - arch
    return _Layout(ys.view(1, -1, 1), top[:, None], gap, dx, rel_s, upper_edge,
                   line(lower_v) - arch, shows, max(0.8, 0.012 * iod), iod)  # fmt: skip


def _interior(top, bottom, xs, ys, points, values, style: MouthStyle) -> torch.Tensor:
    """The mouth interior colour (B, 3, h, w) for the columns' curves top/bottom (B, w)."""
    lay = _layout(top, bottom, xs, ys, points, style)
    dev = top.device
    out = _cavity(lay, style.cavity.to(dev).view(1, 3, 1, 1),
                  style.cavity_lit.to(dev).view(1, 3, 1, 1), style.light_x)  # fmt: skip
    out = _tongue(lay, out, style.tongue.to(dev).view(1, 3, 1, 1), tongue_tip(values), style)
    teeth = style.teeth.to(dev).view(1, 3, 1, 1)
    out = _lower_teeth(lay, out, teeth)
    return _upper_teeth(lay, out, teeth, style.light_x)


def _cavity(lay: _Layout, dark, lit_colour, light_x: float) -> torch.Tensor:
    """Lit near the rim (more from above: the floor and the lower lip's side), dark at the back;
    the wall across from the light is brighter; a narrow slit lets no light in."""
    t = (lay.y - lay.top) / lay.gap  # 0 at the upper lip, 1 at the lower lip
    rim = ((2 * t - 1) ** 2 + (lay.rel / 1.05) ** 2).clamp(max=1.0)
    slit = smoothstep(lay.gap / (0.2 * lay.iod))  # (B, 1, w)
    side = 1 - 0.5 * light_x * lay.rel_s.clamp(-1, 1)  # (B, 1, w)
    lit = (rim * (0.55 + 0.45 * t.clamp(0, 1)) * side).clamp(0, 1) * slit
    core = 1 - smoothstep(rim / 0.3)  # the throat: darkest in the middle of a wide opening
    # The throat darkens 30 %, not 55 %: with the tongue and lower teeth now low, more of it
    # shows, and at 55 % 10-19 % of an open interior was near-black (real mouths 0-11 %).
    back = dark * (1 - core * (0.3 * slit))[:, None]
    return back + lit[:, None] * (lit_colour - back)


def _tongue(lay: _Layout, out, colour, tip: torch.Tensor, style: MouthStyle) -> torch.Tensor:
    """A dome behind the lower teeth, lit at its front, with a median groove; its tip rises to
    the upper teeth on tongue consonants (tip (B,) 0..1)."""
    iod, rel = lay.iod, lay.rel
    tip = tip.view(-1, 1, 1)
    body = lay.lower_edge - TONGUE_ABOVE_IOD * iod + 0.06 * iod * rel**2
    tip_top = lay.upper_edge + 0.01 * iod + (lay.lower_edge - lay.upper_edge) * (rel / 0.5) ** 4
    surface = body - tip * (body - tip_top).clamp(min=0)  # (B, 1, w)
    mask = smoothstep((lay.y - surface) / lay.soft) * (
        (1 - smoothstep((rel - 0.85) / 0.3)) * torch.maximum(lay.shows, tip)
    )
    depth = ((lay.y - surface) / (0.08 * iod)).clamp(0, 1)  # lit front edge, darker behind
    across = (  # (B, 1, w): groove, rounding away at the sides, side light, a slit's shade
        (1 - 0.12 * torch.exp(-((lay.dx / (0.04 * iod)) ** 2)))
        * (1 - 0.3 * smoothstep(rel))
        * (1 - 0.12 * style.light_x * lay.rel_s.clamp(-1, 1))
        * (0.62 + 0.38 * smoothstep(lay.gap / (0.25 * iod)))  # a slit lets less light in
        * (0.85 + 0.15 * smoothstep(1 - (surface - lay.top) / lay.gap))
    )
    shade = (0.9 + 0.1 * (1 - depth)) * across
    return out + mask[:, None] * (colour * shade[:, None] - out)


def _lower_teeth(lay: _Layout, out, teeth) -> torch.Tensor:
    """From their edge down behind the lower lip: lit at the edge, shaded where the lip
    overhangs them, narrower than the upper row."""
    rel = lay.rel
    mask = smoothstep((lay.y - lay.lower_edge) / lay.soft) * (
        (1 - smoothstep((rel - 0.45) / 0.35)) * lay.shows
    )
    below = ((lay.y - lay.lower_edge) / (LOWER_TEETH_SHOW_IOD * lay.iod)).clamp(0, 1)
    across = 1 - 0.12 * _incisor_gaps(lay.dx, 0.8 * TOOTH_WIDTH_IOD * lay.iod)
    shade = ((0.85 - 0.25 * smoothstep(rel)) - 0.25 * below) * across
    return out + mask[:, None] * (teeth * shade[:, None] - out)


def _upper_teeth(lay: _Layout, out, teeth, light_x: float) -> torch.Tensor:
    """From under the upper lip down to their edge, at most TEETH_GAP_SHARE of the opening: a
    dark line under them keeps small openings reading as parted lips."""
    rel = lay.rel
    gaps = _incisor_gaps(lay.dx, TOOTH_WIDTH_IOD * lay.iod)
    # Each tooth's tip is rounded at its corners: the edge rises a little at every gap, so the
    # row reads as separate incisors, not one slab.
    edge = torch.minimum(lay.upper_edge, lay.top + TEETH_GAP_SHARE * lay.gap)
    edge = edge - TOOTH_NOTCH_IOD * lay.iod * gaps * smoothstep(lay.gap / (0.08 * lay.iod))
    mask = smoothstep((edge - lay.y) / lay.soft) * (1 - smoothstep((rel - 0.6) / 0.5))
    down = ((lay.y - lay.top) / (edge - lay.top).clamp(min=1.0)).clamp(0, 1)
    across = (  # (B, 1, w)
        (1 - 0.5 * smoothstep(rel / 1.1))  # the arch turns away into the cheeks' shadow
        * (1 + 0.1 * light_x * lay.rel_s.clamp(-1, 1))  # convex: the side facing the light
        * (1 - 0.2 * gaps)
    )
    shade = (
        (0.72 + 0.28 * smoothstep(down / 0.45))  # the upper lip's shadow on the gums' side
        * (1 - 0.1 * smoothstep((down - 0.8) / 0.2))  # translucent incisal edge
        * across
    )
    return out + mask[:, None] * (teeth * shade[:, None] - out)


def _incisor_gaps(dx: torch.Tensor, tooth_px: float) -> torch.Tensor:
    """0..1 soft shading between teeth (same shape as dx, px from the midline): at the midline,
    then each tooth width out. Wide and faint, so each tooth reads as rounded; thin dark lines
    read as a drawn comb."""
    d = dx / tooth_px
    d = d.sign() * d.abs() ** 0.85  # teeth narrow towards the corners (laterals, canines)
    frac = (d - d.round()).abs()  # 0 on a gap
    width = max(0.2, 1.5 / tooth_px)  # a fifth of a tooth, at least 1.5 px
    return torch.exp(-((frac / width) ** 2))


def _lip_shadow(top, bottom, valid, ys, iod: float) -> torch.Tensor:
    """Soft contact shadow just outside the opening (B, h, w), 0..0.3: small openings read as
    parted lips rather than as a drawn line."""
    y = ys.view(1, -1, 1)
    w = LIP_SHADOW_IOD * iod + 0.5
    # Smoothstep fall-offs (about exp(-(d / w)^2), cheaper), zero on the opening's side.
    above = ((top[:, None] - y) / (1.6 * w)).clamp(min=0) + (y >= top[:, None])
    below = ((y - bottom[:, None]) / (0.96 * w)).clamp(min=0) + (y <= bottom[:, None])
    above, below = 1 - smoothstep(above), 1 - smoothstep(below)
    open_ = smoothstep((bottom - top) / (0.03 * iod))[:, None]
    return (0.08 * above + 0.05 * below) * open_ * valid[:, None].to(y.dtype)


def _pout_shadow(outer, pout, xs, ys, iod: float) -> torch.Tensor:
    """(B, h, w) 0..0.2: the shadow an everted (rounded, protruded) lower lip casts on the skin
    under it, strongest just below the lip's outer contour, fading towards the corners."""
    edge, valid = curve_y_at(outer, xs)
    y = ys.view(1, -1, 1)
    below = (y - edge[:, None]).clamp(min=0) / (POUT_SHADOW_IOD * iod)
    fall = (1 - smoothstep((below - 0.35).abs() / 0.75)) * (y > edge[:, None])
    span = (outer[:, -1, 0] - outer[:, 0, 0]).abs().clamp(min=1.0)  # (B,)
    mid_x = (outer[:, -1, 0] + outer[:, 0, 0]) / 2
    along = 1 - smoothstep(((xs[None] - mid_x[:, None]).abs() / (0.5 * span[:, None]) - 0.4) / 0.6)
    return 0.2 * pout.view(-1, 1, 1) * fall * (along * valid.to(along.dtype))[:, None]
