"""Renderer behaviour measured on rendered frames of real portraits."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from render_tracks import make_track

from vitaphone.core.errors import BadOption
from vitaphone.core.render import RenderOptions, WarpRenderer, render_frames
from vitaphone.core.render.crop import plan_crop

CPU = RenderOptions(device="cpu", max_side=384, batch_size=8)


def _luma(rgb: np.ndarray) -> np.ndarray:
    return rgb[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], dtype=np.float32)


def _mesh_out(portrait, mesh, options: RenderOptions) -> np.ndarray:
    """The mesh in output pixels (468, 2)."""
    plan = plan_crop(portrait.size_hw, mesh.landmarks, options.max_side)
    return plan.to_output(mesh.landmarks[:, :2].astype(np.float32))


def _iod(lm: np.ndarray) -> float:
    from vitaphone.core.render.regions import eye_centres

    right, left = eye_centres(lm)
    return float(np.linalg.norm(left - right))


def _box(lm: np.ndarray, idx, pad: float) -> tuple[slice, slice]:
    pts = lm[list(idx)]
    (x0, y0), (x1, y1) = pts.min(0) - pad, pts.max(0) + pad
    return slice(int(y0), int(np.ceil(y1)) + 1), slice(int(x0), int(np.ceil(x1)) + 1)


def test_output_shape_dtype_and_crop(einstein) -> None:
    portrait, mesh = einstein
    track = make_track([{}, {"jaw_open": 0.5}, {"head_yaw_deg": 5.0}], fps=30.0)
    frames = WarpRenderer().render(portrait, mesh, track, CPU)
    n, h, w, c = frames.rgb.shape
    assert (n, c) == (3, 3) and frames.rgb.dtype == np.uint8
    assert h % 2 == 0 and w % 2 == 0 and max(h, w) <= CPU.max_side
    assert frames.fps == 30.0
    x0, y0, x1, y1 = frames.crop_xyxy
    assert 0 <= x0 < x1 <= portrait.size_hw[1] and 0 <= y0 < y1 <= portrait.size_hw[0]
    hx0, hy0, hx1, hy1 = frames.head_box_xyxy
    lm = _mesh_out(portrait, mesh, CPU)
    assert 0 <= hx0 < lm[:, 0].min() and lm[:, 0].max() < hx1 <= w
    assert 0 <= hy0 < lm[:, 1].min() and lm[:, 1].max() < hy1 <= h


@pytest.mark.parametrize("name", ["einstein", "mona_lisa"])
def test_rest_frame_is_the_portrait_itself(name, request) -> None:
    """Own resolution (no rescaling of a small portrait) and no change at all at rest."""
    portrait, mesh = request.getfixturevalue(name)
    frames = render_frames(portrait, mesh, make_track([{}]), RenderOptions(device="cpu"))
    x0, y0, x1, y1 = frames.crop_xyxy
    assert frames.rgb.shape[1:3] == (y1 - y0, x1 - x0)
    assert np.array_equal(frames.rgb[0], portrait.rgb[y0:y1, x0:x1])


def test_background_outside_head_is_still(einstein) -> None:
    portrait, mesh = einstein
    t = np.arange(50) / 25.0
    rows = [
        {
            "head_yaw_deg": 4 * np.sin(2 * np.pi * 0.7 * s),
            "head_pitch_deg": 2 * np.sin(2 * np.pi * 0.4 * s),
            "jaw_open": 0.5 + 0.5 * np.sin(2 * np.pi * 3 * s),
            "blink_left": float(s > 1.0),
        }
        for s in t
    ]
    frames = render_frames(portrait, mesh, make_track(rows), CPU)
    luma = _luma(frames.rgb)
    x0, y0, x1, y1 = frames.head_box_xyxy
    outside = np.ones(luma.shape[1:], dtype=bool)
    outside[y0:y1, x0:x1] = False
    change = np.abs(np.diff(luma, axis=0))[:, outside].mean()
    assert change < 1.0, f"pixels outside the head change by {change:.2f} grey levels per frame"


def test_nothing_moves_beyond_the_warp_region(woman_in_black) -> None:
    """A small face in a large picture: outside the region the warp may touch (about twice the
    face size), every pixel of every frame is the portrait's own, bit for bit."""
    from vitaphone.core.render.renderer import prepare

    portrait, mesh = woman_in_black
    options = RenderOptions(device="cpu", max_side=512)
    rows = [
        {"head_yaw_deg": 8.0, "head_pitch_deg": -5.0, "jaw_open": 1.0, "blink_left": 1.0},
        {"head_yaw_deg": -8.0, "head_roll_deg": 6.0, "mouth_corner": 1.0, "gaze_x": 1.0},
    ]
    frames = render_frames(portrait, mesh, make_track(rows), options)
    x0, y0, x1, y1 = prepare(portrait, mesh, options).table.roi
    outside = np.ones(frames.rgb.shape[1:3], dtype=bool)
    outside[y0:y1, x0:x1] = False
    assert outside.mean() > 0.2
    cx0, cy0, cx1, cy1 = frames.crop_xyxy
    source = portrait.rgb[cy0:cy1, cx0:cx1]
    assert frames.rgb.shape[1:3] == source.shape[:2]
    for frame in frames.rgb:
        assert np.array_equal(frame[outside], source[outside])


