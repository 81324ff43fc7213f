"""The open mouth measured on real renders: a graded cavity (not a black hole), upper teeth
hanging from under the upper lip and fixed to the skull, lower teeth and tongue riding with the
jaw, the tongue tip up on tongue consonants, and rounding that pouts the lips."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch
from render_tracks import make_track

from vitaphone.core.face.analyze import analyze_face
from vitaphone.core.face.types import Portrait
from vitaphone.core.motion.types import MOUTH_CHANNELS
from vitaphone.core.motion.visemes import VISEME_SHAPES, Viseme
from vitaphone.core.render import RenderOptions, render_frames
from vitaphone.core.render import regions as rg
from vitaphone.core.render.renderer import prepare

OPTIONS = RenderOptions(device="cpu", max_side=768, batch_size=8)


@pytest.fixture(scope="module")
def mona_2x(mona_lisa):
    """The Mona Lisa asset at twice its size (IOD ~70 px: the mouth's layers are a few pixels
    tall at the asset's own 34 px)."""
    portrait, _ = mona_lisa
    rgb = cv2.resize(portrait.rgb, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
    big = Portrait(np.ascontiguousarray(rgb), "0" * 64)
    return big, analyze_face(big)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _render(pair, rows: list[dict[str, float]]):
    """Frames (T, H, W, 3), the rig's mesh (T, 468, 2) in output px, and the IOD in px."""
    portrait, mesh = pair
    track = make_track(rows)
    frames = render_frames(portrait, mesh, track, OPTIONS)
    prep = prepare(portrait, mesh, OPTIONS)
    values = torch.as_tensor(track.values)
    points = (prep.rig.points[None, :468, :2] + prep.rig.displace(values)[:, :468]).numpy()
    return frames.rgb, points, prep.mouth.iod_px


def _interior(rgb: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Pixels (N, 3) inside the rig's inner-lip contour, 1 px in from it."""
    mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[list(rg.inner_lip_polygon())]).astype(np.int32)], 1)
    mask = cv2.erode(mask, np.ones((3, 3), np.uint8))
    return rgb[mask.astype(bool)]


def _column(rgb: np.ndarray, points: np.ndarray, iod: float, offset_iod: float = 0.0):
    """Luma along the mouth's midline (offset sideways by offset_iod) from the upper lip's
    inner edge (13) to the lower lip's (14): (rows, luma) with rows in output px."""
    x = int(round((points[13, 0] + points[14, 0]) / 2 + offset_iod * iod))
    y0, y1 = int(np.ceil(points[13, 1])), int(np.floor(points[14, 1]))
    rows = np.arange(y0, y1 + 1)
    return rows, _luma(rgb[rows, x])


def _bright_run(luma: np.ndarray, threshold: float) -> tuple[int, int]:
    """The first run of rows at or above `threshold`: (first, one past the last)."""
    above = luma >= threshold
    first = int(np.argmax(above)) if above.any() else len(luma)
    after = np.flatnonzero(~above[first:])
    return first, first + (int(after[0]) if len(after) else len(luma) - first)


@pytest.mark.parametrize("name", ["mona_2x", "einstein"])
def test_a_wide_open_mouth_is_graded_not_a_black_hole(name, request) -> None:
    rgb, points, _ = _render(request.getfixturevalue(name), [{"jaw_open": 1.0}])
    px = _interior(rgb[0], points[0])
    luma = _luma(px)
    black = float((luma < 30).mean())
    # Real talking mouths (bench/mouth_interior.py): 3-45 % near-black, luma spread 23-55.
    assert black < 0.35, f"{black:.0%} of the open mouth is near-black"
    assert luma.std() > 30, f"the interior is flat: luma sd {luma.std():.1f}"
    assert np.percentile(luma, 95) > 2.0 * np.percentile(luma, 25) + 10, "no teeth or lit rim"


def test_upper_teeth_hang_from_under_the_upper_lip_fixed_to_the_skull(mona_2x) -> None:
    rgb, points, iod = _render(mona_2x, [{"jaw_open": 0.6}, {"jaw_open": 1.0}])
    edges = []
    for frame, pts in zip(rgb, points):
        rows, luma = _column(frame, pts, iod)
        cavity = np.percentile(luma, 10)
        teeth = np.percentile(luma[: max(3, int(0.08 * iod))], 75)
        assert teeth > cavity + 40, f"upper teeth {teeth:.0f} vs cavity {cavity:.0f}"
        first, last = _bright_run(luma, (teeth + cavity) / 2)
        # Real incisors show about 0.1 IOD under a parted upper lip.
        assert first <= 0.03 * iod + 1, f"the teeth start {first} px under the upper lip"
        assert last - first >= 0.07 * iod, f"upper teeth show {(last - first) / iod:.3f} IOD"
        edges.append(rows[0] + last - pts[2, 1])  # their edge, from the nose base
    assert abs(edges[0] - edges[1]) <= 1.5, f"the upper teeth slide with the jaw: {edges}"


