"""Embed -> encode -> distort -> decode round trips, and no false positives on unmarked video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.core.marking.clips import ASSETS, PAYLOAD, as_frames, ken_burns, reencode
from vitaphone.core.marking.watermark import detect_watermark, embed_watermark, psnr_db
from vitaphone.core.media.encode import encode_mp4
from vitaphone.core.media.video_io import read_video


@pytest.fixture(scope="module")
def marked_mp4(portrait_clip: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    marked = embed_watermark(portrait_clip, PAYLOAD)
    path = tmp_path_factory.mktemp("wm") / "marked.mp4"
    encode_mp4(as_frames(marked), None, 0, path, crf=20)
    return path


def _read(path: Path):
    return detect_watermark(read_video(path, with_audio=False).rgb)


def test_mark_is_invisible_by_psnr(portrait_clip: np.ndarray) -> None:
    marked = embed_watermark(portrait_clip, PAYLOAD)
    assert psnr_db(portrait_clip, marked) >= 38.0
    assert not np.array_equal(marked, portrait_clip)


def test_in_place_marking_equals_the_copy(portrait_clip: np.ndarray) -> None:
    copy = portrait_clip[:8].copy()
    out = embed_watermark(copy, PAYLOAD, in_place=True)
    assert out is copy
    assert np.array_equal(copy, embed_watermark(portrait_clip[:8], PAYLOAD))


def test_found_in_the_encoded_file(marked_mp4: Path) -> None:
    reading = _read(marked_mp4)
    assert reading.found and reading.payload_hex == PAYLOAD
    assert reading.raw_ber < 0.02 and reading.crop_margin == 0


@pytest.mark.parametrize(
    "distortion",
    [
        pytest.param({"crf": 28}, id="h264-crf28"),
        pytest.param({"crf": 23, "scale": 0.5}, id="half-size"),
        pytest.param({"crf": 23, "start_s": 2.0}, id="first-2s-cut"),
        pytest.param({"crf": 23, "crop": 0.1}, id="centre-crop-10pc"),
    ],
)
def test_survives(distortion: dict, marked_mp4: Path, tmp_path: Path) -> None:
    copy = reencode(marked_mp4, tmp_path / "copy.mp4", **distortion)
    reading = _read(copy)
    assert reading.found, reading
    assert reading.payload_hex == PAYLOAD  # all 64 bits: the CRC-32 vouches for them


def test_first_2s_cut_really_cut(marked_mp4: Path, tmp_path: Path) -> None:
    copy = reencode(marked_mp4, tmp_path / "cut.mp4", start_s=2.0)
    assert read_video(copy, with_audio=False).rgb.shape[0] == 25  # 3 s clip -> the last second


def test_another_payload_reads_as_itself(portrait_clip: np.ndarray) -> None:
    reading = detect_watermark(embed_watermark(portrait_clip[:10], "0000000000000001"))
    assert reading.payload_hex == "0000000000000001"


def test_unmarked_real_video_is_not_flagged() -> None:
    reading = _read(ASSETS / "M030_front_neutral_level1_001.mp4")
    assert not reading.found and reading.payload_hex is None
    assert reading.raw_ber > 0.15


@pytest.mark.parametrize(
    "portrait", ["einstein.jpg", "woman_in_black_standing.jpg", "mona_lisa.jpg"]
)
def test_unmarked_portrait_clips_are_not_flagged(portrait: str) -> None:
    clip = ken_burns(ASSETS / "portraits" / portrait, 20, seed=3)
    assert not detect_watermark(clip).found


def test_flat_frames_are_not_flagged() -> None:
    grey = np.full((5, 128, 160, 3), 128, np.uint8)
    assert not detect_watermark(grey).found