def _dark_pixels_in_mouth(rgb: np.ndarray, lm: np.ndarray) -> np.ndarray:
    """Per frame: pixels between the mouth corners, from the upper lip's inner edge down to
    the chin, much darker than the lips at rest (a mustache above the lip is left out)."""
    iod = _iod(lm)
    ys = slice(int(lm[13, 1]), int(lm[17, 1] + 0.4 * iod))
    xs = slice(int(lm[61, 0]), int(np.ceil(lm[291, 0])))
    luma = _luma(rgb[:, ys, xs])
    return (luma < 0.45 * np.median(luma[0])).sum(axis=(1, 2))


@pytest.mark.parametrize("name", ["mona_lisa", "einstein"])
def test_mouth_opens_with_the_jaw_and_closes_for_bilabials(name, request) -> None:
    portrait, mesh = request.getfixturevalue(name)
    rows = [
        {},
        {"jaw_open": 0.15},
        {"jaw_open": 0.8},
        {"jaw_open": 0.8, "lip_close": 1.0},
    ]
    frames = render_frames(portrait, mesh, make_track(rows), CPU)
    lm = _mesh_out(portrait, mesh, CPU)
    dark = _dark_pixels_in_mouth(frames.rgb, lm)
    iod = _iod(lm)
    assert dark[2] > dark[0] + 0.02 * iod**2, f"wide open mouth shows no cavity: {dark}"
    assert dark[1] > dark[0], f"a small opening must part the lips: {dark}"
    if name != "einstein":  # his mustache comes down with a closing upper lip and reads as dark
        assert dark[3] <= dark[0] + 0.002 * iod**2, f"lip_close=1 must close the lips: {dark}"


@pytest.mark.parametrize("name", ["mona_lisa", "einstein", "woman_in_black"])
def test_a_schwa_sized_opening_parts_the_lips_visibly(name, request) -> None:
    """jaw_open 0.1 (an unstressed vowel) parts the lip centres by >= 0.055 IOD (~3.5 mm):
    thinner gaps read as closed lips, to a viewer and to the dlib judge (with the lips' own
    parting at 0.045 IOD the Mona Lisa's was 0.043)."""
    from vitaphone.core.motion.types import CHANNELS
    from vitaphone.core.render.renderer import prepare

    portrait, mesh = request.getfixturevalue(name)
    rig = prepare(portrait, mesh, CPU).rig
    values = torch.zeros((3, len(CHANNELS)))
    values[1, CHANNELS.index("jaw_open")] = 0.1
    values[2, CHANNELS.index("jaw_open")] = 0.1
    values[2, CHANNELS.index("lip_close")] = 1.0  # a /b/ at the same jaw: closed again
    points = rig.points[None, :468, :2] + rig.displace(values)[:, :468]
    gap = ((points[:, 14] - points[:, 13]).norm(dim=-1) / rig.iod).numpy()
    assert gap[1] - gap[0] >= 0.055, gap
    assert gap[2] <= gap[0] + 0.005, gap


@pytest.mark.parametrize("name", ["mona_lisa", "einstein"])
def test_blink_covers_the_iris_with_the_lid(name, request) -> None:
    portrait, mesh = request.getfixturevalue(name)
    frames = render_frames(
        portrait, mesh, make_track([{}, {"blink_left": 1.0, "blink_right": 1.0}]), CPU
    )
    lm = _mesh_out(portrait, mesh, CPU)
    from vitaphone.core.render.regions import (
        EYE_L_LOWER,
        EYE_L_UPPER,
        EYE_R_LOWER,
        EYE_R_UPPER,
    )

    for eye in (EYE_R_UPPER + EYE_R_LOWER, EYE_L_UPPER + EYE_L_LOWER):
        ys, xs = _box(lm, eye, 0.0)
        open_, closed = _luma(frames.rgb[0, ys, xs]), _luma(frames.rgb[1, ys, xs])
        iris = open_ <= np.percentile(open_, 20)  # the darkest part of the open eye
        # Lid skin now lies where the iris was, except along the thin lash line.
        assert np.median(closed[iris] - open_[iris]) > 10.0, (
            open_[iris].mean(),
            closed[iris].mean(),
        )


