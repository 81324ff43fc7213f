"""finish_video: one call marks, labels, encodes and signs; the result fits its size budget."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest

from tests.core.marking.clips import PAYLOAD, as_frames
from vitaphone.core.marking import c2pa_credentials as cc
from vitaphone.core.marking.label import LabelOptions
from vitaphone.core.marking.marks import FinishOptions, finish_video, inspect_video


def test_finished_video_carries_every_mark_and_fits_the_budget(
    portrait_clip: np.ndarray, tmp_path: Path
) -> None:
    credentials = cc.load_or_create_credentials(tmp_path / "c2pa")
    frames = as_frames(np.concatenate([portrait_clip, portrait_clip[::-1]]))  # 6 s
    budget = 240_000  # unconstrained, this clip encodes to ~250 KB
    speech = (0.2 * np.sin(np.arange(6 * 16000) * 2 * np.pi * 150 / 16000)).astype(np.float32)
    done = finish_video(
        frames,
        speech,
        16000,
        tmp_path / "out" / "video.mp4",
        assertion=cc.ProvenanceAssertion(PAYLOAD, "self", job_id="j1"),
        credentials=credentials,
        version="9.9.9",
        options=FinishOptions(label=LabelOptions(corner="top-right"), size_budget_bytes=budget),
    )
    data = done.path.read_bytes()
    assert len(data) <= budget and done.encoded.bytes == len(data)
    assert done.sha256 == hashlib.sha256(data).hexdigest()
    assert set(done.timings_s) == {"marks", "encode", "sign"}
    assert sorted(p.name for p in done.path.parent.iterdir()) == ["video.mp4"]  # no temp left
    marks = inspect_video(done.path, credentials.trust_anchor_pem)
    assert marks.watermark.payload_hex == PAYLOAD
    assert marks.credentials.status == cc.STATUS_TRUSTED
    assert marks.credentials.manifest_id == done.c2pa_manifest_id
    assert marks.credentials.assertion["job_id"] == "j1"
    x0, y0, x1, y1 = done.label_box_xyxy
    assert y0 < 30 and x1 > 200  # top-right, as asked (the head box is centred)


def _finish(frames_format, tmp_path: Path, credentials, name: str = "video.mp4"):
    from vitaphone.core.marking.marks import start_finish

    speech = (0.2 * np.sin(np.arange(3 * 16000) * 2 * np.pi * 150 / 16000)).astype(np.float32)
    return start_finish(
        frames_format,
        speech,
        16000,
        tmp_path / "out" / name,
        assertion=cc.ProvenanceAssertion(PAYLOAD, "self"),
        credentials=credentials,
        version="9.9.9",
    )


@pytest.mark.slow
def test_streamed_finish_marks_exactly_like_the_whole_clip(
    portrait_clip: np.ndarray, tmp_path: Path
) -> None:
    """Batches of any size (here 7 and 11, not the watermark's 32-frame chunk) get the same
    pixels as the whole clip marked at once, and the file carries every mark."""
    from vitaphone.core.marking.marks import mark_frames
    from vitaphone.core.media.video_io import read_video

    credentials = cc.load_or_create_credentials(tmp_path / "c2pa")
    whole = mark_frames(as_frames(portrait_clip.copy()), PAYLOAD, in_place=True)
    for size in (7, 11):
        clip = portrait_clip.copy()
        batches = [clip[i : i + size].copy() for i in range(0, len(clip), size)]
        with _finish(as_frames(clip).format, tmp_path, credentials, f"v{size}.mp4") as finish:
            for batch in batches:
                finish.add(batch)  # marked in place
            done = finish.close()
        assert np.array_equal(np.concatenate(batches), whole.frames.rgb)
        assert done.label_box_xyxy == whole.box_xyxy
        assert set(done.timings_s) == {"marks", "encode", "sign"}
        video = read_video(done.path)
        assert video.rgb.shape == portrait_clip.shape and video.audio is not None
        marks = inspect_video(done.path, credentials.trust_anchor_pem)
        assert marks.watermark.payload_hex == PAYLOAD
        assert marks.credentials.status == cc.STATUS_TRUSTED
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["v11.mp4", "v7.mp4"]


def test_a_short_stream_fails_and_leaves_nothing(portrait_clip: np.ndarray, tmp_path: Path) -> None:
    import pytest

    credentials = cc.load_or_create_credentials(tmp_path / "c2pa")
    with (
        pytest.raises(ValueError, match="expected 75 frames, 40 were added"),
        _finish(as_frames(portrait_clip).format, tmp_path, credentials) as finish,
    ):
        finish.add(portrait_clip[:40].copy())
        finish.close()
    assert list((tmp_path / "out").iterdir()) == []  # no output, no temporary directory
