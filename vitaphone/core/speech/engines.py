"""The small contract every base text-to-speech engine implements.

An engine turns already-normalised text into raw `Speech` (its own phone timings, `timing ==
"engine"`); loudness normalisation, text normalisation and voice cloning happen in the stage
(`synthesize.py`), not in engines. Engines are built once (they check their binary or library)
and are safe to call from one thread at a time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from vitaphone.core.speech.types import Speech


@dataclass(frozen=True, slots=True)
class VoiceInfo:
    """A base voice an engine offers. language: ISO 639-1 code ("en"), or "*" for any."""

    name: str
    engine: str
    language: str
    gender: str  # "female", "male" or "" when unknown
    description: str


@runtime_checkable
class TtsEngine(Protocol):
    """A base TTS engine with exact phone timings."""

    name: str  # short engine id, e.g. "flite"
    version: str  # engine version, e.g. "2.2"

    def voices(self) -> tuple[VoiceInfo, ...]:
        """The base voices this engine offers."""
        ...

    def languages(self) -> tuple[str, ...]:
        """ISO 639-1 (or BCP-47 like "pt-br") codes this engine speaks, sorted."""
        ...

    def synthesize(self, text: str, voice: str, language: str) -> Speech:
        """Speak normalised `text`; phones in ARPAbet + SIL covering the whole audio."""
        ...


def fill_phone_gaps(
    spans: list[tuple[str, float, float]], duration_s: float, silence: str = "SIL"
) -> list[tuple[str, float, float]]:
    """Make (phone, start_s, end_s) spans contiguous over [0, duration_s].

    Gaps become `silence`; overlaps are cut at the later span's start; spans past the end are
    clipped and empty ones dropped; adjacent silences are merged. Engines and aligners disagree
    with the audio length by a few ms, and later stages need a gap-free timeline.
    """
    out: list[tuple[str, float, float]] = []
    t = 0.0
    for phone, start, end in sorted(spans, key=lambda s: s[1]):
        start, end = max(start, t), min(end, duration_s)
        if start - t > 1e-6:
            out.append((silence, t, start))
        if end - start > 1e-6:
            out.append((phone, start, end))
            t = end
    if duration_s - t > 1e-6:
        out.append((silence, t, duration_s))
    merged: list[tuple[str, float, float]] = []
    for span in out:
        if merged and span[0] == silence and merged[-1][0] == silence:
            merged[-1] = (silence, merged[-1][1], span[2])
        else:
            merged.append(span)
    if merged:  # round-off: the last span ends exactly at the end of the audio
        last = merged[-1]
        merged[-1] = (last[0], last[1], duration_s)
    return merged
