"""flite (CMU, BSD licence): the default English engine, with exact phone timings.

`flite -psdur` prints every segment the synthesiser produced with its end time, e.g.
`pau:0.164 hh:0.255 ax:0.304 ...`; those are the exact boundaries of the audio it writes.
Words come from flite's own lexicon (`t2p`, the same letter-to-sound and lexicon flite uses),
matched against the spoken phones (see `phones.words_from_phones`).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import wave
from functools import lru_cache
from pathlib import Path

import numpy as np

from vitaphone.core.errors import EngineUnavailable, UnknownVoice, UnsupportedLanguage
from vitaphone.core.speech.engines import VoiceInfo, fill_phone_gaps
from vitaphone.core.speech.phones import to_arpabet, words_from_phones
from vitaphone.core.speech.types import SILENCE, PhoneSpan, Speech, SpeechSource

# The Debian `flite` package's 16 kHz US English voices (`flite -lv` also lists `kal`, 8 kHz, and
# `awb_time`, a talking clock; neither is offered).
FLITE_VOICES: tuple[VoiceInfo, ...] = (
    VoiceInfo("slt", "flite", "en", "female", "US English female (clustergen, default)"),
    VoiceInfo("rms", "flite", "en", "male", "US English male (clustergen)"),
    VoiceInfo("awb", "flite", "en", "male", "Scottish English male (clustergen)"),
    VoiceInfo("kal16", "flite", "en", "male", "US English male (diphone, robotic)"),
)
_SEGMENT = re.compile(r"([A-Za-z#]+):(\d+(?:\.\d+)?)")
_TIMEOUT_S = 60.0
_FIX = "apt-get install flite"


class FliteEngine:
    """flite through its command-line tool; one process per utterance (~10-200 ms)."""

    name = "flite"

    def __init__(self, binary: str = "flite") -> None:
        path = shutil.which(binary)
        if path is None:
            raise EngineUnavailable("flite", _FIX)
        self._binary = path
        self._t2p = shutil.which("t2p")
        self.version = _version(path)
        available = _available_voices(path)
        self._voices = tuple(v for v in FLITE_VOICES if v.name in available)
        if not self._voices:
            raise EngineUnavailable("flite voices (slt, rms, awb, kal16)", _FIX)

    def voices(self) -> tuple[VoiceInfo, ...]:
        return self._voices

    def languages(self) -> tuple[str, ...]:
        return ("en",)

    def synthesize(self, text: str, voice: str, language: str = "en") -> Speech:
        """Speak normalised English `text` with flite `voice`.

        Returns raw engine output: samples float32 (n,) at the voice's rate (16 kHz), phones in
        ARPAbet + SIL exactly as flite timed them, words matched from flite's lexicon.
        """
        if language.strip().lower().split("-")[0] != "en":
            raise UnsupportedLanguage(
                f"flite speaks English only, not '{language}'.", "Use --language en."
            )
        names = [v.name for v in self._voices]
        if voice not in names:
            raise UnknownVoice(
                f"There is no flite voice '{voice}'.", f"Choose one of: {', '.join(names)}."
            )
        with tempfile.TemporaryDirectory(prefix="vitaphone-flite-") as tmp:
            wav_path = Path(tmp) / "out.wav"
            out = self._run(["-voice", voice, "-psdur", "-t", text, "-o", str(wav_path)])
            samples, rate = _read_wav(wav_path)
        duration_s = len(samples) / rate
        spans = [(to_arpabet(lab), 0.0, float(end)) for lab, end in _SEGMENT.findall(out)]
        for i in range(len(spans)):  # -psdur gives end times; a segment starts where the last ended
            spans[i] = (spans[i][0], spans[i - 1][2] if i else 0.0, spans[i][2])
        phones = tuple(PhoneSpan(*s) for s in fill_phone_gaps(spans, duration_s))
        words = words_from_phones(self._word_phones(text), phones)
        return Speech(
            samples=samples,
            sample_rate_hz=rate,
            phones=phones,
            words=words,
            source=SpeechSource(
                kind="tts", engine=f"flite {self.version}", voice=voice, language="en"
            ),
            timing="engine",
            text=text,
        )

    def _word_phones(self, text: str) -> list[tuple[str, list[str]]]:
        """Each word with flite's pronunciation of it (lexicon + letter-to-sound), via `t2p`.

        One `t2p` call for the whole text: words are joined with commas, which flite turns into
        pauses, so the pauses split its phone string back into words.
        """
        words = [w for w in re.split(r"\s+", text) if re.search(r"[A-Za-z0-9]", w)]
        if not words or self._t2p is None:
            return []
        stripped = [re.sub(r"^[^\w']+|[^\w']+$", "", w) for w in words]
        out = subprocess.run(
            [self._t2p, ", ".join(stripped)], capture_output=True, text=True, timeout=_TIMEOUT_S
        ).stdout
        groups = [g.split() for g in re.split(r"\bpau\b", out)]
        groups = [g for g in groups if g]
        if len(groups) != len(stripped):
            # Some tokens ignore the comma (letters like "P, M" are read as one spelled group):
            # ask for each word alone instead, a few ms each.
            groups = [_t2p(self._t2p, w).split() for w in stripped]
        return [
            (w, [p for p in (to_arpabet(x) for x in g) if p != SILENCE])
            for w, g in zip(stripped, groups, strict=True)
        ]

    def _run(self, args: list[str]) -> str:
        proc = subprocess.run(
            [self._binary, *args], capture_output=True, text=True, timeout=_TIMEOUT_S
        )
        if proc.returncode != 0:
            raise RuntimeError(f"flite failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
        return proc.stdout


@lru_cache(maxsize=4096)
def _t2p(binary: str, word: str) -> str:
    """flite's phones for one word (lexicon, else letter-to-sound), e.g. 'pau hh ax l ow1 pau'."""
    return subprocess.run([binary, word], capture_output=True, text=True, timeout=_TIMEOUT_S).stdout


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    """flite writes 16-bit mono PCM WAV; returns float32 (n,) in [-1, 1] and the rate in Hz."""
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return (pcm.astype(np.float32) / 32768.0), rate


def _version(binary: str) -> str:
    out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=10).stdout
    match = re.search(r"flite-(\d+(?:\.\d+)*)", out)
    return match.group(1) if match else "unknown"


def _available_voices(binary: str) -> set[str]:
    out = subprocess.run([binary, "-lv"], capture_output=True, text=True, timeout=10).stdout
    return set(out.split(":", 1)[-1].split())


__all__ = ["FLITE_VOICES", "FliteEngine", "SILENCE"]
