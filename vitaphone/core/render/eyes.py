"""Eyes: a closing lid made of the portrait's own lid skin; an iris that moves with the gaze.

Once per portrait (`eye_style`, numpy/OpenCV on the crop), per eye:
* the painted upper-lid edge: the skin-to-lash edge found per column near the mesh's lid (the
  mesh's lid points often sit a little inside or outside the painted margin), fitted as a
  smooth offset from the mesh curve; the lid's skin runs from there up to a crease line (the
  mesh ring between lid and brow);
* the iris: the darkest disc inside the painted opening (a masked template match of darkness,
  disc against the ring around it), kept only when it stands out from the white of the eye;
* a "clean" eyeball: the eye with that iris painted over in the sclera's own colour.

Per batch of frames, in the eye's rest frame (a similarity from the current eye corners back
to the portrait's, so head motion is followed), all batched tensor math:
* between the crease and the current lid edge, the portrait's lid skin is stretched down: the
  part near the crease barely moves, the fold below it unfolds; the painted lash margin at
  the bottom thins as the lid closes into a lash line at the edge; the lid is shaded as it
  curves over the eyeball (darker towards its edge, lit from the portrait's light side);
* below the lid edge the eye is the portrait's own, unmoved (nothing is darkened);
* with gaze, only an iris disc moves inside the opening, the clean sclera shows where it was,
  and the current lids clip it.
Frames with neither blink nor gaze are the plain warp.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
import torch
import torch.nn.functional as F

from vitaphone.core.motion import geometry as geo
from vitaphone.core.motion.types import CHANNELS
from vitaphone.core.render import regions as rg
from vitaphone.core.render.raster import curve_y_at_each, smoothstep, union_box

LASH_IOD = 0.022  # thickness of the lash line at a closing lid's edge
# A closed lid's lash line (opacity) and its darkening towards the edge: a darker line and
# lid (0.85, 0.25) cost identity (dlib distance on a closed eye, mean of 9 portraits 0.213;
# 0.204 here) and read drawn-on; below ~0.4 the line fades into the skin on pale faces.
LASH_OPACITY = 0.55
LID_SHADE = 0.12
LID_SMOOTH_IOD = 0.015  # tap spacing along a closed lid (0: no smoothing)
_SMOOTH_TAPS = (-2, -1, 0, 1, 2)
_SMOOTH_W = (0.054, 0.242, 0.4, 0.242, 0.054)  # a Gaussian, one tap spacing wide
GAZE_SHARE_Y = 0.5  # vertical glances move the lids too in life; here only the iris moves
IRIS_RADIUS_OF_WIDTH = 0.2  # iris radius / eye width (corner to corner): 11.7 mm / ~29 mm
_LUMA = np.array([0.299, 0.587, 0.114], np.float32)
# Mesh ring between the upper lid and the brow (outer to inner corner): the lid's crease line.
_CREASE_R = (113, 225, 224, 223, 222, 221, 189)
_CREASE_L = (342, 445, 444, 443, 442, 441, 413)
_EYES = (
    (rg.EYE_R_UPPER, rg.EYE_R_LOWER, _CREASE_R, "blink_right"),
    (rg.EYE_L_UPPER, rg.EYE_L_LOWER, _CREASE_L, "blink_left"),
)


@dataclass(frozen=True)
class OneEye:
    """One eye of the portrait, crop px. tables (5, G) per column x0 + i: crease, end of the lid
    skin (above the lash margin and the mesh's lid), painted lid edge (where the eye begins
    below the lash margin), mesh upper and lower lid; corners (2, 2) outer, inner; iris (cx,
    cy, r) with r = 0 when no iris was found (no gaze then); iris_rgb (3,) its colour; clean
    (3, h, w): the eye without its iris, its top-left corner at clean_xy."""

    x0: int
    tables: torch.Tensor
    corners: torch.Tensor
    iris: tuple[float, float, float]
    iris_rgb: torch.Tensor
    clean: torch.Tensor
    clean_xy: tuple[int, int]


@dataclass(frozen=True)
class EyeStyle:
    """lash: (3,) float 0..255 lash colour; eyes: the subject's right, left; light_x: -1..1,
    + when the portrait's light comes from image right (its right cheek is brighter)."""

    lash: torch.Tensor
    eyes: tuple[OneEye, OneEye]
    light_x: float
    iod_px: float


