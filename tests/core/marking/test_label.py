"""The visible badge: on every frame, legible size, off the face, and the bots' caption."""

from __future__ import annotations

import numpy as np
import pytest

from tests.core.marking.clips import ASSETS, as_frames, ken_burns
from vitaphone.core.errors import BadOption
from vitaphone.core.marking.label import (
    DEFAULT_TEXT,
    LabelOptions,
    apply_label,
    caption_text,
    render_badge,
)
from vitaphone.core.media.types import Frames


def _flat(value: int, n: int = 4, h: int = 256, w: int = 256) -> Frames:
    return Frames(np.full((n, h, w, 3), value, np.uint8), 25.0, (0, 0, w, h), (0, 0, 0, 0))


@pytest.mark.parametrize("background", [0, 128, 255])
def test_badge_is_in_every_frame_with_white_text_on_a_dark_box(background: int) -> None:
    out = apply_label(_flat(background, n=6))
    x0, y0, x1, y1 = out.box_xyxy
    for frame in out.frames.rgb:
        box = frame[y0:y1, x0:x1].astype(int)
        assert (box.min(axis=2) >= 235).mean() > 0.05, "white text pixels"
        assert (box.max(axis=2) <= 90).mean() > 0.2, "dark box pixels"
        outside = np.delete(frame, np.s_[y0:y1], axis=0)
        assert np.all(outside == background), "nothing changes outside the badge"


def test_badge_on_a_real_clip_every_frame(tmp_path) -> None:
    clip = ken_burns(ASSETS / "portraits" / "einstein.jpg", 30)
    out = apply_label(as_frames(clip))
    x0, y0, x1, y1 = out.box_xyxy
    text_share = [(f[y0:y1, x0:x1].min(axis=2) >= 235).mean() for f in out.frames.rgb]
    assert min(text_share) > 0.05


@pytest.mark.parametrize("size", [(256, 256), (512, 512), (1024, 768), (720, 1280)])
def test_text_height_scales_with_the_frame(size: tuple[int, int]) -> None:
    tile = render_badge(DEFAULT_TEXT, *size)
    text_rows = np.flatnonzero(
        (tile[..., :3].min(axis=2) > 128).any(axis=1)
    )  # anti-aliased edges count
    text_height = text_rows[-1] - text_rows[0] + 1
    shorter = min(size)
    assert text_height >= 12
    if shorter >= 400:
        assert 0.035 * shorter <= text_height <= 0.045 * shorter, text_height
    assert tile.shape[1] <= 0.9 * size[1]


def test_moves_off_the_face() -> None:
    frames = Frames(
        np.zeros((1, 512, 512, 3), np.uint8), 25.0, (0, 0, 512, 512), (0, 300, 200, 512)
    )
    out = apply_label(frames, LabelOptions(corner="bottom-left"))
    assert out.corner == "bottom-right" and out.box_xyxy[0] >= 200


def test_custom_text_and_position() -> None:
    out = apply_label(_flat(128), LabelOptions(text="KI-generiert · synthetisch", corner="top"))
    x0, y0, x1, _ = out.box_xyxy
    assert y0 < 20 and abs((x0 + x1) / 2 - 128) <= 1


def test_in_place_labels_the_given_array() -> None:
    frames = _flat(128)
    out = apply_label(frames, in_place=True)
    assert out.frames.rgb is frames.rgb and not np.all(frames.rgb == 128)
    untouched = _flat(128)
    apply_label(untouched)
    assert np.all(untouched.rgb == 128)


@pytest.mark.parametrize(
    "kwargs", [{"text": "  "}, {"corner": "middle"}, {"text": "x" * 81}, {"text_height_share": 0.5}]
)
def test_bad_options_are_refused(kwargs: dict) -> None:
    with pytest.raises(BadOption):
        LabelOptions(**kwargs)


def test_caption_discloses_and_says_how_to_verify() -> None:
    text = caption_text("reply /verify to this video")
    assert text.startswith("🤖 AI-generated video (synthetic).")
    assert "Vitaphone" in text and "/verify" in text


def test_goes_to_the_other_edge_when_the_face_fills_the_bottom() -> None:
    frames = Frames(
        np.zeros((1, 512, 512, 3), np.uint8), 25.0, (0, 0, 512, 512), (0, 300, 512, 512)
    )
    out = apply_label(frames, LabelOptions(corner="bottom-right"))
    assert out.corner == "top-right" and out.box_xyxy[3] < 300
