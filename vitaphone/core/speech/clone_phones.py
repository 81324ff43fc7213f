"""Phone labels per WORLD frame, for both sides of the conversion.

The base speech brings exact engine phone timings; the voice sample gets its phones from
pocketsphinx's free phone loop (`align.phone_loop`, about 1 s per 15 s of sample). Recognised
phones are often wrong in detail but rarely far off acoustically, so the converter picks sample
frames by phone first and falls back to the broad class, which tolerates those errors.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from vitaphone.core.speech.types import ARPABET, SILENCE

# Sorted phone set, so that a phone's id is stable across runs and profiles.
PHONES: tuple[str, ...] = (*sorted(ARPABET), SILENCE)
PHONE_ID: dict[str, int] = {p: i for i, p in enumerate(PHONES)}
SIL_ID = PHONE_ID[SILENCE]
VOWELS = frozenset(
    ["AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"]
)

# Broad classes with similar spectra; a phone missing from the sample borrows its class.
_CLASSES: dict[str, str] = {
    **dict.fromkeys(["AA", "AO", "OW", "UH", "UW", "AW", "OY"], "back_vowel"),
    **dict.fromkeys(["AE", "EH", "IH", "IY", "EY", "AY"], "front_vowel"),
    "AH": "central_vowel",
    **dict.fromkeys(["ER", "R"], "rhotic"),
    **dict.fromkeys(["L", "W", "Y"], "glide"),
    **dict.fromkeys(["M", "N", "NG"], "nasal"),
    **dict.fromkeys(["B", "D", "G"], "voiced_stop"),
    **dict.fromkeys(["P", "T", "K"], "stop"),
    **dict.fromkeys(["S", "SH", "CH", "F", "TH", "HH"], "fricative"),
    **dict.fromkeys(["Z", "ZH", "JH", "V", "DH"], "voiced_fricative"),
    SILENCE: "silence",
}
CLASS_NAMES: tuple[str, ...] = tuple(sorted(set(_CLASSES.values())))
CLASS_OF_PHONE: np.ndarray = np.array(
    [CLASS_NAMES.index(_CLASSES[p]) for p in PHONES], dtype=np.int16
)  # phone id -> class id


def frame_labels(
    spans: Iterable[tuple[str, float, float]], n_frames: int, frame_s: float
) -> tuple[np.ndarray, np.ndarray]:
    """Label each frame (centred at k * frame_s) with the phone span that covers it.

    spans: (ARPAbet or SIL, start_s, end_s). Returns (phone_id int16 (n,), position float32 (n,)
    in [0, 1): how far through its phone the frame lies). Uncovered frames are SIL.
    """
    ids = np.full(n_frames, SIL_ID, dtype=np.int16)
    pos = np.zeros(n_frames, dtype=np.float32)
    t = np.arange(n_frames) * frame_s
    for phone, start_s, end_s in spans:
        k0, k1 = np.searchsorted(t, [start_s, end_s])
        if k1 <= k0:
            continue
        ids[k0:k1] = PHONE_ID.get(phone, SIL_ID)
        pos[k0:k1] = (t[k0:k1] - start_s) / max(end_s - start_s, frame_s)
    return ids, pos


def recognise_phones(samples_16k: np.ndarray) -> tuple[tuple[str, float, float], ...]:
    """Free phone recognition of 16 kHz mono float samples: (phone, start_s, end_s) spans."""
    from vitaphone.core.speech.align import phone_loop

    spans, _score = phone_loop(np.asarray(samples_16k, dtype=np.float32))
    return spans


def syllable_rate_hz(spans: Sequence[tuple[str, float, float]]) -> float:
    """Vowels (syllable nuclei) per second of speech, pauses excluded; 0.0 without speech.

    Counted the same way for the engine's phones and the recognised ones; runs of one vowel
    split by the recogniser count once.
    """
    speech_s = sum(e - s for p, s, e in spans if p != SILENCE)
    nuclei, prev = 0, ""
    for phone, _s, _e in spans:
        if phone in VOWELS and phone != prev:
            nuclei += 1
        prev = phone
    return nuclei / speech_s if speech_s > 0 else 0.0
