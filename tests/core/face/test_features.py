"""Expression features are pose-free and signed as documented; tracking follows a moving face."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from vitaphone.core.face import landmarks as L
from vitaphone.core.face.analyze import analyze_face
from vitaphone.core.face.features import FEATURES, expression_features, smirk_side
from vitaphone.core.face.image_io import load_portrait_file
from vitaphone.core.face.track import track_meshes

ASSETS = Path(__file__).parents[2] / "assets" / "portraits"


@pytest.fixture(scope="module")
def mesh() -> np.ndarray:
    return analyze_face(load_portrait_file(ASSETS / "qing_emperor_painting.png")).landmarks


def _rotate(lm: np.ndarray, yaw: float, pitch: float, roll: float, scale: float) -> np.ndarray:
    y, p, r = (math.radians(a) for a in (yaw, pitch, roll))
    ry = np.array([[math.cos(y), 0, -math.sin(y)], [0, 1, 0], [math.sin(y), 0, math.cos(y)]])
    rx = np.array([[1, 0, 0], [0, math.cos(p), -math.sin(p)], [0, math.sin(p), math.cos(p)]])
    rz = np.array([[math.cos(r), -math.sin(r), 0], [math.sin(r), math.cos(r), 0], [0, 0, 1]])
    c = lm.mean(axis=0)
    return ((lm - c) @ (rz @ rx @ ry).T) * scale + c + 40.0


def test_features_do_not_change_with_head_pose_or_size(mesh):
    base = expression_features(mesh)
    assert set(base) == set(FEATURES)
    moved = expression_features(_rotate(mesh.astype(np.float64), 20, -15, 10, 1.7))
    for k in FEATURES:
        assert moved[k] == pytest.approx(base[k], abs=2e-3), k


def test_raising_the_brows_and_lifting_one_corner_read_with_the_documented_signs(mesh):
    lm = mesh.astype(np.float64).copy()
    iod = L.interocular_px(lm)
    brows = list(set(L.RIGHT_BROW_UPPER + L.RIGHT_BROW_LOWER + L.LEFT_BROW_UPPER + L.LEFT_BROW_LOWER))
    lm[brows, 1] -= 0.05 * iod  # up in the image
    lm[L.MOUTH_CORNER_LEFT, 1] -= 0.04 * iod  # the subject's left corner lifts
    before, after = expression_features(mesh), expression_features(lm)
    assert after["brow_height"] - before["brow_height"] == pytest.approx(0.05, abs=0.005)
    assert after["mouth_corner_asym"] - before["mouth_corner_asym"] == pytest.approx(0.04, abs=0.005)
    assert after["mouth_corner_height"] > before["mouth_corner_height"]
    assert after["eye_opening"] == pytest.approx(before["eye_opening"], abs=1e-6)


def test_tracking_follows_a_sliding_portrait():
    img = Image.open(ASSETS / "einstein.jpg").convert("RGB")
    frames = []
    for dx in range(0, 40, 8):  # the portrait slides right by 8 px a frame on a grey canvas
        canvas = Image.new("RGB", (460, 500), (118, 128, 136))
        canvas.paste(img, (dx, 0))
        frames.append(np.asarray(canvas))
    meshes = list(track_meshes(frames))
    assert all(m is not None for m in meshes)
    noses = np.array([m[L.NOSE_TIP, 0] for m in meshes])
    np.testing.assert_allclose(np.diff(noses), 8.0, atol=1.5)


def test_tracking_reports_frames_without_a_face():
    blank = np.full((300, 300, 3), 90, np.uint8)
    face = np.asarray(Image.open(ASSETS / "einstein.jpg").convert("RGB"))
    out = list(track_meshes([face, blank, face]))
    assert out[0] is not None and out[1] is None and out[2] is not None


def test_smirk_side_follows_the_faces_own_higher_corner_then_the_near_side(mesh):
    for side, corner in ((1, L.MOUTH_CORNER_LEFT), (-1, L.MOUTH_CORNER_RIGHT)):
        lm = mesh.copy()
        for _ in range(40):  # lift one corner until the asymmetry is clear
            if side * expression_features(lm)["mouth_corner_asym"] > 0.01:
                break
            lm[corner, 1] -= 0.5
        assert smirk_side(lm, yaw_deg=-20.0) == side  # the asymmetry wins over the pose
        assert smirk_side(lm, yaw_deg=+20.0) == side
    symmetric = mesh.copy()
    for _ in range(200):  # level the corners in the head's own frame
        asym = expression_features(symmetric)["mouth_corner_asym"]
        if abs(asym) < 0.001:
            break
        symmetric[L.MOUTH_CORNER_LEFT, 1] += 0.05 * np.sign(asym)
    assert abs(expression_features(symmetric)["mouth_corner_asym"]) < 0.001
    # Turned to their left, the subject shows the right cheek: that corner is the near one.
    assert smirk_side(symmetric, yaw_deg=15.0) == -1
    assert smirk_side(symmetric, yaw_deg=-15.0) == 1