def test_cpu_rendering_is_deterministic(einstein) -> None:
    portrait, mesh = einstein
    track = make_track(
        [
            {
                "jaw_open": 0.6,
                "head_yaw_deg": 3.0,
                "blink_right": 0.7,
                "mouth_corner": 0.5,
            }
        ]
        * 2
    )
    a = render_frames(portrait, mesh, track, CPU).rgb
    b = render_frames(portrait, mesh, track, CPU).rgb
    assert np.array_equal(a, b)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_matches_cpu(einstein) -> None:
    portrait, mesh = einstein
    track = make_track(
        [{"jaw_open": x, "head_yaw_deg": 6 * x, "blink_left": x} for x in (0.0, 0.4, 0.9)]
    )
    cpu = render_frames(portrait, mesh, track, CPU).rgb.astype(np.int16)
    gpu = render_frames(
        portrait, mesh, track, RenderOptions(device="cuda", max_side=384)
    ).rgb.astype(np.int16)
    diff = np.abs(cpu - gpu)
    assert diff.mean() < 0.3 and np.percentile(diff, 99.9) <= 4, (
        diff.mean(),
        diff.max(),
    )


def test_options_are_validated() -> None:
    with pytest.raises(BadOption):
        RenderOptions(device="tpu")  # type: ignore[arg-type]
    with pytest.raises(BadOption):
        RenderOptions(max_side=10)
    with pytest.raises(BadOption):
        RenderOptions(batch_size=0)


def test_torch_warp_matches_opencv_warp(einstein) -> None:
    """The grid_sample path (used on CUDA) and the cv2.remap path (CPU) warp alike."""
    from vitaphone.core.render.renderer import prepare
    from vitaphone.core.render.warp import (
        _warp_cv2,
        _warp_torch,
        backward_field,
        forward_field,
    )

    portrait, mesh = einstein
    prep = prepare(portrait, mesh, CPU)
    track = make_track([{"jaw_open": 0.7, "head_yaw_deg": 6.0, "head_roll_deg": -3.0}])
    values = torch.as_tensor(track.values)
    offsets = backward_field(prep.table, forward_field(prep.table, prep.rig.displace(values)))
    a = _warp_cv2(prep.crop_rgb, prep.table, offsets).numpy().astype(np.int16)
    b = _warp_torch(prep.image, prep.table, offsets).numpy().astype(np.int16)
    diff = np.abs(a - b)
    assert diff.mean() < 0.3 and np.percentile(diff, 99.9) <= 4, (
        diff.mean(),
        diff.max(),
    )


def test_streamed_batches_equal_the_whole_clip(einstein) -> None:
    """render_batches yields the same frames, in order, as fresh arrays; format up front."""
    from vitaphone.core.render.renderer import render_batches

    portrait, mesh = einstein
    track = make_track(
        [{"jaw_open": 0.05 * i, "head_yaw_deg": 0.3 * i, "blink_left": i % 3 / 2} for i in range(19)]
    )
    whole = render_frames(portrait, mesh, track, CPU)
    stream = render_batches(portrait, mesh, track, CPU)
    fmt = stream.format
    assert (fmt.n_frames, fmt.height, fmt.width) == whole.rgb.shape[:3]
    assert (fmt.fps, fmt.crop_xyxy, fmt.head_box_xyxy) == (
        whole.fps,
        whole.crop_xyxy,
        whole.head_box_xyxy,
    )
    batches = list(stream)
    assert [len(b) for b in batches] == [8, 8, 3]
    assert all(b.dtype == np.uint8 and b.flags.owndata for b in batches)
    assert np.array_equal(np.concatenate(batches), whole.rgb)
    times = stream.times()
    assert times.warp > 0 and times.output > 0 and times.prepare > 0


@pytest.mark.parametrize("name", ["mona_lisa", "einstein"])
def test_a_blink_leaves_the_brows_where_they_are(name, request) -> None:
    """Only the lid skin closes over the eye: a blink that dragged the brows down cost the face
    its identity (dlib distance) far more than the closed eye itself."""
    portrait, mesh = request.getfixturevalue(name)
    frames = render_frames(
        portrait, mesh, make_track([{}, {"blink_left": 1.0, "blink_right": 1.0}]), CPU
    )
    lm = _mesh_out(portrait, mesh, CPU)
    from vitaphone.core.render.regions import BROW_L, BROW_R

    LIMIT = 2.5  # grey levels: now 1-2; a blink falling off over 0.16 IOD read 5-7 here
    for brow in (BROW_R[5:], BROW_L[5:]):  # the brows' upper contour: the hair of the brow
        ys, xs = _box(lm, brow, 0.0)
        moved = np.abs(_luma(frames.rgb[1, ys, xs]) - _luma(frames.rgb[0, ys, xs]))
        assert moved.mean() < LIMIT, moved.mean()
