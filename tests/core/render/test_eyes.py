"""Eyes measured on real renders: a closing lid made of the portrait's own lid skin, a half-closed
eye that keeps its own colours below the lid, an iris that moves alone with the gaze."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from render_tracks import make_track

from vitaphone.core.face.analyze import analyze_face
from vitaphone.core.face.image_io import load_portrait_file
from vitaphone.core.face.types import Portrait
from vitaphone.core.render import RenderOptions, eyes, render_frames
from vitaphone.core.render import regions as rg
from vitaphone.core.render.renderer import prepare

OPTIONS = RenderOptions(device="cpu", max_side=1024, batch_size=8)
# Upper lid, lower lid and the mesh ring between lid and brow, per eye.
EYES = (
    (rg.EYE_R_UPPER, rg.EYE_R_LOWER, (113, 225, 224, 223, 222, 221, 189)),
    (rg.EYE_L_UPPER, rg.EYE_L_LOWER, (342, 445, 444, 443, 442, 441, 413)),
)
ASSETS = Path(__file__).resolve().parents[2] / "assets" / "portraits"
CLOSED = {"blink_left": 1.0, "blink_right": 1.0}


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _lids(prep, row: dict[str, float], upper, lower) -> tuple[np.ndarray, np.ndarray]:
    """The rig's upper and lower lid (N, 2) output px for one track row."""
    values = torch.as_tensor(make_track([row]).values)
    points = (prep.rig.points[None, :468, :2] + prep.rig.displace(values)[:, :468])[0].numpy()
    return points[list(upper)], points[list(lower)]


def _curve(pts: np.ndarray, xs: np.ndarray) -> np.ndarray:
    order = np.argsort(pts[:, 0])
    return np.interp(xs, pts[order, 0], pts[order, 1])


def _columns(upper: np.ndarray, share: float) -> np.ndarray:
    """Integer columns of the middle `share` of an eye."""
    xa, xb = sorted([upper[0, 0], upper[-1, 0]])
    mid, half = (xa + xb) / 2, share * (xb - xa) / 2
    return np.arange(int(np.ceil(mid - half)), int(mid + half) + 1)


