"""Perceptual masking for the watermark: where the eye would see a change, change less.

A luma change of one or two grey levels shows on a flat area (sky, a studio backdrop, a cartoon
fill) as a static blotch, and disappears in texture (hair, fabric, brush strokes, skin pores),
which hides changes several times larger. The mask is computed per frame on the watermark's
working grid (one cell = 1/GRID of the frame's width and height):

- texture: the standard deviation of the full-resolution luma within each cell (fine detail)
  combined with that of the cell means over the 3x3 neighbourhood (edges, coarse texture);
- luminance: the eye's threshold grows with brightness (Weber), so bright cells take a little
  more; near black and white the change would clip, so they take less;
- the mask is then eroded by one cell, so that a textured cell next to a flat one is off too:
  the residual is upsampled bilinearly, and would otherwise spill a few pixels into the flat
  area.

The detector recomputes the same mask from what it receives (texture survives re-encoding) and
weighs each vote by it: slots in flat areas carry little mark and would only add noise.

Arrays: luma (H, W) uint8; masks (GRID, GRID) float32 in [0, 1.25].
"""

from __future__ import annotations

import cv2
import numpy as np

# Texture (grey levels of local standard deviation) below FLAT_STD gets nothing, above FULL_STD
# the full strength. The visibility target counts pixels whose 9x9 standard deviation is < 2:
# after the erosion they change by <= 0.3 grey level on average (tests, docs/marks_bench.md).
# Thresholds of 1.2 and 4 kept that under 0.1 but lost 480p CRF 30 on low-texture portraits.
FLAT_STD = 0.6
FULL_STD = 3.0


def texture_mask(luma: np.ndarray, grid: int) -> np.ndarray:
    """(H, W) uint8 luma -> (grid, grid) float32 strength in [0, 1.25] (module docstring)."""
    if min(luma.shape) > 2 * grid:  # texture finer than half a cell hides little: 4x cheaper
        luma = cv2.resize(luma, (2 * grid, 2 * grid), interpolation=cv2.INTER_AREA)
    y = luma.astype(np.float32)
    size = (grid, grid)
    mean = cv2.resize(y, size, interpolation=cv2.INTER_AREA)
    mean_sq = cv2.resize(y * y, size, interpolation=cv2.INTER_AREA)
    cell_var = np.maximum(mean_sq - mean * mean, 0.0)
    near = cv2.blur(mean, (3, 3), borderType=cv2.BORDER_REFLECT)
    near_sq = cv2.blur(mean * mean, (3, 3), borderType=cv2.BORDER_REFLECT)
    coarse_var = np.maximum(near_sq - near * near, 0.0)
    std = np.sqrt(cell_var + coarse_var)
    strength = np.clip((std - FLAT_STD) / (FULL_STD - FLAT_STD), 0.0, 1.0)
    # Luminance: +25 % in bright cells, fading to 0 within 4 grey levels of black and white.
    bright = 1.0 + 0.25 * np.clip((mean - 128.0) / 96.0, 0.0, 1.0)
    headroom = np.clip(np.minimum(mean, 255.0 - mean) / 4.0, 0.0, 1.0)
    strength *= bright * headroom
    return cv2.erode(strength, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REFLECT)