def _rise(luma: np.ndarray, start: int, step: float) -> float:
    """Sub-pixel index where luma first climbs `step` above luma[start], after `start`."""
    threshold = luma[start] + step
    i = start + int(np.argmax(luma[start:] >= threshold))
    return i - 1 + (threshold - luma[i - 1]) / max(float(luma[i] - luma[i - 1]), 1e-3)


def test_the_lower_interior_rides_with_the_jaw(mona_2x) -> None:
    """The tongue keeps its place above the lower lip however wide the jaw opens (it is fixed
    to the jaw, not a share of the opening): the step from the dark cavity up to the tongue is
    the same distance above the lower lip's inner edge at jaw .85 and at jaw 1 (both past the
    openings over which it fades in)."""
    rgb, points, iod = _render(mona_2x, [{"jaw_open": 0.85}, {"jaw_open": 1.0}])
    heights = []
    for frame, pts in zip(rgb, points):
        rows, luma = _column(frame, pts, iod, offset_iod=0.06)  # beside the tongue's groove
        _, teeth_end = _bright_run(luma, 0.8 * luma.max())
        cavity = teeth_end + int(np.argmin(luma[teeth_end:]))  # the darkest row under them
        heights.append(float(pts[14, 1] - (rows[0] + _rise(luma, cavity, 25.0))))
    # It sits low behind the lower lip (mouth.TONGUE_ABOVE_IOD + LOWER_TEETH_SHOW_IOD = 0.06).
    assert min(heights) >= 0.05 * iod, f"no tongue or lower teeth above the lower lip: {heights}"
    assert abs(heights[0] - heights[1]) <= 0.75, f"the tongue slides: {heights} px"


def _viseme(viseme: Viseme) -> dict[str, float]:
    return {c: float(v) for c, v in zip(MOUTH_CHANNELS, VISEME_SHAPES[viseme].target)}


def test_the_tongue_tip_rises_on_tongue_consonants(mona_2x) -> None:
    """/l/ (alveolar) against /ee/ at the same opening: the tongue fills the middle of the
    opening under the upper teeth on /l/; on /ee/ the middle stays dark."""
    l_row = _viseme(Viseme.ALVEOLAR) | {"jaw_open": 0.22}
    ee_row = _viseme(Viseme.CLOSE_FRONT) | {"jaw_open": 0.22}
    rgb, points, iod = _render(mona_2x, [l_row, ee_row])
    middle = []
    for frame, pts in zip(rgb, points):
        rows, luma = _column(frame, pts, iod, offset_iod=0.08)
        middle.append(float(np.median(luma[len(luma) // 2 :])))
    assert middle[0] > middle[1] + 15, f"/l/ {middle[0]:.0f} vs /ee/ {middle[1]:.0f}: no tongue"


def test_rounding_pouts_the_lips_and_narrows_the_opening(mona_2x) -> None:
    rows = [{"jaw_open": 0.3}, {"jaw_open": 0.3, "lip_round": 1.0}]
    rgb, points, iod = _render(mona_2x, rows)
    flat, round_ = points
    width = lambda p: np.linalg.norm(p[308] - p[78])
    upper = lambda p: p[13, 1] - p[0, 1]  # upper lip: outer (0) to inner (13) edge
    lower = lambda p: p[17, 1] - p[14, 1]  # lower lip: inner (14) to outer (17) edge
    assert width(round_) < width(flat) - 0.08 * iod
    assert upper(round_) > upper(flat) + 0.01 * iod, "rounding thins the upper lip"
    assert lower(round_) > lower(flat) + 0.01 * iod, "rounding thins the lower lip"
    # The everted lower lip shades the skin under it.
    shade = []
    for frame, pts in zip(rgb, points):
        x0, x1 = int(pts[84, 0]), int(pts[314, 0])
        y = int(round(pts[17, 1] + 0.02 * iod))
        shade.append(float(_luma(frame[y : y + max(2, int(0.03 * iod)), x0:x1]).mean()))
    assert shade[1] < shade[0] - 3, f"no shadow under the pouting lower lip: {shade}"
