"""Read an MP4 (or anything FFmpeg opens) back into frames and audio, for verification and tests.

The only place that decodes video files; everything downstream works on arrays.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np

from vitaphone.core.errors import BadVideo

# A verifier never needs more than this: the watermark is in every frame.
DEFAULT_MAX_FRAMES = 10_000


@dataclass(frozen=True)
class DecodedVideo:
    """rgb: (n, H, W, 3) uint8; fps: frames per second of the video stream (the average rate);
    audio: (n_samples, channels) float32 in [-1, 1] or None; sample_rate_hz: 0 when no audio;
    frame_step: every `frame_step`-th decoded frame was kept."""

    rgb: np.ndarray
    fps: float
    audio: np.ndarray | None
    sample_rate_hz: int
    frame_step: int = 1

    @property
    def duration_s(self) -> float:
        return self.rgb.shape[0] * self.frame_step / self.fps if self.fps else 0.0


def read_video(
    path: str | os.PathLike[str],
    *,
    with_audio: bool = True,
    start_s: float = 0.0,
    max_frames: int = DEFAULT_MAX_FRAMES,
    frame_step: int = 1,
    sample_frames: int | None = None,
) -> DecodedVideo:
    """Decode the first video stream (from `start_s` on) and, optionally, the first audio stream.

    Keeps every `frame_step`-th frame and at most `max_frames` of them; with `sample_frames`,
    the step is chosen to keep about that many frames spread over the whole video. Raises `BadVideo` (with
    the file name and what is wrong) for a missing, unreadable or video-less file.
    """
    file = Path(path)
    if not file.is_file():
        raise BadVideo(f"{file}: no such file.", "Check the path.")
    try:
        with av.open(str(file)) as container:
            if not container.streams.video:
                raise BadVideo(f"{file.name} has no video stream.", "Give an MP4 video file.")
            stream = container.streams.video[0]
            fps = float(stream.average_rate or stream.guessed_rate or 25)
            if sample_frames and stream.frames:
                frame_step = max(1, int(stream.frames) // sample_frames)
            rgb = _decode_frames(container, stream, start_s, max_frames, frame_step)
        audio, sample_rate = _read_audio(file) if with_audio else (None, 0)
    except av.FFmpegError as err:
        raise BadVideo(
            f"{file.name} is not a readable video ({err.__class__.__name__}).",
            "Give an MP4 (H.264) file as Vitaphone writes it.",
        ) from err
    if rgb.shape[0] == 0:
        raise BadVideo(
            f"{file.name} has no video frames after {start_s:.1f} s.", "Give a longer clip."
        )
    return DecodedVideo(rgb, fps, audio, sample_rate, frame_step)


def _decode_frames(
    container, stream, start_s: float, max_frames: int, frame_step: int
) -> np.ndarray:
    stream.thread_type = "AUTO"
    kept: list[np.ndarray] = []
    index = 0
    for frame in container.decode(stream):
        if frame.time is not None and frame.time < start_s:
            continue
        if index % frame_step == 0:
            kept.append(frame.to_ndarray(format="rgb24"))
            if len(kept) >= max_frames:
                break
        index += 1
    if not kept:
        return np.zeros((0, 0, 0, 3), np.uint8)
    return np.stack(kept)


def _read_audio(file: Path) -> tuple[np.ndarray | None, int]:
    with av.open(str(file)) as container:
        if not container.streams.audio:
            return None, 0
        stream = container.streams.audio[0]
        rate = int(stream.sample_rate or stream.codec_context.sample_rate)
        resampler = av.AudioResampler(
            format="flt", layout="mono" if stream.channels == 1 else "stereo"
        )
        chunks = [
            out.to_ndarray().reshape(-1, 1 if stream.channels == 1 else 2)
            for frame in container.decode(stream)
            for out in resampler.resample(frame)
        ]
        chunks += (
            [out.to_ndarray().reshape(-1, chunks[0].shape[1]) for out in resampler.resample(None)]
            if chunks
            else []
        )
    if not chunks:
        return None, 0
    return np.concatenate(chunks).astype(np.float32), rate
