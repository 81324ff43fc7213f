"""A compact fingerprint of a video's content, so that verify can tell our exact file, an edited
copy of it and another video that merely carries a copy of our watermark apart.

The watermark key is public (anyone's verifier must read it), so a payload can be copied into
any video. What cannot be copied is what our video showed. At render time we keep:

- the output's sha256 and duration;
- a 64-bit perceptual hash (DCT pHash) of the frame's centre region [0.2, 0.8]^2 every
  `INTERVAL_S` seconds (30 hashes, 480 hex characters for a 15 s clip).

The centre region stays in view after every crop the watermark survives (15 % off any side, a
25 % centre crop), and the watermark detector reports which part of the original frame the copy
shows and whether it is mirrored, so the same region is hashed in the copy. A pHash changes by
a few bits under re-encoding, rescaling and small misregistration, and by ~32 of 64 bits
between unrelated pictures.

Arrays: frames (n, H, W, 3) uint8 RGB.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

INTERVAL_S = 0.5
REGION = (0.2, 0.2, 0.8, 0.8)  # x0, y0, x1, y1 of the original frame, relative
# Median best-match Hamming distance (of 64 bits) up to which a copy counts as "the same
# picture": re-encodes, rescales, crops and flips of our renders measure 0-8, unrelated videos
# (other portraits, real talking heads) 20+ (docs/marks_bench.md).
SAME_CONTENT_MAX_BITS = 12
VERSION = 1


@dataclass(frozen=True)
class ContentFingerprint:
    """What we keep about one output: sha256 (hex), duration_s, and frame_hashes[k], the pHash
    (16 hex digits) of the frame shown at k * interval_s seconds."""

    sha256: str
    duration_s: float
    frame_hashes: tuple[str, ...]
    interval_s: float = INTERVAL_S

    def as_json(self) -> dict[str, Any]:
        """The JSON stored with the provenance record (sha256 has its own column)."""
        return {"v": VERSION, "interval_s": self.interval_s, "region": list(REGION),
                "hashes": list(self.frame_hashes)}  # fmt: skip

    @classmethod
    def from_json(cls, sha256: str, duration_s: float, data: dict[str, Any]) -> ContentFingerprint:
        return cls(sha256, duration_s, tuple(data["hashes"]), float(data["interval_s"]))


@dataclass(frozen=True)
class ContentComparison:
    """How a file compares with a recorded fingerprint.

    exact: same bytes. same_content: the picture matches (median distance <= the threshold).
    median_bits: median over the file's sampled frames of the Hamming distance to the closest
    recorded hash (0 = identical pictures, ~32 = unrelated); None when nothing was comparable."""

    exact: bool
    same_content: bool
    median_bits: float | None
    frames_compared: int


@dataclass(frozen=True)
class View:
    """Which part of the original frame a copy shows: box (x0, y0, x1, y1) in original-relative
    coordinates, and whether the copy is mirrored left-right. The identity for an unedited file."""

    box: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    mirrored: bool = False


def phash(frame: np.ndarray, view: View = View()) -> int:
    """64-bit DCT perceptual hash of the original frame's REGION, as seen in `frame`
    ((H, W, 3) uint8) which shows `view` of the original."""
    height, width = frame.shape[:2]
    x0, y0, x1, y1 = view.box
    rx0, ry0, rx1, ry1 = REGION
    # REGION in the copy's pixels (clipped to what the copy still shows).
    left = (rx0 - x0) / (x1 - x0) * width
    right = (rx1 - x0) / (x1 - x0) * width
    if view.mirrored:
        left, right = width - right, width - left
    top = (ry0 - y0) / (y1 - y0) * height
    bottom = (ry1 - y0) / (y1 - y0) * height
    cols = slice(max(0, round(left)), min(width, max(round(right), round(left) + 1)))
    rows = slice(max(0, round(top)), min(height, max(round(bottom), round(top) + 1)))
    luma = cv2.cvtColor(np.ascontiguousarray(frame[rows, cols]), cv2.COLOR_RGB2GRAY)
    if view.mirrored:
        luma = luma[:, ::-1]
    small = cv2.resize(luma.astype(np.float32), (32, 32), interpolation=cv2.INTER_AREA)
    low = cv2.dct(small)[:8, :8].reshape(-1)
    bits = low > np.median(low[1:])  # the DC term would dominate the median
    return int(np.packbits(bits.astype(np.uint8)).view(">u8")[0])


def fingerprint_frames(
    rgb: np.ndarray, fps: float, sha256: str, duration_s: float, frame_step: int = 1
) -> ContentFingerprint:
    """The fingerprint of a decoded video: `rgb` holds every `frame_step`-th frame at `fps`."""
    hashes = []
    n_times = max(1, int(np.floor(duration_s / INTERVAL_S + 1e-6)))
    for k in range(n_times):
        index = min(len(rgb) - 1, round(k * INTERVAL_S * fps / frame_step))
        hashes.append(f"{phash(rgb[index]):016x}")
    return ContentFingerprint(sha256, round(float(duration_s), 3), tuple(hashes))


def observe(
    rgb: np.ndarray, fps: float, sha256: str, frame_step: int = 1, view: View = View(),
    max_frames: int = 24,
) -> ContentFingerprint:
    """The fingerprint of a file under check: up to `max_frames` of its decoded frames `rgb`
    (every `frame_step`-th frame at `fps`), which show `view` of the original, hashed."""
    pick = np.unique(np.linspace(0, len(rgb) - 1, min(max_frames, len(rgb))).round().astype(int))
    hashes = tuple(f"{phash(rgb[i], view):016x}" for i in pick)
    duration_s = len(rgb) * frame_step / fps if fps else 0.0
    return ContentFingerprint(sha256, round(duration_s, 3), hashes,
                              frame_step * (pick[1] - pick[0]) / fps if len(pick) > 1 and fps
                              else INTERVAL_S)  # fmt: skip


def compare(recorded: ContentFingerprint, seen: ContentFingerprint) -> ContentComparison:
    """Compare the fingerprint of a file under check (`observe`) with a recorded one.

    Each of the file's hashes is matched with the closest recorded hash at any time: a trimmed
    copy starts elsewhere, and content that differs differs at every time (a talking head
    changes little from frame to frame, so an edit cannot match by picking times)."""
    exact = seen.sha256 == recorded.sha256
    table = np.array([int(h, 16) for h in recorded.frame_hashes], np.uint64)
    if not seen.frame_hashes or len(table) == 0:
        return ContentComparison(exact, exact, None, 0)
    distances = [hamming_min(table, int(h, 16)) for h in seen.frame_hashes]
    median = float(np.median(distances))
    return ContentComparison(exact, exact or median <= SAME_CONTENT_MAX_BITS, median,
                             len(distances))  # fmt: skip


def hamming_min(table: np.ndarray, value: int) -> int:
    """Smallest Hamming distance between `value` and the (n,) uint64 hashes in `table`."""
    xor = table ^ np.uint64(value)
    return int(np.unpackbits(xor.view(np.uint8).reshape(-1, 8), axis=1).sum(1).min())
