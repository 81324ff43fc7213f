"""Small real clips for the marking, media and verify tests: slow pans and zooms over real
portraits (Ken Burns), the way a talking-head render moves, at 256x256 to keep tests fast."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from vitaphone.core.media.encode import encode_mp4
from vitaphone.core.media.types import Frames
from vitaphone.core.media.video_io import read_video

ASSETS = Path(__file__).parents[2] / "assets"
PAYLOAD = "5ca1ab1edeadbeef"


def ken_burns(
    image_path: Path, n_frames: int, size: int = 256, zoom: float = 0.1, seed: int = 0
) -> np.ndarray:
    """(n_frames, size, size, 3) uint8: a slow zoom and pan over the image's centre square."""
    rgb = cv2.cvtColor(cv2.imread(str(image_path)), cv2.COLOR_BGR2RGB)
    height, width = rgb.shape[:2]
    side = min(height, width)
    shift = np.random.default_rng(seed).uniform(-0.04, 0.04, 2) * side
    out = np.empty((n_frames, size, size, 3), np.uint8)
    for i in range(n_frames):
        t = i / max(n_frames - 1, 1)
        crop = side / (1.0 + zoom * t)
        cx, cy = width / 2 + shift[0] * t, height / 2 + shift[1] * t
        scale = size / crop
        matrix = np.float32(
            [[scale, 0, -(cx - crop / 2) * scale], [0, scale, -(cy - crop / 2) * scale]]
        )
        out[i] = cv2.warpAffine(
            rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT
        )
    return out


def as_frames(rgb: np.ndarray, fps: float = 25.0) -> Frames:
    size = rgb.shape[1]
    return Frames(
        rgb, fps, (0, 0, size, size), (size // 4, size // 8, 3 * size // 4, 3 * size // 4)
    )


def reencode(
    src: Path,
    dest: Path,
    *,
    crf: int = 28,
    scale: float = 1.0,
    crop: float = 0.0,
    start_s: float = 0.0,
) -> Path:
    """Decode `src`, optionally cut its start, centre-crop `crop` of each side's length in
    total, rescale, and encode again with H.264 at `crf`: what a platform or a re-uploader does."""
    video = read_video(src, with_audio=False, start_s=start_s)
    frames = []
    for frame in video.rgb:
        h, w = frame.shape[:2]
        if crop:
            ch, cw = int(h * (1 - crop)) // 2 * 2, int(w * (1 - crop)) // 2 * 2
            frame = frame[(h - ch) // 2 : (h - ch) // 2 + ch, (w - cw) // 2 : (w - cw) // 2 + cw]
        if scale != 1.0:
            size = (int(frame.shape[1] * scale) // 2 * 2, int(frame.shape[0] * scale) // 2 * 2)
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        frames.append(frame)
    encode_mp4(as_frames(np.stack(frames), video.fps), None, 0, dest, crf=crf)
    return dest
