"""Finish a rendered clip: watermark, label, encode, sign. The one call the pipeline makes.

Order matters: the invisible watermark goes into the pixels first, the visible badge on top
(so the badge stays crisp; the few watermark blocks under it are outvoted by the rest), then
H.264 + AAC encoding, and C2PA signing last, because signing hashes the final file's bytes.
There is no option to skip the label, the watermark or the signature.

`start_finish` does the same batch by batch while the renderer makes the next batch;
`finish_video` is the whole clip as one batch through it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

import numpy as np

from vitaphone.core.marking.c2pa_credentials import (
    CredentialsReport,
    ProvenanceAssertion,
    SigningCredentials,
    read_credentials,
    sign_mp4,
)
from vitaphone.core.marking.fingerprint import (
    ContentFingerprint,
    View,
    fingerprint_frames,
    observe,
)
from vitaphone.core.marking.label import LabelledFrames, LabelOptions, apply_label
from vitaphone.core.marking.watermark import (
    WatermarkReading,
    detect_watermark,
    MotionHistory,
    embed_watermark,
)
from vitaphone.core.media.encode import EncodedVideo, StreamingEncoder
from vitaphone.core.media.types import FrameFormat, Frames
from vitaphone.core.media.video_io import read_video

# Frames the detector reads, spread over the video: the soft vote saturates well before this.
_VERIFY_FRAMES = 48


@dataclass(frozen=True)
class FinishOptions:
    """Per-call options: label text/position, encoder quality and the size budget (bytes)."""

    label: LabelOptions = field(default_factory=LabelOptions)
    crf: int = 20
    preset: str = "veryfast"
    size_budget_bytes: int | None = None


@dataclass(frozen=True)
class FinishedVideo:
    """The signed MP4 and what the provenance record needs about it.

    timings_s: seconds per step (marks = watermark + label, encode, sign)."""

    path: Path
    sha256: str
    encoded: EncodedVideo
    watermark_payload_hex: str
    c2pa_manifest_id: str
    label_box_xyxy: tuple[int, int, int, int]
    timings_s: dict[str, float]


def mark_frames(
    frames: Frames,
    payload_hex: str,
    label: LabelOptions = LabelOptions(),
    *,
    in_place: bool = False,
    history: MotionHistory | None = None,
) -> LabelledFrames:
    """Watermark then label every frame. With `in_place` the renderer's array is reused (at
    512 px and 375 frames a copy alone costs more than both marks). Batches of one clip share
    a `history` (see `watermark.MotionHistory`)."""
    rgb = embed_watermark(frames.rgb, payload_hex, in_place=in_place, history=history)
    return apply_label(
        Frames(rgb, frames.fps, frames.crop_xyxy, frames.head_box_xyxy), label, in_place=True
    )


def finish_video(
    frames: Frames,
    audio: np.ndarray | None,
    sample_rate_hz: int,
    out_path: str | os.PathLike[str],
    *,
    assertion: ProvenanceAssertion,
    credentials: SigningCredentials,
    version: str,
    options: FinishOptions = FinishOptions(),
) -> FinishedVideo:
    """Mark (in place: `frames.rgb` is consumed), encode and sign into `out_path`: the whole
    clip as one batch through `start_finish`.

    The watermark payload is `assertion.watermark_payload_hex`, so the pixels and the manifest
    carry the same id.
    """
    with start_finish(
        frames.format,
        audio,
        sample_rate_hz,
        out_path,
        assertion=assertion,
        credentials=credentials,
        version=version,
        options=options,
    ) as finish:
        finish.add(frames.rgb)
        return finish.close()


def start_finish(
    fmt: FrameFormat,
    audio: np.ndarray | None,
    sample_rate_hz: int,
    out_path: str | os.PathLike[str],
    *,
    assertion: ProvenanceAssertion,
    credentials: SigningCredentials,
    version: str,
    options: FinishOptions = FinishOptions(),
) -> FinishStream:
    """Open a streaming finish for `fmt.n_frames` frames: `add(rgb)` each batch as it is
    rendered, then `close()` -> `FinishedVideo`. Use it as a context manager: on an error the
    partial output is removed and nothing appears at `out_path`."""
    return FinishStream(fmt, audio, sample_rate_hz, Path(out_path), assertion, credentials,
                        version, options)  # fmt: skip


class FinishStream:
    """Watermark + label each batch in place and feed it to the encoder; sign on close.

    Every step is per frame (the watermark embeds the same codeword into each frame, weighting
    its blocks by how still the picture was over the frames before it, carried across batches
    in a `MotionHistory`; the badge tile and its place depend only on the frame size and head
    box), so any batching gives the same pixels as marking the whole clip at once.
    """

    def __init__(
        self,
        fmt: FrameFormat,
        audio: np.ndarray | None,
        sample_rate_hz: int,
        out: Path,
        assertion: ProvenanceAssertion,
        credentials: SigningCredentials,
        version: str,
        options: FinishOptions,
    ) -> None:
        self.format, self.out = fmt, out
        self._assertion, self._credentials, self._version = assertion, credentials, version
        self._label = options.label
        self.timings_s: dict[str, float] = {"marks": 0.0, "encode": 0.0}
        self._box: tuple[int, int, int, int] | None = None
        self._history = MotionHistory()
        out.parent.mkdir(parents=True, exist_ok=True)
        self._tmp = tempfile.TemporaryDirectory(dir=out.parent, prefix=".vitaphone-")
        try:
            self._encoder = StreamingEncoder(
                Path(self._tmp.name) / "unsigned.mp4",
                width=fmt.width,
                height=fmt.height,
                fps=fmt.fps,
                audio=audio,
                sample_rate_hz=sample_rate_hz,
                crf=options.crf,
                preset=options.preset,
                size_budget_bytes=options.size_budget_bytes,
                n_frames=fmt.n_frames,
            )
        except BaseException:
            self._tmp.cleanup()
            raise

    def add(self, rgb: np.ndarray) -> None:
        """Mark (in place) and encode a batch (b, H, W, 3) uint8 of the next frames."""
        self.mark(rgb)
        self.encode(rgb)

    def mark(self, rgb: np.ndarray) -> None:
        """Watermark and label a batch in place (`add`'s first half: batches may be marked on
        one thread and encoded on another, each in order)."""
        fmt = self.format
        start = time.perf_counter()
        batch = Frames(rgb, fmt.fps, fmt.crop_xyxy, fmt.head_box_xyxy)
        labelled = mark_frames(batch, self._assertion.watermark_payload_hex, self._label,
                               in_place=True, history=self._history)  # fmt: skip
        self._box = labelled.box_xyxy
        self.timings_s["marks"] += time.perf_counter() - start

    def encode(self, rgb: np.ndarray) -> None:
        """Encode a batch `mark` has marked (`add`'s second half)."""
        start = time.perf_counter()
        self._encoder.add(rgb)
        self.timings_s["encode"] += time.perf_counter() - start

    def close(self) -> FinishedVideo:
        """Finish encoding, sign, move the signed file to `out` (only a complete, signed file
        ever appears there) and describe it."""
        try:
            return self._close()
        except BaseException:
            self.abort()
            raise

    def _close(self) -> FinishedVideo:
        added = self._encoder.frames_added
        if added != self.format.n_frames or self._box is None:
            raise ValueError(f"expected {self.format.n_frames} frames, {added} were added")
        start = time.perf_counter()
        encoded = self._encoder.close()
        self.timings_s["encode"] += time.perf_counter() - start
        start = time.perf_counter()
        signed = Path(self._tmp.name) / "signed.mp4"
        manifest_id = sign_mp4(encoded.path, signed, self._credentials, self._assertion,
                               version=self._version)  # fmt: skip
        signed.replace(self.out)
        self.timings_s["sign"] = time.perf_counter() - start
        self._tmp.cleanup()
        data = self.out.read_bytes()
        encoded = EncodedVideo(
            self.out, len(data), encoded.duration_s, encoded.video_kbps, encoded.audio_kbps
        )
        return FinishedVideo(
            self.out,
            hashlib.sha256(data).hexdigest(),
            encoded,
            self._assertion.watermark_payload_hex,
            manifest_id,
            self._box,
            dict(self.timings_s),
        )

    def abort(self) -> None:
        """Drop the partial encode and its temporary files (idempotent)."""
        self._encoder.abort()
        self._tmp.cleanup()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()


@dataclass(frozen=True)
class VideoMarks:
    """What a file carries: its C2PA credentials, the watermark reading, and the fingerprint of
    what it shows (its sha256, duration and frame hashes, taken in the original frame's
    geometry that the watermark detector found), to compare with the provenance record."""

    credentials: CredentialsReport
    watermark: WatermarkReading
    content: ContentFingerprint


def inspect_video(
    path: str | os.PathLike[str], trust_anchor_pem: bytes | None = None
) -> VideoMarks:
    """Read the C2PA manifest and the watermark of any video file (`BadVideo` if unreadable)."""
    file = Path(path)
    decoded = read_video(
        file, with_audio=False, sample_frames=_VERIFY_FRAMES, max_frames=_VERIFY_FRAMES * 2
    )
    reading = detect_watermark(decoded.rgb)
    view = View(reading.view_box, reading.mirrored)
    content = observe(decoded.rgb, decoded.fps, _sha256(file), decoded.frame_step, view)
    return VideoMarks(read_credentials(file, trust_anchor_pem), reading, content)


def fingerprint_video(path: str | os.PathLike[str]) -> ContentFingerprint:
    """The content fingerprint of one of our outputs, kept with its provenance record."""
    file = Path(path)
    # Every 6th frame: 4 per 0.5 s interval at 25 fps, ~50 MB for 15 s at 512x512 (all frames
    # would hold 300 MB just to hash 30 of them).
    decoded = read_video(file, with_audio=False, frame_step=6)
    return fingerprint_frames(decoded.rgb, decoded.fps, _sha256(file), decoded.duration_s,
                              decoded.frame_step)  # fmt: skip


def _sha256(file: Path) -> str:
    with open(file, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
