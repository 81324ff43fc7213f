"""The named landmark groups index the 468-point mesh the way their names say."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from vitaphone.core.face import landmarks as L
from vitaphone.core.face.analyze import analyze_face
from vitaphone.core.face.image_io import load_portrait_file

ASSETS = Path(__file__).parents[2] / "assets" / "portraits"


@pytest.fixture(scope="module")
def lm() -> np.ndarray:
    return analyze_face(load_portrait_file(ASSETS / "einstein.jpg")).landmarks


def test_groups_are_valid_index_lists():
    for name, idx in L.GROUPS.items():
        assert all(0 <= i < 468 for i in idx), name
        assert len(set(idx)) == len(idx), name
    # Upper and lower contours of lips and lids share their corner points.
    for upper, lower in ((L.LIPS_OUTER_UPPER, L.LIPS_OUTER_LOWER), (L.LIPS_INNER_UPPER, L.LIPS_INNER_LOWER),
                         (L.RIGHT_EYE_UPPER, L.RIGHT_EYE_LOWER), (L.LEFT_EYE_UPPER, L.LEFT_EYE_LOWER)):
        assert upper[0] == lower[0] and upper[-1] == lower[-1]
    assert L.FACE_OVAL[0] == L.FOREHEAD_TOP and L.CHIN in L.FACE_OVAL and L.CHIN in L.JAW_LINE


def test_upper_contours_lie_above_lower_ones(lm):
    y = lm[:, 1]
    for upper, lower in ((L.LIPS_OUTER_UPPER, L.LIPS_INNER_UPPER), (L.LIPS_INNER_LOWER, L.LIPS_OUTER_LOWER),
                         (L.RIGHT_EYE_UPPER, L.RIGHT_EYE_LOWER), (L.LEFT_EYE_UPPER, L.LEFT_EYE_LOWER),
                         (L.RIGHT_BROW_UPPER, L.RIGHT_BROW_LOWER), (L.LEFT_BROW_UPPER, L.LEFT_BROW_LOWER)):
        inner_u, inner_l = list(upper[1:-1]), list(lower[1:-1])
        assert y[inner_u].mean() < y[inner_l].mean() + 0.5, (upper, lower)
    assert y[list(L.RIGHT_BROW_LOWER)].max() < y[list(L.RIGHT_EYE_UPPER)].min()


def test_iris_centres_sit_inside_the_eyes(lm):
    right, left = L.iris_centers(lm)
    for centre, eye in ((right, L.RIGHT_EYE_UPPER + L.RIGHT_EYE_LOWER[::-1]),
                        (left, L.LEFT_EYE_UPPER + L.LEFT_EYE_LOWER[::-1])):
        contour = lm[list(eye), :2].astype(np.float32)
        assert cv2.pointPolygonTest(contour, (float(centre[0]), float(centre[1])), False) > 0
    assert 0.25 < L.interocular_px(lm) / (lm[:, 0].max() - lm[:, 0].min()) < 0.6


def test_cheeks_and_alae_sit_on_their_side(lm):
    x = lm[:, 0]
    mid = x[list(L.NOSE_BRIDGE)].mean()
    for right, left in ((L.CHEEK_RIGHT_AREA, L.CHEEK_LEFT_AREA), (L.NOSE_ALAR_RIGHT, L.NOSE_ALAR_LEFT)):
        assert (x[list(right)] < mid).all() and (x[list(left)] > mid).all()
