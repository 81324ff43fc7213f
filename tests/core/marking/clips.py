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


def flat_background_portrait(size: int = 512) -> np.ndarray:
    """(size, size, 3) uint8: a real face (the Mona Lisa's, in an oval) on a perfectly flat
    studio backdrop, the case where a watermark shows first."""
    rgb = cv2.cvtColor(cv2.imread(str(ASSETS / "portraits" / "mona_lisa.jpg")), cv2.COLOR_BGR2RGB)
    height, width = rgb.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 3, (width - side) // 2
    face = cv2.resize(rgb[top : top + side, left : left + side], (size, size),
                      interpolation=cv2.INTER_AREA)  # fmt: skip
    oval = np.zeros((size, size), np.uint8)
    cv2.ellipse(oval, (size // 2, size * 9 // 20), (size * 3 // 10, size * 2 // 5), 0, 0, 360,
                255, -1)  # fmt: skip
    out = np.empty_like(face)
    out[:] = (168, 182, 196)  # a flat blue-grey backdrop
    out[oval > 0] = face[oval > 0]
    return out


def still_clip(image: np.ndarray, n_frames: int, zoom: float = 0.03) -> np.ndarray:
    """(n_frames, H, W, 3): a slow zoom into `image` (H, W, 3) uint8, flat parts stay flat."""
    height, width = image.shape[:2]
    out = np.empty((n_frames, height, width, 3), np.uint8)
    for i in range(n_frames):
        scale = 1.0 + zoom * i / max(n_frames - 1, 1)
        matrix = cv2.getRotationMatrix2D((width / 2, height / 2), 0.0, scale)
        out[i] = cv2.warpAffine(image, matrix, (width, height), flags=cv2.INTER_LINEAR,
                                borderMode=cv2.BORDER_REPLICATE)  # fmt: skip
    return out


def flat_area_delta(original: np.ndarray, marked: np.ndarray) -> float:
    """Mean |luma change| over the pixels whose 9x9 neighbourhood in the source has a standard
    deviation below 2 grey levels (flat backgrounds), pooled over (n, H, W, 3) uint8 stacks.
    0.0 when flat pixels are fewer than 0.1 % of all: a portrait textured all over has no flat
    area to see a pattern on (a lone pixel at the border read 2.0)."""
    total, count = 0.0, 0
    for before, after in zip(original, marked):
        y0 = cv2.cvtColor(before, cv2.COLOR_RGB2GRAY).astype(np.float32)
        y1 = cv2.cvtColor(after, cv2.COLOR_RGB2GRAY).astype(np.float32)
        mean = cv2.blur(y0, (9, 9))
        std = np.sqrt(np.maximum(cv2.blur(y0 * y0, (9, 9)) - mean * mean, 0.0))
        flat = std < 2.0
        total += float(np.abs(y1 - y0)[flat].sum())
        count += int(flat.sum())
    return total / count if count >= 1e-3 * original[..., 0].size else 0.0


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
    box: tuple[float, float, float, float] | None = None,
    mirror: bool = False,
) -> Path:
    """Decode `src`, optionally cut its start, centre-crop `crop` of each side's length in
    total (or keep `box`, relative x0, y0, x1, y1), mirror, rescale, and encode again with
    H.264 at `crf`: what a platform or a re-uploader does."""
    video = read_video(src, with_audio=False, start_s=start_s)
    frames = []
    for frame in video.rgb:
        h, w = frame.shape[:2]
        if crop:
            ch, cw = int(h * (1 - crop)) // 2 * 2, int(w * (1 - crop)) // 2 * 2
            frame = frame[(h - ch) // 2 : (h - ch) // 2 + ch, (w - cw) // 2 : (w - cw) // 2 + cw]
        if box is not None:
            x0, y0, x1, y1 = (round(v * n) for v, n in zip(box, (w, h, w, h)))
            frame = frame[y0 : y0 + (y1 - y0) // 2 * 2, x0 : x0 + (x1 - x0) // 2 * 2]
        if mirror:
            frame = np.ascontiguousarray(frame[:, ::-1])
        if scale != 1.0:
            size = (int(frame.shape[1] * scale) // 2 * 2, int(frame.shape[0] * scale) // 2 * 2)
            frame = cv2.resize(frame, size, interpolation=cv2.INTER_AREA)
        frames.append(frame)
    encode_mp4(as_frames(np.stack(frames), video.fps), None, 0, dest, crf=crf)
    return dest


def talking_clip(image_path: Path, n_frames: int = 75, size: int = 512) -> np.ndarray:
    """(n_frames, size, size, 3) uint8: the portrait's centre square standing still, with a soft
    head-sized region swaying a few pixels, the way a talking-head render moves (a re-encoder
    treats still and moving parts very differently)."""
    rgb = cv2.cvtColor(cv2.imread(str(image_path)), cv2.COLOR_BGR2RGB)
    height, width = rgb.shape[:2]
    side = min(height, width)
    top, left = (height - side) // 2, (width - side) // 2
    still = cv2.resize(rgb[top : top + side, left : left + side], (size, size),
                       interpolation=cv2.INTER_AREA)  # fmt: skip
    yy, xx = np.mgrid[:size, :size].astype(np.float32)
    head = np.clip(1.4 - np.hypot((xx - size / 2) / (0.28 * size),
                                  (yy - 0.45 * size) / (0.36 * size)), 0.0, 1.0)  # fmt: skip
    out = np.empty((n_frames, size, size, 3), np.uint8)
    for i in range(n_frames):
        dx, dy = 5 * np.sin(2 * np.pi * i / 40), 3 * np.sin(2 * np.pi * i / 28)
        out[i] = cv2.remap(still, (xx - dx * head).astype(np.float32),
                           (yy - dy * head).astype(np.float32), cv2.INTER_LINEAR)  # fmt: skip
    return out
