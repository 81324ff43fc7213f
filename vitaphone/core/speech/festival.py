"""Festival (Edinburgh, free licence) with its HTS voices: English, exact segment times.

Optional: used when the `festival` binary and a voice are installed (Debian: `festival
festvox-us-slt-hts`). One `festival --batch` run per utterance synthesises, then saves the
waveform, the Segment relation (phone end times, `utt.save.segs`) and the Word relation (word
end times) — the synthesiser's own timings, like flite's.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from vitaphone.core.errors import EngineUnavailable, UnknownVoice, UnsupportedLanguage
from vitaphone.core.speech.engines import VoiceInfo, fill_phone_gaps
from vitaphone.core.speech.phones import to_arpabet
from vitaphone.core.speech.types import SILENCE, PhoneSpan, Speech, SpeechSource, WordSpan

# Festival voice (its Scheme name) -> our name, gender, description.
KNOWN_VOICES = {
    "cmu_us_slt_arctic_hts": ("festival-slt", "female", "US English female (HTS, smoother)"),
    "cmu_us_rms_cg": ("festival-rms", "male", "US English male (clustergen)"),
    "cmu_us_awb_cg": ("festival-awb", "male", "Scottish English male (clustergen)"),
    "kal_diphone": ("festival-kal", "male", "US English male (diphone)"),
}
_FIX = "apt-get install festival festvox-us-slt-hts"
_TIMEOUT_S = 120.0
_LINE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s+\S+\s+(\S+)\s*$")


class FestivalEngine:
    """Festival through `festival --batch`; ~0.5 s start-up per utterance (voice loading)."""

    name = "festival"

    def __init__(self, binary: str = "festival") -> None:
        path = shutil.which(binary)
        if path is None:
            raise EngineUnavailable("festival", _FIX)
        self._binary = path
        out = subprocess.run([path, "--version"], capture_output=True, text=True, timeout=30)
        match = re.search(r"System:\s*(\d+(?:\.\d+)*)", out.stdout + out.stderr)
        self.version = match.group(1) if match else "unknown"
        listed = self._batch("(print (voice.list))").strip().strip("()").split()
        self._voices = {
            KNOWN_VOICES[v][0]: (
                v,
                VoiceInfo(KNOWN_VOICES[v][0], "festival", "en", *KNOWN_VOICES[v][1:]),
            )
            for v in listed
            if v in KNOWN_VOICES
        }
        if not self._voices:
            raise EngineUnavailable("a festival voice", _FIX)

    def voices(self) -> tuple[VoiceInfo, ...]:
        return tuple(info for _, info in self._voices.values())

    def languages(self) -> tuple[str, ...]:
        return ("en",)

    def synthesize(self, text: str, voice: str, language: str = "en") -> Speech:
        """Speak normalised English `text`: float32 (n,) at the voice's rate (HTS: 32 kHz)."""
        if language.strip().lower().split("-")[0] != "en":
            raise UnsupportedLanguage(
                f"festival voices here speak English only, not '{language}'.", "Use --language en."
            )
        if voice not in self._voices:
            names = ", ".join(self._voices)
            raise UnknownVoice(f"There is no festival voice '{voice}'.", f"Choose one of: {names}.")
        scheme_voice = self._voices[voice][0]
        quoted = text.replace("\\", "\\\\").replace('"', '\\"')
        with tempfile.TemporaryDirectory(prefix="vitaphone-festival-") as tmp:
            wav, segs, words = (Path(tmp) / n for n in ("out.wav", "out.segs", "out.words"))
            self._batch(
                f"(voice_{scheme_voice})\n"
                f'(set! u (utt.synth (Utterance Text "{quoted}")))\n'
                f'(utt.save.wave u "{wav}" \'riff)\n'
                f'(utt.save.segs u "{segs}")\n'
                f'(utt.save.words u "{words}")\n'
            )
            samples, rate = _read_wav(wav)
            seg_ends = _read_track(segs)
            word_ends = _read_track(words)
        duration_s = len(samples) / rate
        spans, start = [], 0.0
        for end, label in seg_ends:
            spans.append((to_arpabet(label), start, end))
            start = end
        phones = tuple(PhoneSpan(*s) for s in fill_phone_gaps(spans, duration_s))
        return Speech(
            samples=samples,
            sample_rate_hz=rate,
            phones=phones,
            words=_words(word_ends, phones),
            source=SpeechSource("tts", f"festival {self.version}", voice, "en"),
            timing="engine",
            text=text,
        )

    def _batch(self, script: str) -> str:
        with tempfile.NamedTemporaryFile("w", suffix=".scm", encoding="utf-8") as f:
            f.write(script)
            f.flush()
            proc = subprocess.run(
                [self._binary, "--batch", f.name],
                capture_output=True,
                text=True,
                timeout=_TIMEOUT_S,
            )
        if proc.returncode != 0:
            raise RuntimeError(f"festival failed ({proc.returncode}): {proc.stderr.strip()[:300]}")
        return proc.stdout


def _words(
    word_ends: list[tuple[float, str]], phones: tuple[PhoneSpan, ...]
) -> tuple[WordSpan, ...]:
    """Word spans from word end times: a word starts at its first non-silent phone after the
    previous word's end."""
    out, prev_end = [], 0.0
    for end, word in word_ends:
        starts = [
            p.start_s for p in phones if p.phone != SILENCE and prev_end - 1e-6 <= p.start_s < end
        ]
        if starts:
            out.append(WordSpan(word, starts[0], end))
        prev_end = end
    return tuple(out)


def _read_track(path: Path) -> list[tuple[float, str]]:
    """An Xwaves label file as festival saves it: a header, '#', then 'end_s colour label'."""
    text = path.read_text(encoding="utf-8", errors="replace")
    body = text.split("#", 1)[-1]
    return [(float(m.group(1)), m.group(2)) for m in map(_LINE.match, body.splitlines()) if m]


def _read_wav(path: Path) -> tuple[np.ndarray, int]:
    with wave.open(str(path), "rb") as w:
        rate = w.getframerate()
        pcm = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    return pcm.astype(np.float32) / 32768.0, rate
