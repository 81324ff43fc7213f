"""encode_mp4 -> read_video round trips: streams, faststart layout, size budget, bad files."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from tests.core.marking.clips import ASSETS, as_frames, ken_burns
from vitaphone.core.errors import BadOption, BadVideo
from vitaphone.core.media.encode import encode_mp4, plan_bitrates
from vitaphone.core.media.video_io import read_video

SR = 22050


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return ken_burns(ASSETS / "portraits" / "einstein.jpg", 50)


def _speechlike(seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return (0.2 * np.sin(2 * np.pi * 180 * t) * (0.5 + 0.5 * np.sin(2 * np.pi * 3 * t))).astype(
        np.float32
    )


def _top_level_boxes(path: Path) -> list[str]:
    data, boxes, offset = path.read_bytes(), [], 0
    while offset < len(data):
        size, kind = struct.unpack(">I4s", data[offset : offset + 8])
        if size == 1:
            size = struct.unpack(">Q", data[offset + 8 : offset + 16])[0]
        boxes.append(kind.decode())
        offset += size
    return boxes


def test_round_trip(clip: np.ndarray, tmp_path: Path) -> None:
    out = encode_mp4(as_frames(clip), _speechlike(2.0), SR, tmp_path / "a.mp4")
    assert out.bytes == (tmp_path / "a.mp4").stat().st_size and out.duration_s == pytest.approx(2.0)
    assert out.video_kbps > 0 and 0 < out.audio_kbps <= 130
    video = read_video(out.path)
    assert video.rgb.shape == clip.shape and video.fps == 25.0
    assert np.abs(video.rgb.astype(int) - clip).mean() < 4  # CRF 20: close to the source
    assert video.sample_rate_hz == SR and abs(len(video.audio) - 2 * SR) < 2048
    assert np.corrcoef(video.audio[:SR, 0], _speechlike(1.0))[0, 1] > 0.9


def test_faststart_and_not_fragmented(clip: np.ndarray, tmp_path: Path) -> None:
    encode_mp4(as_frames(clip[:10]), None, SR, tmp_path / "b.mp4")
    boxes = _top_level_boxes(tmp_path / "b.mp4")
    assert boxes.index("moov") < boxes.index("mdat")
    assert "moof" not in boxes


def test_size_budget_is_respected(clip: np.ndarray, tmp_path: Path) -> None:
    long_clip = np.concatenate([clip, clip[::-1]] * 3)  # 12 s
    free = encode_mp4(as_frames(long_clip), _speechlike(12.0), SR, tmp_path / "free.mp4", crf=14)
    budget = free.bytes // 2
    capped = encode_mp4(
        as_frames(long_clip),
        _speechlike(12.0),
        SR,
        tmp_path / "capped.mp4",
        crf=14,
        size_budget_bytes=budget,
    )
    assert capped.bytes <= budget
    assert capped.video_kbps < free.video_kbps


def test_budget_too_small_for_the_duration_is_refused() -> None:
    with pytest.raises(BadOption, match="too small"):
        plan_bitrates(100_000, 15.0, has_audio=True)
    audio_kbps, video_kbps = plan_bitrates(10 * 1024 * 1024, 15.0, has_audio=True)
    assert audio_kbps == 128 and video_kbps > 4000


def test_odd_dimensions_are_a_programming_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="even"):
        encode_mp4(as_frames(np.zeros((2, 255, 256, 3), np.uint8)), None, SR, tmp_path / "c.mp4")


def test_not_a_video_is_a_clear_error(tmp_path: Path) -> None:
    junk = tmp_path / "notes.mp4"
    junk.write_text("not a video")
    with pytest.raises(BadVideo, match="notes.mp4"):
        read_video(junk)
    with pytest.raises(BadVideo, match="no such file"):
        read_video(tmp_path / "missing.mp4")
    with pytest.raises(BadVideo, match="no video stream"):
        read_video(_audio_only(tmp_path))


def _audio_only(tmp_path: Path) -> Path:
    import av

    path = tmp_path / "voice.m4a"
    with av.open(str(path), "w") as container:
        stream = container.add_stream("aac", rate=SR)
        samples = _speechlike(0.5)[None]
        frame = av.AudioFrame.from_ndarray(samples[:, :1024], format="fltp", layout="mono")
        frame.sample_rate = SR
        container.mux(stream.encode(frame))
        container.mux(stream.encode(None))
    return path


def test_sampling_keeps_frames_spread_over_the_video() -> None:
    video = read_video(
        ASSETS / "M030_front_neutral_level1_001.mp4", with_audio=False, sample_frames=10
    )
    assert video.frame_step == 9 and 10 <= video.rgb.shape[0] <= 11


def test_streamed_batches_encode_like_the_whole_clip(clip: np.ndarray, tmp_path: Path) -> None:
    """Batches in, a valid MP4 out: all frames, the audio, and the very bytes `encode_mp4`
    writes for the whole clip (x264 is deterministic, so streaming changes nothing)."""
    from vitaphone.core.media.encode import StreamingEncoder

    whole = encode_mp4(as_frames(clip), _speechlike(2.0), SR, tmp_path / "whole.mp4")
    with StreamingEncoder(
        tmp_path / "streamed.mp4", width=256, height=256, fps=25.0,
        audio=_speechlike(2.0), sample_rate_hz=SR,
    ) as encoder:  # fmt: skip
        for start in range(0, len(clip), 13):
            encoder.add(clip[start : start + 13])
        streamed = encoder.close()
    video = read_video(streamed.path)
    assert video.rgb.shape == clip.shape and abs(len(video.audio) - 2 * SR) < 2048
    assert streamed.path.read_bytes() == whole.path.read_bytes()


@pytest.mark.slow
def test_streamed_encoder_with_a_budget_keeps_it(clip: np.ndarray, tmp_path: Path) -> None:
    from vitaphone.core.media.encode import StreamingEncoder

    long_clip = np.concatenate([clip, clip[::-1]] * 3)  # 12 s
    free = encode_mp4(as_frames(long_clip), _speechlike(12.0), SR, tmp_path / "free.mp4", crf=14)
    budget = free.bytes // 2
    with StreamingEncoder(
        tmp_path / "capped.mp4", width=256, height=256, fps=25.0, audio=_speechlike(12.0),
        sample_rate_hz=SR, crf=14, size_budget_bytes=budget, n_frames=len(long_clip),
    ) as encoder:  # fmt: skip
        for start in range(0, len(long_clip), 50):
            encoder.add(long_clip[start : start + 50])
        capped = encoder.close()
    assert capped.bytes <= budget and capped.video_kbps < free.video_kbps
    assert read_video(capped.path).rgb.shape == long_clip.shape


def test_streamed_encoder_refuses_bad_batches_and_cleans_up(tmp_path: Path) -> None:
    from vitaphone.core.media.encode import StreamingEncoder

    out = tmp_path / "bad.mp4"
    with (
        pytest.raises(ValueError, match=r"batch must be \(b, 64, 64, 3\)"),
        StreamingEncoder(out, width=64, height=64, fps=25.0, audio=None, sample_rate_hz=SR) as enc,
    ):
        enc.add(np.zeros((2, 64, 64, 3), np.uint8))
        enc.add(np.zeros((2, 64, 66, 3), np.uint8))
    assert not out.exists()  # a failed encode leaves no half-written file
    with pytest.raises(ValueError, match="n_frames"):
        StreamingEncoder(out, width=64, height=64, fps=25.0, audio=None, sample_rate_hz=SR,
                         size_budget_bytes=10**6)  # fmt: skip
