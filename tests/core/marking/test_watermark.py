"""Embed -> encode -> distort -> decode round trips, and no false positives on unmarked video."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.core.marking.clips import (
    ASSETS,
    PAYLOAD,
    as_frames,
    flat_area_delta,
    flat_background_portrait,
    ken_burns,
    reencode,
    still_clip,
    talking_clip,
)
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


PORTRAITS = sorted(p.name for p in (ASSETS / "portraits").iterdir())


@pytest.mark.parametrize("portrait", [*PORTRAITS, "flat-background"])
def test_mark_is_invisible(portrait: str) -> None:
    """PSNR >= 42 dB, and flat areas (9x9 standard deviation < 2) change by <= 0.5 grey levels
    on average, on every test portrait and on a face on a flat backdrop. The mark used to
    change luma uniformly: PSNR ~39 dB, the same blotches on a backdrop as in hair."""
    if portrait == "flat-background":
        clip = still_clip(flat_background_portrait(256), 12)
    else:
        clip = ken_burns(ASSETS / "portraits" / portrait, 12)
    marked = embed_watermark(clip, PAYLOAD)
    assert psnr_db(clip, marked) >= 42.0
    assert flat_area_delta(clip, marked) <= 0.5
    assert not np.array_equal(marked, clip)


def test_texture_takes_the_change_and_flat_areas_do_not() -> None:
    clip = still_clip(flat_background_portrait(256), 4)
    change = np.abs(embed_watermark(clip, PAYLOAD).astype(np.int16) - clip).mean(axis=(0, 3))
    assert change[:, :16].max() == 0  # the backdrop beside the face: untouched
    assert change[96:160, 96:160].mean() > 0.5  # the face carries the mark


def test_in_place_marking_equals_the_copy(portrait_clip: np.ndarray) -> None:
    copy = portrait_clip[:8].copy()
    out = embed_watermark(copy, PAYLOAD, in_place=True)
    assert out is copy
    assert np.array_equal(copy, embed_watermark(portrait_clip[:8], PAYLOAD))


def test_found_in_the_encoded_file(marked_mp4: Path) -> None:
    reading = _read(marked_mp4)
    assert reading.found and reading.payload_hex == PAYLOAD
    assert reading.raw_ber < 0.06
    assert reading.view_box == (0.0, 0.0, 1.0, 1.0) and not reading.mirrored


@pytest.mark.parametrize(
    "distortion",
    [
        # CRF 28 at this clip's 256 px no longer survives at PSNR >= 42 (512 px renders do: the
        # survival table in docs/marks_bench.md).
        pytest.param({"crf": 26}, id="h264-crf26"),
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


@pytest.mark.slow
@pytest.mark.parametrize(
    ("edit", "box"),
    [
        pytest.param({"box": (0.0, 0.0, 1.0, 0.85)}, (0.0, 0.0, 1.0, 0.85), id="bottom-15pc"),
        pytest.param({"box": (0.0, 0.15, 1.0, 1.0)}, (0.0, 0.15, 1.0, 1.0), id="top-15pc"),
        pytest.param({"box": (0.15, 0.0, 1.0, 1.0)}, (0.15, 0.0, 1.0, 1.0), id="left-15pc"),
        pytest.param({"box": (0.0, 0.0, 0.9, 0.9)}, (0.0, 0.0, 0.9, 0.9), id="corner-10pc"),
        pytest.param({"box": (0.125, 0.125, 0.875, 0.875)}, (0.125, 0.125, 0.875, 0.875),
                     id="centre-25pc"),
        pytest.param({"mirror": True}, (0.0, 0.0, 1.0, 1.0), id="mirrored"),
        pytest.param({"box": (0.0, 0.0, 1.0, 0.85), "mirror": True, "scale": 0.75},
                     (0.0, 0.0, 1.0, 0.85), id="bottom-15pc-mirrored-smaller"),
        pytest.param({"box": (0.125, 0.125, 0.875, 0.875), "scale": 2.0},
                     (0.125, 0.125, 0.875, 0.875), id="centre-25pc-doubled"),
    ],
)
def test_survives_crops_and_mirroring(
    edit: dict, box: tuple[float, ...], marked_mp4: Path, tmp_path: Path
) -> None:
    """Crops anchored at a side, a corner or the centre, and mirroring, used to remove the
    mark (only centre crops up to ~15 % were searched): the detector now finds where the
    copy sits in the original frame."""
    copy = reencode(marked_mp4, tmp_path / "copy.mp4", crf=23, **edit)
    reading = _read(copy)
    assert reading.found and reading.payload_hex == PAYLOAD, reading
    assert reading.mirrored == edit.get("mirror", False)
    assert np.allclose(reading.view_box, box, atol=0.01)


@pytest.mark.slow
def test_survives_a_chat_app_360p_crf32_copy_with_the_bottom_cut(tmp_path: Path) -> None:
    """A talking head (still background, swaying head) at 512 px, delivered at CRF 20, then cut
    by 15 % at the bottom and re-encoded at 360p CRF 32, as chat apps do. The mark used to go
    wherever the texture was, moving head included; the re-encoder drags a frame-fixed mark
    away with moving content, and this copy read a raw bit error rate of 0.18 (0.12 now that
    the budget goes to still texture first, chosen per 32-frame window from the motion seen
    so far; 0.06 when each chunk looked at its own future frames, which a streamed finish
    cannot do and still mark like the whole clip). ~6 s."""
    clip = talking_clip(ASSETS / "portraits" / "einstein.jpg")
    source = tmp_path / "marked.mp4"
    encode_mp4(as_frames(embed_watermark(clip, PAYLOAD)), None, 0, source, crf=20)
    copy = reencode(source, tmp_path / "copy.mp4", crf=32, box=(0.0, 0.0, 1.0, 0.85),
                    scale=361 / 434)  # fmt: skip
    assert read_video(copy, with_audio=False).rgb.shape[1] == 360
    reading = _read(copy)
    assert reading.found and reading.payload_hex == PAYLOAD, reading
    assert reading.raw_ber <= 0.15, reading
    assert np.allclose(reading.view_box, (0.0, 0.0, 1.0, 0.85), atol=0.01)


def test_cut_and_mirrored_frames_are_found_where_they_sit(portrait_clip: np.ndarray) -> None:
    """The quick loop's resynchronisation check (no encoder): 12 % off the right, mirrored."""
    marked = embed_watermark(portrait_clip[:12], PAYLOAD)
    copy = np.ascontiguousarray(marked[:, :, : 256 * 88 // 100][:, :, ::-1])
    reading = detect_watermark(copy)
    assert reading.payload_hex == PAYLOAD and reading.mirrored
    assert np.allclose(reading.view_box, (0.0, 0.0, 0.88, 1.0), atol=0.005)


def test_first_2s_cut_really_cut(marked_mp4: Path, tmp_path: Path) -> None:
    copy = reencode(marked_mp4, tmp_path / "cut.mp4", start_s=2.0)
    assert read_video(copy, with_audio=False).rgb.shape[0] == 25  # 3 s clip -> the last second


def test_another_payload_reads_as_itself(portrait_clip: np.ndarray) -> None:
    reading = detect_watermark(embed_watermark(portrait_clip[:10], "0000000000000001"))
    assert reading.payload_hex == "0000000000000001"


@pytest.mark.slow
def test_unmarked_real_video_is_not_flagged() -> None:
    reading = _read(ASSETS / "M030_front_neutral_level1_001.mp4")
    assert not reading.found and reading.payload_hex is None
    assert reading.raw_ber > 0.15


@pytest.mark.slow
@pytest.mark.parametrize(
    "portrait", ["einstein.jpg", "woman_in_black_standing.jpg", "mona_lisa.jpg"]
)
def test_unmarked_portrait_clips_are_not_flagged(portrait: str) -> None:
    clip = ken_burns(ASSETS / "portraits" / portrait, 20, seed=3)
    assert not detect_watermark(clip).found


@pytest.mark.parametrize("portrait", ["einstein.jpg", "qing_emperor_painting.png"])
def test_unmarked_crops_and_mirrors_are_not_flagged(portrait: str) -> None:
    """The geometry search tries ~1,400 placements: none may read a payload out of noise."""
    clip = ken_burns(ASSETS / "portraits" / portrait, 12, seed=5)
    assert not detect_watermark(clip[:, 20:, ::-1]).found


def test_flat_frames_are_not_flagged() -> None:
    grey = np.full((5, 128, 160, 3), 128, np.uint8)
    assert not detect_watermark(grey).found