# --- once per portrait ------------------------------------------------------------------------
def eye_style(crop: np.ndarray, lm: np.ndarray, iod_px: float) -> EyeStyle:
    xy = lm[:, :2].astype(np.float64)
    luma = cv2.GaussianBlur(crop.astype(np.float32) @ _LUMA, (0, 0), max(0.5, 0.006 * iod_px))
    px = np.concatenate(
        [rg.region_pixels(crop, xy[list(rg.eye_polygon(s))]) for s in ("right", "left")]
    )
    if len(px) >= 8:
        lash = px[px @ _LUMA <= np.percentile(px @ _LUMA, 10)].mean(0) * 0.7
    else:
        lash = np.array([40.0, 30.0, 28.0])
    eyes = tuple(_one_eye_style(crop, luma, xy, up, lo, crease, iod_px)
                 for up, lo, crease, _ in _EYES)  # fmt: skip
    cheeks = [np.median(rg.region_pixels(crop, xy[list(c)]) @ _LUMA)
              for c in (rg.CHEEK_R, rg.CHEEK_L)]  # fmt: skip
    light_x = float(np.clip(5 * (cheeks[1] - cheeks[0]) / max(sum(cheeks), 1.0), -1, 1))
    return EyeStyle(
        torch.as_tensor(lash, dtype=torch.float32),
        eyes,  # type: ignore[arg-type]
        light_x,
        iod_px,
    )


def _curve(pts: np.ndarray, xs: np.ndarray) -> np.ndarray:
    order = np.argsort(pts[:, 0])
    return np.interp(xs, pts[order, 0], pts[order, 1])


def _one_eye_style(crop, luma, xy, upper, lower, crease_i, iod: float) -> OneEye:
    up, lo = xy[list(upper)], xy[list(lower)]
    xa, xb = sorted([up[0, 0], up[-1, 0]])
    x0 = int(np.floor(xa)) - 2
    xs = np.arange(x0, int(np.ceil(xb)) + 3, dtype=np.float64)
    top, bottom = _curve(up, xs), _curve(lo, xs)
    edge = top + _lid_edge_offset(luma, xs, top, (xa, xb), iod) + LASH_IOD * iod
    edge = np.minimum(edge, bottom)
    skin_end = np.minimum(edge - LASH_IOD * iod, top) - 0.01 * iod
    crease = np.clip(_curve(xy[list(crease_i)], xs), skin_end - 0.2 * iod, skin_end - 0.05 * iod)
    tables = np.stack([crease, skin_end, edge, top, bottom]).astype(np.float32)
    iris, iris_rgb, clean, clean_xy = _iris_and_clean(crop, luma, xs, edge, bottom, (xa, xb), iod)
    return OneEye(
        x0,
        torch.as_tensor(tables),
        torch.as_tensor(np.stack([up[0], up[-1]]), dtype=torch.float32),
        iris,
        torch.as_tensor(iris_rgb, dtype=torch.float32),
        torch.as_tensor(clean, dtype=torch.float32).permute(2, 0, 1).contiguous(),
        clean_xy,
    )


