"""The content fingerprint: the same picture after re-encoding, rescaling, cropping and mirroring
reads close to the record; another picture carrying the same watermark does not."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from tests.core.marking.clips import ASSETS, as_frames, ken_burns
from vitaphone.core.marking import fingerprint as fp
from vitaphone.core.marking.marks import fingerprint_video
from vitaphone.core.media.encode import encode_mp4
from vitaphone.core.media.video_io import read_video


@pytest.fixture(scope="module")
def made(portrait_clip: np.ndarray, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("fp") / "made.mp4"
    encode_mp4(as_frames(portrait_clip), None, 0, path, crf=20)
    return path


def _seen(rgb: np.ndarray, view: fp.View = fp.View(), sha: str = "0" * 64) -> fp.ContentFingerprint:
    return fp.observe(rgb, 25.0, sha, 1, view)


def test_recorded_fingerprint_is_compact_and_exact_for_the_same_file(made: Path) -> None:
    recorded = fingerprint_video(made)
    assert recorded.sha256 == hashlib.sha256(made.read_bytes()).hexdigest()
    assert len(recorded.frame_hashes) == 6 and 2.9 <= recorded.duration_s <= 3.3  # 3 s, 0.5 s apart
    assert len(str(recorded.as_json())) < 400
    again = fp.ContentFingerprint.from_json(recorded.sha256, recorded.duration_s,
                                            recorded.as_json())  # fmt: skip
    assert again == recorded
    decoded = read_video(made, with_audio=False)
    result = fp.compare(recorded, _seen(decoded.rgb, sha=recorded.sha256))
    assert result.exact and result.same_content and result.median_bits == 0


def _edit(rgb: np.ndarray, box: tuple[float, float, float, float], mirror: bool,
          scale: float) -> np.ndarray:  # fmt: skip
    h, w = rgb.shape[1:3]
    x0, y0, x1, y1 = box
    out = []
    for frame in rgb:
        part = frame[round(y0 * h) : round(y1 * h), round(x0 * w) : round(x1 * w)]
        part = part[:, ::-1] if mirror else part
        size = (round(part.shape[1] * scale), round(part.shape[0] * scale))
        out.append(cv2.resize(np.ascontiguousarray(part), size, interpolation=cv2.INTER_AREA))
    return np.stack(out)


@pytest.mark.parametrize(
    ("box", "mirror", "scale"),
    [
        ((0.0, 0.0, 1.0, 1.0), False, 0.5),
        ((0.0, 0.0, 1.0, 0.85), False, 1.0),  # the bottom 15 % (the label strip) cut off
        ((0.125, 0.125, 0.875, 0.875), True, 1.4),  # 25 % centre crop, mirrored, enlarged
        ((0.1, 0.0, 1.0, 0.9), True, 0.7),  # corner crop, mirrored, shrunk
    ],
)
def test_an_edited_copy_matches_when_its_view_is_known(
    made: Path, box: tuple[float, float, float, float], mirror: bool, scale: float
) -> None:
    recorded = fingerprint_video(made)
    copy = _edit(read_video(made, with_audio=False).rgb, box, mirror, scale)
    result = fp.compare(recorded, _seen(copy, fp.View(box, mirror)))
    assert not result.exact and result.same_content, result
    assert result.median_bits <= 6


@pytest.mark.parametrize("other", ["einstein.jpg", "woman_in_black_standing.jpg"])
def test_another_picture_does_not_match(made: Path, other: str) -> None:
    recorded = fingerprint_video(made)
    result = fp.compare(recorded, _seen(ken_burns(ASSETS / "portraits" / other, 30)))
    assert not result.same_content and result.median_bits >= 2 * fp.SAME_CONTENT_MAX_BITS - 4


def test_a_real_talking_head_does_not_match(made: Path) -> None:
    recorded = fingerprint_video(made)
    real = read_video(ASSETS / "M030_front_neutral_level1_001.mp4", with_audio=False, max_frames=50)
    result = fp.compare(recorded, _seen(real.rgb))
    assert not result.same_content, result