@pytest.fixture(scope="module")
def portraits_2x():
    """Test portraits upscaled 2x (cubic): their eyes are 4-7 px tall at their own size, too
    few pixels to tell a textured lid from a flat one. Loaded once, on first use."""
    cache: dict[str, tuple[Portrait, object]] = {}

    def load(name: str):
        if name not in cache:
            rgb = load_portrait_file(ASSETS / name).rgb
            big = cv2.resize(rgb, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
            portrait = Portrait(big, name)
            cache[name] = (portrait, analyze_face(portrait))
        return cache[name]

    return load


def _region(xs: np.ndarray, top: np.ndarray, bottom: np.ndarray, height: int) -> np.ndarray:
    """Mask (height, len(xs)) of rows top <= y <= bottom per column."""
    yy = np.arange(height)[:, None]
    return (yy >= top[None]) & (yy <= bottom[None])


def _texture(luma: np.ndarray, xs: np.ndarray, mask: np.ndarray) -> float:
    """Spread of the differences between horizontal neighbours inside the mask: skin texture
    (pores, paint, wrinkles), blind to the lid's smooth shading."""
    cols = luma[:, xs[0] : xs[-1] + 1]
    return float(np.std(np.diff(cols, axis=1)[mask[:, 1:] & mask[:, :-1]]))


@pytest.mark.parametrize("name", ["woman_in_black_standing.jpg", "qing_emperor_painting.png"])
def test_a_closed_lid_carries_the_portraits_lid_texture(name, portraits_2x) -> None:
    """The skin that covers the eye near the closed lid line is the portrait's own lid skin, not
    a flat averaged colour: it is about as textured as the open eye's lid (the old fill kept
    20-45 % of the texture there)."""
    portrait, mesh = portraits_2x(name)
    prep = prepare(portrait, mesh, OPTIONS)
    closed = _luma(render_frames(portrait, mesh, make_track([CLOSED]), OPTIONS).rgb[0])
    source = _luma(prep.crop_rgb)
    lash_px = 2 * eyes.LASH_IOD * prep.eyes.iod_px + 1
    then, now = [], []
    for upper_i, lower_i, crease_i in EYES:
        up0, _ = _lids(prep, {}, upper_i, lower_i)
        up1, _ = _lids(prep, CLOSED, upper_i, lower_i)
        xs = _columns(up0, 0.5)
        crease = _curve(prep.rig.points[list(crease_i), :2].numpy(), xs)
        top0, meet = _curve(up0, xs), _curve(up1, xs)
        lid = _region(xs, crease, top0 - 1, len(source))  # the open eye's lid skin
        covering = _region(xs, meet - 0.45 * (meet - top0) - 1, meet - lash_px, len(source))
        then.append(_texture(source, xs, lid))
        now.append(_texture(closed, xs, covering))
    ratio = np.mean(now) / np.mean(then)
    assert 0.6 < ratio < 1.8, (then, now)


@pytest.mark.parametrize("name", ["einstein.jpg", "qing_emperor_painting.png"])
def test_a_half_closed_eye_keeps_its_own_colours_below_the_lid(name, portraits_2x) -> None:
    """At blink 0.7 the lid covers the top of the eye; the lower half of what stays open is the
    portrait's own iris and white (the old lid-coloured band changed it by 11-34 grey levels)."""
    portrait, mesh = portraits_2x(name)
    prep = prepare(portrait, mesh, OPTIONS)
    row = {"blink_left": 0.7, "blink_right": 0.7}
    frame = _luma(render_frames(portrait, mesh, make_track([row]), OPTIONS).rgb[0])
    source = _luma(prep.crop_rgb)
    for upper_i, lower_i, _ in EYES:
        up, lo = _lids(prep, row, upper_i, lower_i)
        xs = _columns(up, 0.6)
        top, bottom = _curve(up, xs), _curve(lo, xs)
        visible = _region(xs, top + 0.5 * (bottom - top), bottom - 1, len(source))
        assert visible.sum() >= 20
        cols = slice(xs[0], xs[-1] + 1)
        change = (frame[:, cols] - source[:, cols])[visible]
        assert np.abs(change).mean() < 2.0, (change.mean(), np.abs(change).mean())


def test_gaze_moves_the_iris_alone(einstein) -> None:
    """Looking right moves the iris's dark centroid right inside the opening; the white near the
    eye corners and the upper lid stay put (the old code moved the whole eye interior)."""
    portrait, mesh = einstein
    prep = prepare(portrait, mesh, OPTIONS)
    frame = _luma(render_frames(portrait, mesh, make_track([{"gaze_x": 0.8}]), OPTIONS).rgb[0])
    source = _luma(prep.crop_rgb)
    iod = prep.eyes.iod_px
    for upper_i, lower_i, _ in EYES:
        up, lo = _lids(prep, {}, upper_i, lower_i)
        xa, xb = sorted([up[0, 0], up[-1, 0]])
        cols = np.arange(int(np.ceil(xa)), int(xb) + 1)
        top, bottom = _curve(up, cols), _curve(lo, cols)
        yy = np.arange(int(top.min()), int(bottom.max()) + 2)[:, None]
        inside = (yy > top[None] + 1) & (yy < bottom[None] - 1)
        xx = np.broadcast_to(cols[None], inside.shape)

        def centroid(img: np.ndarray) -> float:
            lum = img[yy, cols[None]]
            dark = np.clip(np.percentile(lum[inside], 70) - lum, 0, None) * inside
            return float((dark * xx).sum() / dark.sum())

        moved = centroid(frame) - centroid(source)
        assert moved > 0.3 * 0.8 * 0.1 * iod, moved  # geometry: 0.1 IOD at gaze 1
        corners = inside & ((xx < xa + 0.1 * (xb - xa)) | (xx > xb - 0.1 * (xb - xa)))
        still = np.abs(frame[yy, cols[None]] - source[yy, cols[None]])
        assert still[corners].mean() < 2.0, still[corners].mean()
        lid_rows = (yy > top[None] - 4) & (yy < top[None] - 1)
        assert still[lid_rows].mean() < 2.0, still[lid_rows].mean()


@pytest.mark.parametrize(
    ("name", "known"),
    [  # iris centres read off the portraits by eye, source px: subject's right, left
        ("qing_emperor_painting.png", ((106.5, 110.5), (157.5, 111.0))),
        ("einstein.jpg", ((153.0, 162.0), (210.0, 159.0))),
    ],
)
def test_the_iris_locator_finds_the_iris(name, known) -> None:
    portrait = load_portrait_file(ASSETS / name)
    mesh = analyze_face(portrait)
    prep = prepare(portrait, mesh, OPTIONS)
    x0, y0 = prep.plan.crop_xyxy[:2]
    scale = prep.plan.scale
    for eye, (kx, ky) in zip(prep.eyes.eyes, known):
        cx, cy, r = eye.iris
        found = ((cx + 0.5) / scale - 0.5 + x0, (cy + 0.5) / scale - 0.5 + y0)
        assert r > 0 and np.hypot(found[0] - kx, found[1] - ky) <= 2.5, (found, (kx, ky))


def test_no_gaze_without_a_visible_iris(einstein) -> None:
    """Eyes painted over with skin (nothing dark and round inside them): no iris is found, and a
    glance leaves the eye as it is rather than moving a guessed disc."""
    portrait, mesh = einstein
    rgb = portrait.rgb.copy()
    lm = mesh.landmarks[:, :2]
    for side in ("right", "left"):
        ring = lm[list(rg.eye_polygon(side))]
        (x0, y0), (x1, y1) = (ring.min(0) - 3).astype(int), (ring.max(0) + 4).astype(int)
        rgb[y0:y1, x0:x1] = np.median(rgb[y0 - 8 : y0 - 4, x0:x1], (0, 1))
    painted = Portrait(rgb, "painted-over eyes")
    prep = prepare(painted, mesh, OPTIONS)
    assert all(eye.iris[2] == 0 for eye in prep.eyes.eyes)
    frames = render_frames(painted, mesh, make_track([{}, {"gaze_x": 0.8, "gaze_y": 0.5}]),
                           OPTIONS).rgb.astype(np.int16)  # fmt: skip
    assert np.abs(frames[1] - frames[0]).max() == 0