def _lid_edge_offset(luma, xs, top, span, iod: float) -> np.ndarray:
    """Per column, how far the painted lid margin's top (skin above, lashes below) sits from the
    mesh's upper lid (px, + down): the strongest downward luma drop near the mesh lid that has
    skin, not sclera, above it, fitted as (a + b u)(1 - u^2) (zero at the corners) with robust
    weights, so one noisy column (a wrinkle, a highlight) cannot bend it."""
    xa, xb = span
    u = np.clip((xs - (xa + xb) / 2) / max((xb - xa) / 2, 1e-3), -1, 1)
    ys = np.arange(-0.09 * iod, 0.04 * iod + 1e-6, 0.5)
    grid_x = np.repeat(xs[:, None], len(ys), 1).astype(np.float32)
    prof = cv2.remap(luma, grid_x, (top[:, None] + ys[None]).astype(np.float32), cv2.INTER_LINEAR)
    drop = prof[:, :-4] - prof[:, 4:]  # luma falling over 2 px going down
    above = prof[:, :-4]
    skin = np.median(prof[:, : len(ys) // 3])  # the lid skin well above the margin
    drop = drop * np.clip(1 - (above - skin) / 25.0, 0, 1)  # sclera above: not the lid's edge
    drop = drop * np.exp(-(((ys[2:-2] + 0.01 * iod) / (0.045 * iod)) ** 2))
    best = drop.argmax(1)
    found, strength = ys[2:-2][best], np.clip(drop.max(1), 0, None) * (1 - u**2)
    design = np.stack([1 - u**2, u * (1 - u**2)], 1)
    weight = strength.copy()
    coef = np.zeros(2)
    for _ in range(3):
        if weight.sum() <= 1e-6:
            return np.zeros_like(xs)
        coef, *_ = np.linalg.lstsq(design * weight[:, None], found * weight, rcond=None)
        res = np.abs(design @ coef - found)
        weight = strength / (1 + (res / (2 * (np.median(res) + 0.01 * iod))) ** 2)
    return np.clip(design @ coef, -0.09 * iod, 0.04 * iod)


def _iris_and_clean(crop, luma, xs, edge, bottom, span, iod: float):
    """The iris (cx, cy, r) in crop px (r = 0: none found), its colour, and the eye box with the
    iris replaced by sclera (h, w, 3) float and the box's top-left corner."""
    h_img, w_img = luma.shape
    bx0, bx1 = max(int(xs[0]), 0), min(int(xs[-1]) + 1, w_img)
    by0 = max(int(np.floor(edge.min() - 0.1 * iod)), 0)
    by1 = min(int(np.ceil(bottom.max() + 0.1 * iod)) + 1, h_img)
    box = crop[by0:by1, bx0:bx1].astype(np.float32)
    lum = luma[by0:by1, bx0:bx1]
    yy = np.arange(by0, by1)[:, None]
    cols = np.clip(np.arange(bx0, bx1) - int(xs[0]), 0, len(xs) - 1)
    opening = ((yy >= edge[cols][None]) & (yy <= bottom[cols][None])).astype(np.float32)
    none = ((0.0, 0.0, 0.0), np.zeros(3), box, (bx0, by0))
    base_radius = IRIS_RADIUS_OF_WIDTH * (span[1] - span[0])
    if base_radius < 2.5 or opening.sum() < 20:
        return none
    contrast, cx, cy, radius = _find_iris(lum, opening, base_radius)
    if contrast < 12.0:  # no dark disc standing out from the white: dim or tiny eyes
        return none
    dist = np.hypot(np.arange(box.shape[1])[None] - cx, np.arange(box.shape[0])[:, None] - cy)
    in_iris = (dist <= radius) & (opening > 0)
    iris_rgb = np.median(box[in_iris], 0)
    sclera_px = box[(dist > 1.3 * radius) & (opening > 0)]
    if len(sclera_px) < 4:
        return none
    lum_s = sclera_px @ _LUMA
    lo, hi = np.percentile(lum_s, [40, 85])  # the white of the eye as lit, not a catchlight
    sclera = np.median(sclera_px[(lum_s >= lo) & (lum_s <= hi)], 0)
    # Fill the iris (and a pixel of limbus) from the sclera around it, the lids set to sclera
    # so no lash colour bleeds in; the lid's shadow on the eyeball is added back on top.
    src = np.where(opening[..., None] > 0, box, sclera).astype(np.uint8)
    hole = ((dist <= 1.1 * radius + 1.5) & (opening > 0)).astype(np.uint8)
    filled = cv2.inpaint(src, hole, max(2.0, 0.3 * radius), cv2.INPAINT_TELEA).astype(np.float32)
    shade = 1 - 0.2 * np.exp(-np.clip(yy - edge[cols][None], 0, None) / max(0.03 * iod, 1.0))
    filled = np.where(hole[..., None] > 0, filled * shade[..., None], box)
    iris = (float(bx0 + cx), float(by0 + cy), float(radius))
    return iris, iris_rgb, filled, (bx0, by0)


def _find_iris(lum, opening, base_radius: float) -> tuple[float, int, int, float]:
    """The darkest disc in the opening: (contrast, cx, cy, radius), box px. Darkness (below the
    opening's bright tones) averaged over the visible part of a disc, minus that of the ring
    around it, at four radii; discs mostly under the lids are discounted."""
    bright = np.percentile(lum[opening > 0], 90)
    dark = np.clip(bright - lum, 0, None) * opening
    filt = lambda img, k: cv2.filter2D(img, -1, k, borderType=cv2.BORDER_CONSTANT)
    best = (-1.0, 0, 0, 0.0)
    for radius in np.array([0.65, 0.8, 1.0, 1.2]) * base_radius:  # irises vary against eyes
        r, ring_r = int(np.ceil(radius)), int(np.ceil(1.6 * radius))
        disc = (np.hypot(*np.mgrid[-r : r + 1, -r : r + 1]) <= radius).astype(np.float32)
        d_ring = np.hypot(*np.mgrid[-ring_r : ring_r + 1, -ring_r : ring_r + 1])
        ring = ((d_ring > radius + 1) & (d_ring <= 1.6 * radius)).astype(np.float32)
        seen_disc, seen_ring = filt(opening, disc), filt(opening, ring)
        mean_disc = filt(dark, disc) / np.maximum(seen_disc, 1)
        mean_ring = filt(dark, ring) / np.maximum(seen_ring, 1)
        seen = np.clip(seen_disc / disc.sum(), 0, 1)
        score = (mean_disc - mean_ring) * np.sqrt(seen) * (seen >= 0.35)
        score = score * (seen_ring >= 0.15 * ring.sum())
        cy, cx = np.unravel_index(np.argmax(score), score.shape)
        if score[cy, cx] > best[0]:
            best = (float(score[cy, cx]), int(cx), int(cy), float(radius))
    return best


# --- per batch --------------------------------------------------------------------------------
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
    ).clamp(-1, 1)
    active = [float(values[:, CHANNELS.index(ch)].abs().max()) > 0.02 for *_, ch in _EYES]
    if not any(active) and float(gaze.abs().max()) < 0.02:
        return img
    travel = geo.GAZE_TRAVEL_IOD * style.iod_px
    gaze_px = gaze * torch.tensor([travel, travel * GAZE_SHARE_Y], device=img.device)
    points = points + torch.tensor(roi_xy, device=img.device, dtype=torch.float32)
    looking = gaze_px.abs().amax(1) / max(0.02 * style.iod_px, 1e-3)
    for (upper_i, lower_i, crease_i, channel), eye in zip(_EYES, style.eyes):
        blink = values[:, CHANNELS.index(channel)].clamp(0, 1)
        # Per frame, fade in with the blink or the gaze, so frames without either are the plain
        # warp whichever batch they fall in. Frames with a blink redraw the lid; frames with
        # only a gaze, the opening (cheaper); the rest are left alone.
        use = smoothstep(torch.maximum(blink, looking if eye.iris[2] > 0 else 0 * blink) / 0.05)
        for frames, rings in (
            (blink > 0.02, (upper_i, lower_i, crease_i)),
            ((blink <= 0.02) & (use > 0), (upper_i, lower_i, ())),
        ):
            idx = frames.nonzero()[:, 0]
            if len(idx):
                _one_eye(img, idx, points[idx], rings, eye, gaze_px[idx], use[idx], style,
                         source, roi_xy)  # fmt: skip
    return img


def _one_eye(img, idx, points, rings, eye: OneEye, gaze_px, use, style: EyeStyle, source,
             roi_xy) -> None:  # fmt: skip
    """Redraw frames idx (b,) of img around one eye. points (b, 468, 2) crop px; use (b,) how
    much of the redrawn eye to show; gaze_px (b, 2) crop px. Without crease points (a glance
    only) just the opening is redrawn."""
    upper_i, lower_i, crease_i = rings
    with_lid = len(crease_i) > 0
    iod, dev = style.iod_px, img.device
    _, height, width, _ = img.shape
    rx, ry = roi_xy
    near = torch.cat([points[:, upper_i], points[:, lower_i], points[:, crease_i]], 1)
    x0, y0, x1, y1 = union_box(near - torch.tensor([rx, ry], device=dev), 0.05 * iod + 2,
                               height, width)  # fmt: skip
    if x1 - x0 < 3 or y1 - y0 < 3:
        return
    xs = torch.arange(x0 + rx, x1 + rx, device=dev, dtype=torch.float32)
    ys = torch.arange(y0 + ry, y1 + ry, device=dev, dtype=torch.float32)
    to_rest, scale = _rest_frame(points[:, [upper_i[0], upper_i[-1]]], eye.corners.to(dev))
    qx, qy = to_rest(xs[None, None, :], ys[None, :, None])  # (b, h, w) portrait px
    top_now, valid = curve_y_at_each(torch.stack(to_rest(*points[:, upper_i].unbind(-1)), -1), qx)
    bottom_now, valid_b = curve_y_at_each(torch.stack(to_rest(*points[:, lower_i].unbind(-1)), -1), qx)
    crease, skin_end, edge_src, top, bottom = _tables_at(eye, qx)
    closure = (1 - (bottom_now - top_now).clamp(min=0) / (bottom - top).clamp(min=1.0)).clamp(0, 1)
    # The lid's edge: the painted edge on an open eye, the mesh's lid line once closed.
    edge_now = torch.minimum(top_now + (edge_src - top) * (1 - closure), bottom_now)
    feather = max(0.6, 0.01 * iod)
    below_edge = smoothstep((qy - edge_now) / feather + 0.5)
    valid = (valid & valid_b).to(qx.dtype) * use.view(-1, 1, 1)
    weight = below_edge * smoothstep((bottom_now - qy) / feather + 0.5) * valid
    if with_lid:
        lid_y = _lid_source_y(qy, crease, skin_end, edge_src, edge_now, closure, LASH_IOD * iod)
        ball = _sample(source, torch.stack([qx, qy], -1))
        lid_rgb = _sample_along_lid(source, eye, qx, lid_y, crease, skin_end, closure, iod)
    else:
        ball = _sample(source, torch.stack([qx, qy], -1))
    if eye.iris[2] > 0 and float(gaze_px.abs().max()) > 0.02 * geo.GAZE_TRAVEL_IOD * iod:
        ball = _move_iris(ball, source, eye, qx, qy, gaze_px / scale[:, None])
    comp = ball
    if with_lid:
        xa, xb = sorted(float(v) for v in eye.corners[:, 0])
        lid_rgb = _shade_lid(lid_rgb, qx, qy, crease, edge_now, closure, (xa, xb), style)
        side = smoothstep(torch.minimum(qx - xa, xb - qx) / (0.04 * iod))
        in_lid = smoothstep((qy - crease) / (0.4 * (edge_now - crease).clamp(min=1.0)))
        weight = weight + in_lid * (1 - below_edge) * side * valid
        comp = lid_rgb + below_edge[:, None] * (ball - lid_rgb)
    patch = img[idx, y0:y1, x0:x1].permute(0, 3, 1, 2).to(torch.float32)
    patch = patch + weight[:, None] * (comp - patch)
    img[idx, y0:y1, x0:x1] = patch.clamp(0, 255).round().to(torch.uint8).permute(0, 2, 3, 1)


def _rest_frame(corners_now: torch.Tensor, corners_rest: torch.Tensor):
    """Per frame, the similarity taking the eye's current corners (b, 2, 2) back to the
    portrait's (2, 2): a function (x, y) -> (x, y) in portrait px for tensors broadcasting
    against (b, ...), and the scale (b,) (current px per portrait px)."""
    now = torch.complex(corners_now[..., 0], corners_now[..., 1])  # (b, 2)
    rest = torch.complex(corners_rest[:, 0], corners_rest[:, 1])
    scale = (now[:, 1] - now[:, 0]) / (rest[1] - rest[0])
    shift = now[:, 0] - scale * rest[0]

    def to_rest(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        z = torch.complex(x, y)
        view = (-1,) + (1,) * (z.dim() - 1)
        q = (z - shift.view(view)) / scale.view(view)
        return q.real.contiguous(), q.imag.contiguous()

    return to_rest, scale.abs()


def _shade_lid(lid_rgb, qx, qy, crease, edge_now, closure, span, style: EyeStyle):
    """A closing lid curves over the eyeball: darker towards its edge, a little lighter on the
    side the portrait's light comes from; a lash line along the edge."""
    xa, xb = span
    down = ((qy - crease) / (edge_now - crease).clamp(min=1.0)).clamp(0, 1)
    across = ((qx - (xa + xb) / 2) / max((xb - xa) / 2, 1e-3)).clamp(-1, 1)
    shade = 1 - closure * (LID_SHADE * down**1.5 - 0.05 * style.light_x * across)
    return _lash_line(lid_rgb * shade[:, None], qy - edge_now, closure, style)


def _lid_source_y(qy, crease, skin_end, edge_src, edge_now, closure, lash_px: float):
    """Where a lid pixel at rest-frame height qy takes its skin from. The skin between the
    crease and the lash margin unfolds: rows near the crease stay, the fold below stretches
    more towards the edge. The painted margin (lashes, and whatever the mesh's lid left of the
    eye) thins to lash_px as the lid closes and fades into the last row of skin: a painted
    margin stretched over a closed lid reads as a dark smear or a sclera strip; the lash line
    is drawn on it instead. Identity when edge_now == edge_src and closure == 0."""
    margin_src = edge_src - skin_end
    margin_now = margin_src + closure * (lash_px - margin_src)
    t_max = (edge_now - margin_now - crease).clamp(min=1.0)
    s_max = (skin_end - crease).clamp(min=1.0)
    delta = t_max - s_max  # how far the fold has unfolded
    power = (0.7 * t_max / delta.abs().clamp(min=1e-3)).clamp(1.0, 1.6)
    d = (qy - crease).clamp(min=0)
    skin = crease + d - delta * (d / t_max).clamp(max=1) ** power
    into = (d - t_max).clamp(min=0) * margin_src / margin_now.clamp(min=1e-3)
    margin = skin_end + into * (1 - closure)
    return torch.where(qy < crease, qy, torch.where(d < t_max, skin, margin))


def _sample_along_lid(source, eye: OneEye, qx, lid_y, crease, skin_end, closure, iod: float):
    """The lid skin at (qx, lid_y) (b, h, w), smoothed along the lid's own direction (taps at
    the same height between crease and skin end in neighbouring columns) by more as the lid
    closes: a few rows of skin stretched over the eye turn any wrinkle, lash or highlight into
    a column streak; along the lid they are averaged out."""
    step = LID_SMOOTH_IOD * iod * closure
    frac = (lid_y - crease) / (skin_end - crease).clamp(min=1.0)
    xs, ys = [], []
    for k in _SMOOTH_TAPS:
        xk = qx + k * step
        ck, sk = _tables_at(eye, xk, rows=(0, 1))
        xs.append(xk)
        ys.append(torch.where(lid_y < crease, lid_y, ck + frac * (sk - ck).clamp(min=1.0)))
    grid = torch.stack([torch.cat(xs, 1), torch.cat(ys, 1)], -1)
    taps = _sample(source, grid).chunk(len(_SMOOTH_TAPS), dim=2)
    w = torch.tensor(_SMOOTH_W, device=qx.device) / sum(_SMOOTH_W)
    return sum(wk * t for wk, t in zip(w, taps))


def _lash_line(lid_rgb, d, closure, style: EyeStyle) -> torch.Tensor:
    """A soft lash line just above the lid's edge (d = px from the edge, < 0 on the lid), on a
    closing lid only, never below the edge."""
    width = 0.5 * LASH_IOD * style.iod_px + 0.5
    line = torch.exp(-(((d + width) / width) ** 2)) * (d <= 0.5)
    a = (LASH_OPACITY * smoothstep((closure - 0.3) / 0.6) * line)[:, None]
    return lid_rgb + a * (style.lash.to(lid_rgb.device).view(1, 3, 1, 1) - lid_rgb)


def _move_iris(ball, source, eye: OneEye, qx, qy, gaze) -> torch.Tensor:
    """The eye with its iris disc moved by gaze (B, 2) rest px: the clean sclera everywhere, the
    iris sampled from where it was; iris rows hidden under the portrait's lid are mirrored from
    below the iris centre, or take the iris colour."""
    cx, cy, r = eye.iris
    dev = ball.device
    xa, xb = sorted(float(v) for v in eye.corners[:, 0])
    # The iris stops short of the corners, some white left beyond it (the planner's glances,
    # at most 0.45 of the travel, stay inside this on most eyes).
    lo, hi = xa + r + 0.15 * (xb - xa), xb - r - 0.15 * (xb - xa)
    gx = (cx + gaze[:, 0]).clamp(min(cx, lo), max(cx, hi)) - cx
    ix, iy = qx - gx[:, None, None], qy - gaze[:, 1, None, None]
    edge_i, bottom_i = _tables_at(eye, ix, rows=(2, 4))
    seen = (iy >= edge_i) & (iy <= bottom_i)
    mirror = 2 * cy - iy
    iy_src = torch.where(seen, iy, mirror)
    seen_any = seen | ((mirror >= edge_i) & (mirror <= bottom_i))
    iris = _sample(source, torch.stack([ix, iy_src], -1))
    iris = torch.where(seen_any[:, None], iris, eye.iris_rgb.to(dev).view(1, 3, 1, 1))
    clean_x, clean_y = eye.clean_xy
    clean = _sample(eye.clean.to(dev), torch.stack([qx - clean_x, qy - clean_y], -1))
    disc = smoothstep(1.1 * r + 1.0 - torch.hypot(ix - cx, iy - cy))[:, None]
    moved = clean + disc * (iris - clean)
    amount = smoothstep(gaze.norm(dim=1) / max(0.15 * r, 0.3)).view(-1, 1, 1, 1)
    return ball + amount * (moved - ball)


def _tables_at(eye: OneEye, x: torch.Tensor, rows=(0, 1, 2, 3, 4)) -> list[torch.Tensor]:
    """The eye's per-column tables (crease, skin end, edge, top, bottom; or those `rows`) at
    crop columns x (any shape), linearly interpolated."""
    tables = eye.tables.to(x.device)[list(rows)]
    g = tables.shape[1]
    pos = (x - eye.x0).clamp(0, g - 1.001)
    i0 = pos.floor().long()
    f = pos - i0
    flat0, flat1 = i0.reshape(-1), (i0 + 1).reshape(-1)
    a, b = tables[:, flat0], tables[:, flat1]
    out = a + f.reshape(1, -1) * (b - a)
    return [row.view_as(x) for row in out]


def _sample(image: torch.Tensor, xy: torch.Tensor) -> torch.Tensor:
    """Bilinear samples of image (3, H, W) at px xy (B, h, w, 2) -> (B, 3, h, w)."""
    _, h, w = image.shape
    b, hh, ww, _ = xy.shape
    norm = torch.tensor([2.0 / max(w - 1, 1), 2.0 / max(h - 1, 1)], device=xy.device)
    grid = (xy * norm - 1).reshape(1, b * hh, ww, 2)
    out = F.grid_sample(
        image[None], grid, mode="bilinear", padding_mode="border", align_corners=True
    )
    return out.view(3, b, hh, ww).permute(1, 0, 2, 3)
