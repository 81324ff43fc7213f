"""Audio file I/O: decode any common upload to mono float32, and write WAV.

The only place in `core.speech` that touches containers and codecs. Decoding uses PyAV (its wheels
bundle FFmpeg), so wav, mp3, m4a/aac, ogg/opus and ogg/vorbis, webm, flac and the sound track of a
video all work with no system codecs. Every way an upload can be wrong becomes a typed,
user-facing error that names the file.
"""

from __future__ import annotations

import io
import wave
from pathlib import Path

import numpy as np

from vitaphone.core.errors import AudioTooLong, AudioTooShort, BadAudio, NoSpeechFound

# Below this RMS (dBFS) over the whole file there is nothing to hear: a muted or empty recording
# (muted phone mics record -80 dBFS and less; a whisper far from the mic is still above).
SILENCE_RMS_DBFS = -66.0
# Demuxers FFmpeg uses for still images; a file probed as one of these is a picture, not sound.
_IMAGE_FORMATS = ("image2", "_pipe", "gif", "webp", "apng")
_IMAGE_CODECS = {"mjpeg", "png", "gif", "webp", "bmp", "tiff", "jpeg2000", "apng", "jpegls"}
_AUDIO_HINT = "Send a voice recording (wav, mp3, m4a, ogg/opus voice note, webm or flac)."


def decode_audio(
    data: bytes,
    *,
    name: str,
    target_rate_hz: int = 16000,
    min_s: float | None = None,
    max_s: float | None = None,
) -> tuple[np.ndarray, int]:
    """Decode an uploaded audio (or video) file to mono float32 at `target_rate_hz`.

    data: the file's bytes. name: the file name shown to the user in error messages.
    Returns (samples, rate): samples float32, shape (n,), in [-1, 1]; rate == target_rate_hz.
    Channels are down-mixed to mono. Raises `BadAudio` (corrupt, not audio, an image or a video
    with no sound), `NoSpeechFound` (silent), `AudioTooShort` / `AudioTooLong` (outside
    [min_s, max_s] seconds; files are refused as soon as they are known to be too long, before
    decoding all of them).
    """
    if not data:
        raise BadAudio(f"'{name}' is empty (0 bytes).", _AUDIO_HINT, code="empty_audio")
    try:
        import av
    except ImportError as exc:  # pragma: no cover - av is a core media dependency
        from vitaphone.core.errors import EngineUnavailable

        raise EngineUnavailable("PyAV", "pip install 'vitaphone[media]'") from exc

    try:
        container = av.open(io.BytesIO(data), mode="r")
    except (av.error.FFmpegError, ValueError, OSError) as exc:
        raise BadAudio(
            f"'{name}' could not be read as audio: the file is damaged or not a sound file.",
            _AUDIO_HINT,
            code="corrupt_audio",
        ) from exc
    with container:
        stream = _audio_stream(container, name)
        _refuse_declared_length(container, stream, name, max_s)
        samples = _decode_stream(container, stream, name, target_rate_hz, max_s)

    duration_s = len(samples) / target_rate_hz
    if len(samples) == 0:
        raise BadAudio(
            f"'{name}' has an audio track but no sound could be decoded from it.",
            _AUDIO_HINT,
            code="corrupt_audio",
        )
    if min_s is not None and duration_s < min_s:
        raise AudioTooShort(
            f"'{name}' is {duration_s:.1f} s long; at least {min_s:g} s is needed.",
            f"Record a longer clip (at least {min_s:g} seconds of speech).",
        )
    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    if rms <= 10 ** (SILENCE_RMS_DBFS / 20):
        raise NoSpeechFound(
            f"'{name}' is silent: there is no sound in it.",
            "Check the microphone is on and record again.",
            code="silent_audio",
        )
    return samples, target_rate_hz


def _audio_stream(container, name: str):
    """The first audio stream, or a `BadAudio` saying what the file is instead."""
    if container.streams.audio:
        return container.streams.audio[0]
    fmt = container.format.name or ""
    codecs = {s.codec_context.name for s in container.streams.video}
    is_image = any(key in fmt for key in _IMAGE_FORMATS) or (
        bool(codecs) and codecs <= _IMAGE_CODECS and container.duration is None
    )
    if is_image:
        what = "this is an image, not a sound recording"
        code = "image_not_audio"
    elif container.streams.video:
        what = "this is a video with no sound track"
        code = "video_without_audio"
    else:
        raise BadAudio(
            f"'{name}' is not a sound file: it contains no audio.", _AUDIO_HINT, code="not_audio"
        )
    raise BadAudio(f"'{name}' has no sound: {what}.", _AUDIO_HINT, code=code)


def _refuse_declared_length(container, stream, name: str, max_s: float | None) -> None:
    """Refuse a file whose header already says it is too long (saves decoding an hour of audio)."""
    if max_s is None:
        return
    declared_s = None
    if stream.duration is not None and stream.time_base is not None:
        declared_s = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        declared_s = container.duration / 1_000_000  # AV_TIME_BASE is microseconds
    # Headers can be off by a frame or two; only refuse what is clearly over the limit.
    if declared_s is not None and declared_s > max_s + 1.0:
        raise _too_long(name, declared_s, max_s)


def _too_long(name: str, duration_s: float, max_s: float) -> AudioTooLong:
    return AudioTooLong(
        f"'{name}' is {duration_s:.1f} s long; at most {max_s:g} s is accepted.",
        f"Trim it to under {max_s:g} seconds and send it again.",
    )


def _decode_stream(container, stream, name: str, rate_hz: int, max_s: float | None) -> np.ndarray:
    """Decode and resample one stream to mono float32, stopping once it is known to be too long."""
    import av

    resampler = av.AudioResampler(format="flt", layout="mono", rate=rate_hz)
    chunks: list[np.ndarray] = []
    total = 0
    limit = None if max_s is None else int((max_s + 0.5) * rate_hz)
    try:
        for frame in container.decode(stream):
            frame.pts = None  # let the resampler count samples; odd pts in uploads confuse it
            for out in resampler.resample(frame):
                chunk = out.to_ndarray().reshape(-1)
                chunks.append(chunk)
                total += len(chunk)
            if limit is not None and total > limit:
                raise _too_long(name, total / rate_hz, max_s)  # type: ignore[arg-type]
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    except (av.error.FFmpegError, ValueError) as exc:
        raise BadAudio(
            f"'{name}' is damaged: decoding stopped partway through the audio.",
            "Export or record the file again and resend it.",
            code="corrupt_audio",
        ) from exc
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    samples = np.concatenate(chunks).astype(np.float32, copy=False)
    samples = np.nan_to_num(samples, nan=0.0, posinf=0.0, neginf=0.0)
    if max_s is not None and len(samples) / rate_hz > max_s:
        raise _too_long(name, len(samples) / rate_hz, max_s)
    return np.clip(samples, -1.0, 1.0)


def wav_bytes(samples: np.ndarray, rate_hz: int) -> bytes:
    """Encode mono float samples (shape (n,), in [-1, 1]) as 16-bit PCM WAV bytes."""
    pcm = np.round(np.clip(np.asarray(samples, dtype=np.float32), -1.0, 1.0) * 32767.0)
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(int(rate_hz))
        w.writeframes(pcm.astype("<i2").tobytes())
    return buf.getvalue()


def write_wav(path: str | Path, samples: np.ndarray, rate_hz: int) -> Path:
    """Write mono float samples (shape (n,), in [-1, 1]) as a 16-bit PCM WAV file; returns path."""
    path = Path(path)
    path.write_bytes(wav_bytes(samples, rate_hz))
    return path
