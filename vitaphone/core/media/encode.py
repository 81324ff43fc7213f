"""Frames + speech audio -> an MP4 file (H.264 yuv420p + AAC, `+faststart`, not fragmented).

`StreamingEncoder` takes the frames batch by batch as the renderer makes them (`encode_mp4`,
the whole-clip call, is a single batch through it: one encoder setup).

Not fragmented because C2PA does not sign fragmented MP4; `+faststart` (moov before mdat) so
Telegram and browsers can start playing before the whole file has arrived.

With `size_budget_bytes` (Discord's default upload limit is 10 MiB) the video bitrate is picked
from the budget: what is left after the audio, the container and a reserve for the C2PA manifest,
spread over the clip's duration, enforced with an x264 VBV cap (maxrate + bufsize) on top of the
CRF, and retried lower if the result still overshoots.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Self

import av
import cv2
import numpy as np

from vitaphone.core.errors import BadOption
from vitaphone.core.media.types import Frames

log = logging.getLogger(__name__)

DEFAULT_AUDIO_KBPS = 128
# Below this video bitrate a talking head turns to mush; audio gives way first.
_MIN_VIDEO_KBPS = 150
_AUDIO_KBPS_STEPS = (128, 96, 64, 48)
# Bytes held back for the moov/mdat headers and the C2PA manifest (claim, certificate chain,
# signature: ~10-20 KB without a thumbnail) that signing adds after encoding.
_RESERVED_BYTES = 48 * 1024
_CONTAINER_OVERHEAD = 0.02  # sample tables grow with the frame count: ~1-2 % at these rates
_MAX_ATTEMPTS = 3
_AAC_FRAME_SAMPLES = 1024


@dataclass(frozen=True)
class EncodedVideo:
    """What `encode_mp4` wrote: path, file size in bytes, duration and the bitrates it chose.

    video_kbps and audio_kbps are measured averages (the streams' packet bytes over the duration):
    the AAC encoder may use less than it was asked for (it caps low sample rates).
    """

    path: Path
    bytes: int
    duration_s: float
    video_kbps: float
    audio_kbps: float


def encode_mp4(
    frames: Frames,
    audio: np.ndarray | None,
    sample_rate_hz: int,
    out_path: str | os.PathLike[str],
    *,
    crf: int = 20,
    preset: str = "veryfast",
    size_budget_bytes: int | None = None,
) -> EncodedVideo:
    """Encode frames (n, H, W, 3) uint8 RGB and mono/stereo audio to an MP4 at `out_path`.

    audio: float32 in [-1, 1] (or int16), shape (n_samples,) or (n_samples, channels); None for
    a silent video. With `size_budget_bytes` the file (before C2PA signing, which the reserve
    covers) stays under the budget; `BadOption` when the budget is too small for the duration.
    """
    _check_frames(frames)
    _, height, width, _ = frames.rgb.shape
    encoder = StreamingEncoder(
        out_path,
        width=width,
        height=height,
        fps=frames.fps,
        audio=audio,
        sample_rate_hz=sample_rate_hz,
        crf=crf,
        preset=preset,
        size_budget_bytes=size_budget_bytes,
        n_frames=frames.n_frames,
    )
    with encoder:
        encoder.add(frames.rgb)
        return encoder.close()


class StreamingEncoder:
    """Encode batches of frames as they arrive: `add(rgb)` any number of times, then `close()`.

    rgb batches are (b, H, W, 3) uint8 at the size given here; they are converted to I420 and
    handed to x264 at once, so the encoder (its own threads) works while the caller makes the
    next batch. Without a size budget nothing is kept: memory stays at one batch.

    With `size_budget_bytes` (`n_frames` is then required: the bitrate is planned from the
    clip's duration before the first frame) the first attempt still streams, but x264's VBV cap
    limits a sliding window, not the total, so the result can overshoot. The batches are kept
    (references: do not modify a batch after `add`) and, on an overshoot, the whole clip is
    encoded again at a lower bitrate, as the non-streaming encoder always did.
    Use as a context manager (or call `abort()`) so a failed encode leaves no half file behind.
    """

    def __init__(
        self,
        out_path: str | os.PathLike[str],
        *,
        width: int,
        height: int,
        fps: float,
        audio: np.ndarray | None,
        sample_rate_hz: int,
        crf: int = 20,
        preset: str = "veryfast",
        size_budget_bytes: int | None = None,
        n_frames: int | None = None,
    ) -> None:
        if width % 2 or height % 2:
            raise ValueError(f"H.264 yuv420p needs even dimensions, got {width}x{height}")
        if size_budget_bytes is not None and not n_frames:
            raise ValueError("a size budget needs n_frames up front (to plan the bitrate)")
        self.out = Path(out_path)
        self._size_wh, self._fps = (int(width), int(height)), float(fps)
        self._audio = audio if audio is not None and audio.size else None
        self._sample_rate_hz = int(sample_rate_hz)
        self._crf, self._preset, self._budget = crf, preset, size_budget_bytes
        self._kept: list[np.ndarray] | None = None
        self._audio_kbps = DEFAULT_AUDIO_KBPS if self._audio is not None else 0
        self._video_kbps: float | None = None
        if size_budget_bytes is not None:
            self._kept = []
            self._audio_kbps, self._video_kbps = plan_bitrates(
                size_budget_bytes, self._duration(int(n_frames or 0)), self._audio is not None
            )
        self._writer: _Writer | None = self._open_writer()
        self.frames_added = 0

    def add(self, rgb: np.ndarray) -> None:
        """Encode a batch (b, H, W, 3) uint8 RGB (b may be 0)."""
        if self._writer is None:
            raise RuntimeError("add() after close() or abort()")
        if rgb.ndim != 4 or rgb.shape[1:] != (self._size_wh[1], self._size_wh[0], 3):
            raise ValueError(
                f"batch must be (b, {self._size_wh[1]}, {self._size_wh[0]}, 3), got {rgb.shape}"
            )
        if rgb.dtype != np.uint8:
            raise ValueError(f"batch must be uint8, got {rgb.dtype}")
        self._writer.add(rgb)
        if self._kept is not None:
            self._kept.append(rgb)
        self.frames_added += len(rgb)

    def close(self) -> EncodedVideo:
        """Flush video, encode the audio, finish the file (moov moved to the front)."""
        if self._writer is None:
            raise RuntimeError("close() called twice or after abort()")
        writer, self._writer = self._writer, None
        if self.frames_added == 0:
            writer.abort()
            raise ValueError("no frames were added")
        writer.close()
        duration_s = self._duration(self.frames_added)
        if self._budget is None:
            return _result(self.out, duration_s)
        for attempt in range(_MAX_ATTEMPTS):
            if attempt:  # re-encode the kept batches at the lowered bitrate
                writer = self._open_writer()
                for batch in self._kept or ():
                    writer.add(batch)
                writer.close()
            size = self.out.stat().st_size
            if size <= self._budget - _RESERVED_BYTES // 2:
                return _result(self.out, duration_s)
            # Overshoot (VBV is a cap on a sliding window, not on the total): scale down, redo.
            assert self._video_kbps is not None
            self._video_kbps *= 0.85 * (self._budget - _RESERVED_BYTES) / size
        raise BadOption(
            f"Could not fit a {duration_s:.1f} s video into {self._budget} bytes.",
            "Raise the size budget or shorten the quote.",
        )

    def abort(self) -> None:
        """Stop without finishing: the partial file is removed."""
        if self._writer is not None:
            self._writer.abort()
            self._writer = None
        self._kept = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is not None:
            self.abort()

    def _duration(self, n_frames: int) -> float:
        duration_s = n_frames / self._fps
        if self._audio is not None:
            duration_s = max(duration_s, len(self._audio) / float(self._sample_rate_hz))
        return duration_s

    def _open_writer(self) -> _Writer:
        return _Writer(
            self.out, self._size_wh, self._fps, self._audio, self._sample_rate_hz,
            self._crf, self._preset, self._video_kbps, self._audio_kbps,
        )  # fmt: skip



def plan_bitrates(size_budget_bytes: int, duration_s: float, has_audio: bool) -> tuple[int, float]:
    """(audio_kbps, video_kbps cap) that fit `size_budget_bytes` for a clip of `duration_s`."""
    usable_bits = (size_budget_bytes - _RESERVED_BYTES) * 8 * (1.0 - _CONTAINER_OVERHEAD)
    for audio_kbps in _AUDIO_KBPS_STEPS if has_audio else (0,):
        video_kbps = usable_bits / max(duration_s, 1e-3) / 1000.0 - audio_kbps
        # x264's VBV buffer (one second at the cap) may be full at the end: count it too.
        video_kbps *= duration_s / (duration_s + 1.0)
        if video_kbps >= _MIN_VIDEO_KBPS:
            return audio_kbps, video_kbps
    raise BadOption(
        f"A size budget of {size_budget_bytes} bytes is too small for {duration_s:.1f} s of video.",
        f"Allow at least {_min_budget(duration_s, has_audio)} bytes or shorten the clip.",
    )


def _min_budget(duration_s: float, has_audio: bool) -> int:
    kbps = _MIN_VIDEO_KBPS + (_AUDIO_KBPS_STEPS[-1] if has_audio else 0)
    bits = kbps * 1000 * (duration_s + 1.0)
    return int(bits / 8 / (1.0 - _CONTAINER_OVERHEAD)) + _RESERVED_BYTES


def _check_frames(frames: Frames) -> None:
    rgb = frames.rgb
    if rgb.ndim != 4 or rgb.shape[-1] != 3 or rgb.dtype != np.uint8 or rgb.shape[0] == 0:
        raise ValueError(f"frames.rgb must be (n>0, H, W, 3) uint8, got {rgb.shape} {rgb.dtype}")
    if rgb.shape[1] % 2 or rgb.shape[2] % 2:
        raise ValueError(f"H.264 yuv420p needs even dimensions, got {rgb.shape[2]}x{rgb.shape[1]}")


def _encode_audio(stream, audio: np.ndarray, sample_rate_hz: int) -> list:
    """Feed planar float32 frames of the AAC frame size to the encoder; returns its packets."""
    samples = (
        audio.astype(np.float32) / 32768.0 if audio.dtype == np.int16 else audio.astype(np.float32)
    )
    planar = np.ascontiguousarray(np.clip(samples.reshape(len(samples), -1).T, -1.0, 1.0))
    layout = "mono" if planar.shape[0] == 1 else "stereo"
    pts, packets = 0, []
    for start in range(0, planar.shape[1], _AAC_FRAME_SAMPLES):
        chunk = np.ascontiguousarray(planar[:2, start : start + _AAC_FRAME_SAMPLES])
        frame = av.AudioFrame.from_ndarray(chunk, format="fltp", layout=layout)
        frame.sample_rate, frame.pts = sample_rate_hz, pts
        pts += chunk.shape[1]
        packets.extend(stream.encode(frame))
    packets.extend(stream.encode(None))
    return packets


class _AudioJob:
    """AAC-encode the whole track on a side thread while the video streams in (FFmpeg's AAC
    encoder takes ~0.3 s for 16 s of speech here: off the critical path, not after the last
    frame). Only the encoding runs there; the packets are muxed by the caller's thread."""

    def __init__(self, stream, audio: np.ndarray, sample_rate_hz: int) -> None:
        self._packets: list = []
        self._error: BaseException | None = None
        self._thread = threading.Thread(
            target=self._run, args=(stream, audio, sample_rate_hz), name="vitaphone-aac",
            daemon=True,
        )  # fmt: skip
        self._thread.start()

    def _run(self, stream, audio: np.ndarray, sample_rate_hz: int) -> None:
        try:
            self._packets = _encode_audio(stream, audio, sample_rate_hz)
        except BaseException as exc:  # noqa: BLE001 - re-raised by packets() on the caller
            self._error = exc

    def wait(self) -> None:
        self._thread.join()

    def packets(self) -> list:
        self._thread.join()
        if self._error is not None:
            raise self._error
        return self._packets


def _result(out: Path, duration_s: float) -> EncodedVideo:
    """Measure what was written: demux (no decoding) and sum the packet sizes per stream."""
    stream_bytes = {"video": 0, "audio": 0}
    with av.open(str(out)) as container:
        for packet in container.demux():
            if packet.size and packet.stream.type in stream_bytes:
                stream_bytes[packet.stream.type] += packet.size
    per_s = 8 / 1000 / max(duration_s, 1e-3)
    return EncodedVideo(
        out,
        out.stat().st_size,
        duration_s,
        round(stream_bytes["video"] * per_s, 1),
        round(stream_bytes["audio"] * per_s, 1),
    )

# x264 threads per encoder; 0 lets x264 pick (1.5 per core). A worker running K jobs at once
# sets cores / K through `set_encoder_threads`: K encoders each spawning 1.5 threads per core
# oversubscribe the host, and every extra frame thread costs CPU in lookahead and sync.
_encoder_threads = 0


def set_encoder_threads(count: int) -> None:
    """Threads each new encoder may use (0: x264's default). Process-wide, like torch's."""
    global _encoder_threads
    if count < 0:
        raise ValueError(f"encoder threads must be >= 0, got {count}")
    _encoder_threads = int(count)


class _Writer:
    """One encode attempt: an open MP4 container with an H.264 (and an AAC) stream."""

    def __init__(
        self,
        out: Path,
        size_wh: tuple[int, int],
        fps: float,
        audio: np.ndarray | None,
        sample_rate_hz: int,
        crf: int,
        preset: str,
        video_kbps: float | None,
        audio_kbps: int,
    ) -> None:
        out.parent.mkdir(parents=True, exist_ok=True)
        self.out = out
        self._container = av.open(str(out), "w", format="mp4", options={"movflags": "+faststart"})
        try:
            self._video = self._container.add_stream(
                "libx264", rate=Fraction(fps).limit_denominator(1001)
            )
            self._video.width, self._video.height = size_wh
            self._video.pix_fmt = "yuv420p"
            # Frame threads (x264's default count: 1.5 per core), not the slice threads PyAV
            # asks for by default: equal on 2 cores, and slices of a 512 px frame cut 16 ways
            # would starve a 16-core machine. Output at a given CRF is as good or better.
            self._video.thread_type, self._video.thread_count = "FRAME", _encoder_threads
            options = {"crf": str(crf), "preset": preset}
            # Tag BT.601 limited range: what the RGB -> I420 conversion below produces.
            options["x264-params"] = "colorprim=bt470bg:transfer=smpte170m:colormatrix=smpte170m"
            if video_kbps is not None:
                options["maxrate"] = f"{int(video_kbps)}k"
                options["bufsize"] = f"{int(video_kbps)}k"
            self._video.options = options
            self._audio_job: _AudioJob | None = None
            if audio is not None:
                channels = 1 if audio.ndim == 1 else int(audio.shape[1])
                astream = self._container.add_stream("aac", rate=int(sample_rate_hz))
                astream.layout = "mono" if channels == 1 else "stereo"
                astream.bit_rate = audio_kbps * 1000
            # Open every encoder and write the header here, before the audio thread touches
            # its encoder (the first mux would otherwise open it from this thread).
            self._container.start_encoding()
            if audio is not None:
                self._audio_job = _AudioJob(astream, audio, sample_rate_hz)
        except BaseException:
            self.abort()
            raise

    def add(self, rgb: np.ndarray) -> None:
        for frame in rgb:
            # OpenCV's BT.601 limited-range RGB -> I420 matches swscale's to within 0.05 grey
            # levels and is far faster (0.12 ms a 512 px frame here, swscale ~5 ms).
            yuv = cv2.cvtColor(frame, cv2.COLOR_RGB2YUV_I420)
            packets = self._video.encode(av.VideoFrame.from_ndarray(yuv, format="yuv420p"))
            self._container.mux(packets)

    def close(self) -> None:
        try:
            self._container.mux(self._video.encode(None))
            if self._audio_job is not None:
                self._container.mux(self._audio_job.packets())
        except BaseException:
            self.abort()
            raise
        self._container.close()

    def abort(self) -> None:
        job = getattr(self, "_audio_job", None)
        if job is not None:
            job.wait()  # never close the container under a running encoder
        try:
            self._container.close()
        except Exception:  # a container that failed half-way may not close cleanly
            log.debug("closing an aborted MP4 failed (the file is removed anyway)", exc_info=True)
        self.out.unlink(missing_ok=True)
