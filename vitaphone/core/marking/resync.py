"""Resynchronisation: find where a cropped, mirrored or rescaled copy sits in the original frame.

The watermark's slots live on a grid laid over the whole original frame. A copy with 10 % cut
off the bottom, or mirrored, puts every block in the wrong place, and the votes turn to noise.

No extra pattern is needed: the mark itself says when the grid is in place. Each slot's
coefficient was moved onto one of two lattices (bit 0 or bit 1), both multiples of STEP / 2
away from the slot's known dither, so cos(4 pi (c - dither) / STEP) is near 1 on a marked,
aligned frame whatever the payload, and averages 0 anywhere else (a registration pattern was
tried first: the picture's own texture drowned it at any invisible strength). The detector:

1. scores every hypothesis of which part of the original a copy shows, mirrored or not: one
   side cut by up to 16 %, a corner (the same share off both sides) or the centre (every
   side), in steps of 0.2 % of the frame (a quarter of a grid pixel: the lattice needs it),
   on 3 frames resampled straight onto the grid, with texture-weighted slots (~1,400 boxes);
2. decodes the payload at the 3 best, first on 12 frames, then confirms on all of them (only
   the blocks in view vote); the CRC decides.

Any rescale of the copy, even one that changes its aspect, is free (positions are relative to
the frame). Crops of other shapes (say 8 % off the bottom and 5 % off the right) are not
searched.

Arrays: luma (H, W) uint8; grids (GRID, GRID) float32.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from vitaphone.core.marking.masking import FLAT_STD, FULL_STD, texture_mask
from vitaphone.core.marking.watermark import (
    GRID,
    WatermarkReading,
    lattice_coherence,
    read_grids,
    slots_inside,
)

_STEP = 0.002  # of the frame: a quarter of a grid pixel, finer than the lattice needs
_MAX_CUT = 0.16
_CUTS = np.arange(_STEP, _MAX_CUT + 1e-9, _STEP)
_SCREEN_FRAMES, _SCORE_FRAMES, _CANDIDATES = 12, 3, 3
_CANVAS = 2 * GRID  # a copy is resampled onto this canvas of the whole frame, then area-halved


def _families(cut: float) -> list[tuple[float, float, float, float]]:
    """The boxes (x0, y0, x1, y1) of the original that a copy shows with `cut` taken off: one
    side, a corner (both sides by the same share) or the centre (every side)."""
    keep = 1.0 - cut
    return [
        (0.0, cut, 1.0, 1.0), (0.0, 0.0, 1.0, keep), (cut, 0.0, 1.0, 1.0), (0.0, 0.0, keep, 1.0),
        (0.0, 0.0, keep, keep), (cut, 0.0, 1.0, keep), (0.0, cut, keep, 1.0), (cut, cut, 1.0, 1.0),
        (cut, cut, keep, keep),
    ]  # fmt: skip


HYPOTHESES: tuple[tuple[tuple[float, float, float, float], bool], ...] = tuple(
    (box, mirrored)
    for mirrored in (False, True)
    for box in [(0.0, 0.0, 1.0, 1.0), *(b for cut in _CUTS for b in _families(float(cut)))]
)


@dataclass(frozen=True)
class Placement:
    """A hypothesis: the copy shows `box` (relative x0, y0, x1, y1) of the original, mirrored
    or not; score: the lattice coherence there (about 0 when wrong, up to 1 when right)."""

    score: float
    box: tuple[float, float, float, float]
    mirrored: bool


def detect_resynchronised(lumas: list[np.ndarray]) -> WatermarkReading:
    """Find the placement of the copy by the coherence of the lattice and decode there."""
    step = max(1, len(lumas) // _SCREEN_FRAMES)
    best: WatermarkReading | None = None
    for placement in locate(lumas):
        reading = read_placed(lumas[::step], placement)
        if reading.found:
            reading = read_placed(lumas, placement)  # confirm on every frame
            if reading.found:
                return reading
        if best is None or reading.confidence > best.confidence:
            best = reading
    assert best is not None
    return best


def locate(lumas: list[np.ndarray]) -> list[Placement]:
    """The `_CANDIDATES` placements where a few frames' block coefficients sit closest to the
    watermark's lattices (whatever the payload: both bits' lattices are multiples of STEP / 2
    from the slot's dither), best first."""
    picks = np.linspace(0, len(lumas) - 1, min(_SCORE_FRAMES, len(lumas))).round().astype(int)
    frames = [_with_texture(_shrunk(lumas[i])) for i in picks]
    mirrored_frames = [np.ascontiguousarray(f[:, ::-1]) for f in frames]
    scored = []
    for box, mirrored in HYPOTHESES:
        usable = slots_inside(box)
        both = np.stack([_to_grid_fast(f, box) for f in (mirrored_frames if mirrored else frames)])
        coherence = lattice_coherence(both[..., 0], usable, weights=both[..., 1])
        scored.append(Placement(coherence, box, mirrored))
    scored.sort(key=lambda p: -p.score)
    return scored[:_CANDIDATES]


