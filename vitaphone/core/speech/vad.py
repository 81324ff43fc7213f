"""Voice activity: find where speech starts and ends, and trim the silence around it.

Two detectors must agree (or webrtcvad and the F0 track, see `speech_evidence`). webrtcvad (`webrtcvad-wheels`, the WebRTC GMM detector) in its most
aggressive mode 3 labels each 30 ms frame with sharp boundaries; a run of >= 5 consecutive speech
frames (150 ms) counts, so clicks and breaths do not. But webrtcvad calls steady noise, hum and
music "speech" (measured: 100 %, 100 % and 92 % of frames), so silero-vad (a small neural VAD
that ships its weights in the wheel) decides whether there is speech at all and bounds where it
is: it found none in those three and 5.4 s in the 6.4 s noisy narrative.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.signal import resample_poly

from vitaphone.core.errors import NoSpeechFound

FRAME_S = 0.03
MIN_RUN_FRAMES = 5
VAD_MODE = 3
_VAD_RATES = (8000, 16000, 32000, 48000)
# Less speech than this in a whole upload is not something a mouth can follow.
MIN_SPEECH_S = 0.3
# How far a webrtcvad boundary may lie outside silero's (silero pads its segments by ~30 ms).
_AGREE_S = 0.25
# silero hearing at least this share of what webrtcvad hears settles it; below, the F0 track
# is consulted (silero heard 0-40 % of pitch-shifted real speech, 80-100 % of ordinary speech).
_SILERO_ENOUGH = 0.6


@dataclass(frozen=True, slots=True)
class Trimmed:
    """Speech with the silence around it cut. start_s/end_s: the kept span in the input (s)."""

    samples: np.ndarray  # float32 (n,), same rate as the input
    start_s: float
    end_s: float
    speech_s: float  # total duration of frames webrtcvad called speech


def speech_frames(samples: np.ndarray, rate_hz: int, mode: int = VAD_MODE) -> np.ndarray:
    """webrtcvad's decision per 30 ms frame: bool (n_frames,), frame k covers [k*30, k*30+30) ms."""
    import warnings

    with warnings.catch_warnings():  # webrtcvad imports the deprecated pkg_resources
        warnings.simplefilter("ignore")
        import webrtcvad

    rate, x = rate_hz, np.asarray(samples, dtype=np.float32)
    if rate not in _VAD_RATES:  # webrtcvad only takes these rates; 16 kHz is all speech needs
        x, rate = resample_poly(x, 16000, rate_hz).astype(np.float32), 16000
    pcm = (np.clip(x, -1.0, 1.0) * 32767).astype("<i2")
    n = int(FRAME_S * rate)
    vad = webrtcvad.Vad(mode)
    return np.array(
        [vad.is_speech(pcm[i : i + n].tobytes(), rate) for i in range(0, len(pcm) - n + 1, n)],
        dtype=bool,
    )


def speech_runs(flags: np.ndarray, min_run: int = MIN_RUN_FRAMES) -> list[tuple[int, int]]:
    """[start, end) frame ranges of runs of at least `min_run` consecutive True flags."""
    runs, start = [], None
    for k, flag in enumerate([*flags.tolist(), False]):
        if flag and start is None:
            start = k
        elif not flag and start is not None:
            if k - start >= min_run:
                runs.append((start, k))
            start = None
    return runs


@lru_cache(maxsize=1)
def _silero_model():
    import warnings

    from silero_vad import load_silero_vad

    with warnings.catch_warnings():  # its importlib.resources.path and torch.jit.load notices
        warnings.simplefilter("ignore", DeprecationWarning)
        return load_silero_vad(onnx=False)


def silero_segments(samples: np.ndarray, rate_hz: int) -> list[tuple[float, float]]:
    """Speech segments (start_s, end_s) found by silero-vad in mono float samples (n,)."""
    import torch
    from silero_vad import get_speech_timestamps

    x = np.asarray(samples, dtype=np.float32)
    if rate_hz != 16000:
        x, rate_hz = resample_poly(x, 16000, rate_hz).astype(np.float32), 16000
    with torch.inference_mode():
        stamps = get_speech_timestamps(torch.from_numpy(x), _silero_model(), sampling_rate=16000)
    return [(s["start"] / 16000, s["end"] / 16000) for s in stamps]


def speech_evidence(samples: np.ndarray, rate_hz: int) -> list[tuple[float, float]]:
    """Where the speech is, (start_s, end_s) sorted: silero-vad's segments, or, where silero
    hears much less than webrtcvad and the F0 track shows speech-like voicing (`voicing.py`:
    very high, very low or shouted voices silero was not trained on), webrtcvad's runs.

    Noise (no F0), hum and music (held pitch, no unvoiced breaks, a beat) stay refused; so
    does a whisper silero cannot hear (no F0 to show for it)."""
    segments = silero_segments(samples, rate_hz)
    runs = [(a * FRAME_S, b * FRAME_S) for a, b in speech_runs(speech_frames(samples, rate_hz))]
    heard_s, runs_s = sum(e - s for s, e in segments), sum(e - s for s, e in runs)
    if not runs or heard_s >= _SILERO_ENOUGH * runs_s:
        return segments  # silero agrees (the usual case): no F0 analysis needed
    from vitaphone.core.speech.voicing import measure_voicing

    if not measure_voicing(samples, rate_hz).speech_like:
        return segments
    return _union([*segments, *runs])


def _union(spans: list[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def trim_silence(samples: np.ndarray, rate_hz: int, *, name: str, pad_s: float = 0.1) -> Trimmed:
    """Cut leading and trailing non-speech from mono float samples (shape (n,)).

    Keeps `pad_s` seconds of margin each side (the mouth needs the onset of the first phone).
    Raises NoSpeechFound naming `name` when silero finds less than MIN_SPEECH_S of speech or
    webrtcvad no run of it (silence, hum, noise, music).
    """
    segments = speech_evidence(samples, rate_hz)
    runs = [
        (a * FRAME_S, b * FRAME_S)
        for a, b in speech_runs(speech_frames(samples, rate_hz))
        if any(a * FRAME_S < e and b * FRAME_S > s for s, e in segments)
    ]
    speech_s = sum(e - s for s, e in segments)
    if not runs or speech_s < MIN_SPEECH_S:
        raise NoSpeechFound(
            f"'{name}' has no speech in it that could be heard (only silence, noise or music).",
            "Record someone speaking clearly, close to the microphone, in a quiet room.",
        )
    start_s = max(runs[0][0], segments[0][0] - _AGREE_S) - pad_s
    end_s = min(runs[-1][1], segments[-1][1] + _AGREE_S) + pad_s
    start_s, end_s = max(0.0, start_s), min(len(samples) / rate_hz, end_s)
    kept = np.asarray(
        samples[int(start_s * rate_hz) : int(round(end_s * rate_hz))], dtype=np.float32
    )
    return Trimmed(samples=kept, start_s=start_s, end_s=end_s, speech_s=speech_s)
