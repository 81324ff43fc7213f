"""The `Speech` result that every later stage consumes.

Phone set: ARPAbet without stress digits, upper case (the 39 phones of CMUdict: AA AE AH AO AW AY
B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH UH UW V W Y Z ZH), plus
`SIL` for silence and pauses. Engines with other phone sets (espeak-ng, other languages) map
their phonemes onto the nearest ARPAbet phone, which is all the mouth needs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np

ARPABET: frozenset[str] = frozenset(
    "AA AE AH AO AW AY B CH D DH EH ER EY F G HH IH IY JH K L M N NG OW OY P R S SH T TH "
    "UH UW V W Y Z ZH".split()
)
SILENCE = "SIL"
PHONE_SET: frozenset[str] = ARPABET | {SILENCE}

# How the phone timeline was obtained; stored with provenance.
TimingMethod = Literal[
    "engine",  # the TTS engine's own phone timings (exact)
    "forced_alignment",  # pocketsphinx alignment of a known transcript to the audio
    "recognition",  # pocketsphinx phone recognition (no or mismatching transcript)
    "energy",  # no phones: mouth driven by energy/spectrum only
]


@dataclass(frozen=True, slots=True)
class PhoneSpan:
    """One phone: ARPAbet label (see module doc) and its span in seconds from the start."""

    phone: str
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class WordSpan:
    word: str
    start_s: float
    end_s: float


@dataclass(frozen=True, slots=True)
class SpeechSource:
    """Where speech came from: an engine and voice, possibly converted, or an upload."""

    kind: Literal["tts", "cloned", "recording"]
    engine: str  # e.g. "flite 2.2", "espeak-ng 1.51", "upload"
    voice: str  # base voice name, or "" for recordings
    language: str  # ISO 639-1 code, e.g. "en"
    converter: str = ""  # tone-colour converter name and version when kind == "cloned"
    sample_sha256: str = ""  # hash of the voice sample or recording, when one was used


@dataclass(frozen=True)
class Speech:
    """Speech audio with its phone/word timeline.

    samples: mono float32, shape (n,), in [-1, 1], loudness-normalised to about -16 LUFS with
    true peak <= -1 dBTP. sample_rate_hz: usually 22050 or 16000.
    phones: contiguous, sorted spans covering [0, duration_s], silences as `SIL`.
    words: sorted spans of the spoken words (may be empty for energy-only timing).
    """

    samples: np.ndarray
    sample_rate_hz: int
    phones: tuple[PhoneSpan, ...]
    words: tuple[WordSpan, ...]
    source: SpeechSource
    timing: TimingMethod
    text: str = ""  # the normalised text that was spoken (or the transcript)
    extras: dict[str, str] = field(default_factory=dict)  # engine notes, e.g. {"vad": "webrtc"}

    @property
    def duration_s(self) -> float:
        return len(self.samples) / float(self.sample_rate_hz)