def _to_grid_fast(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Sample a copy (`_with_texture`, ~2 px per grid cell) bilinearly straight onto the
    (GRID, GRID) grid of the original at `box`: 8x cheaper than the canvas, close enough to
    rank hypotheses (the decode then uses the canvas). No smoothing: blurring even by half a
    pixel scales large coefficients by a few per cent, a whole lattice step."""
    x0, y0, x1, y1 = box
    height, width = image.shape[:2]
    scale_x, scale_y = (x1 - x0) * GRID / width, (y1 - y0) * GRID / height
    matrix = np.float32([
        [scale_x, 0, x0 * GRID + 0.5 * scale_x - 0.5],
        [0, scale_y, y0 * GRID + 0.5 * scale_y - 0.5],
    ])  # fmt: skip
    return cv2.warpAffine(image, matrix, (GRID, GRID), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip


def _with_texture(luma: np.ndarray) -> np.ndarray:
    """(h, w) float32 luma -> (h, w, 2): the luma and how textured it is around each pixel (the
    embedder's mask, roughly: only textured blocks carry the mark), warped together."""
    mean = cv2.blur(luma, (5, 5))
    std = np.sqrt(np.maximum(cv2.blur(luma * luma, (5, 5)) - mean * mean, 0.0))
    weight = np.clip((std - FLAT_STD) / (FULL_STD - FLAT_STD), 0.0, 1.0)
    return np.dstack([luma, weight])


def _shrunk(luma: np.ndarray) -> np.ndarray:
    """A copy's luma as float32, area-shrunk to about the canvas's scale if it is larger (the
    per-hypothesis warp is then near 1:1 and cheap)."""
    height, width = luma.shape
    factor = _CANVAS / max(height, width)
    if factor < 0.9:
        size = (max(8, round(width * factor)), max(8, round(height * factor)))
        luma = cv2.resize(luma, size, interpolation=cv2.INTER_AREA)
    return luma.astype(np.float32)


def read_placed(lumas: list[np.ndarray], placement: Placement) -> WatermarkReading:
    """Decode frames assumed to show `placement.box` of the original (mirrored or not)."""
    grids, masks = [], []
    for luma in lumas:
        image = np.ascontiguousarray(luma[:, ::-1]) if placement.mirrored else luma
        canvas = _to_canvas(image.astype(np.float32), placement.box)
        grids.append(cv2.resize(canvas, (GRID, GRID), interpolation=cv2.INTER_AREA))
        masks.append(texture_mask(np.clip(canvas, 0, 255).astype(np.uint8), GRID))
    usable = slots_inside(placement.box)
    return read_grids(grids, masks, usable, placement.box, placement.mirrored)


def _to_canvas(image: np.ndarray, box: tuple[float, float, float, float]) -> np.ndarray:
    """Resample a copy's (h, w) float32 luma (already unmirrored) onto a (_CANVAS, _CANVAS)
    float32 canvas of the whole original frame (black where the copy shows nothing)."""
    x0, y0, x1, y1 = box
    height, width = image.shape[:2]
    scale_x, scale_y = (x1 - x0) * _CANVAS / width, (y1 - y0) * _CANVAS / height
    if scale_x < 0.75 or scale_y < 0.75:  # shrink first with area averaging: no aliasing
        width = max(8, round(width * scale_x))
        height = max(8, round(height * scale_y))
        image = cv2.resize(image, (width, height), interpolation=cv2.INTER_AREA)
        scale_x, scale_y = (x1 - x0) * _CANVAS / width, (y1 - y0) * _CANVAS / height
    matrix = np.float32([
        [scale_x, 0, x0 * _CANVAS + 0.5 * scale_x - 0.5],
        [0, scale_y, y0 * _CANVAS + 0.5 * scale_y - 0.5],
    ])  # fmt: skip
    return cv2.warpAffine(image, matrix,
                          (_CANVAS, _CANVAS), flags=cv2.INTER_LINEAR,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)  # fmt: skip
