"""Real speech for the motion tests, synthesised once per session with flite (rms voice).

flite prints its exact phone end times (-psdur); the speech stage's FliteEngine maps them onto
ARPAbet. If that engine is not importable, flite is called directly and mapped here.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vitaphone.core.speech.types import ARPABET, SILENCE, PhoneSpan, Speech, SpeechSource

# flite's US phone set -> ARPAbet (its extra allophones folded into their phonemes).
_FLITE_TO_ARPABET = {"pau": SILENCE, "ax": "AH", "axr": "ER", "dx": "D", "el": "L", "em": "M",
                     "en": "N", "hv": "HH", "ix": "IH", "nx": "N"}


def _arpabet(phone: str) -> str:
    mapped = _FLITE_TO_ARPABET.get(phone, phone.upper())
    assert mapped in ARPABET or mapped == SILENCE, phone
    return mapped


def flite_speech(text: str, voice: str = "rms") -> Speech:
    """Synthesise `text` with flite and return a Speech with engine phone timings."""
    from required_engines import require_binary

    require_binary("flite", "apt-get install flite")
    try:
        from vitaphone.core.speech.flite import FliteEngine
    except ImportError:  # the speech stage's engine is not there: call flite directly
        return _direct_flite(text, voice)
    return FliteEngine().synthesize(text, voice)


def _direct_flite(text: str, voice: str) -> Speech:
    with tempfile.TemporaryDirectory() as tmp:
        wav = Path(tmp) / "s.wav"
        out = subprocess.run(["flite", "-voice", voice, "-psdur", "-t", text, "-o", str(wav)],
                             capture_output=True, text=True, timeout=30, check=True).stdout
        samples, sr = sf.read(wav, dtype="float32")
    phones: list[PhoneSpan] = []
    start = 0.0
    for item in out.split():
        name, _, end = item.rpartition(":")
        end_s = float(end)
        phones.append(PhoneSpan(_arpabet(name), start, end_s))
        start = end_s
    duration = len(samples) / sr
    if phones[-1].end_s < duration:
        phones.append(PhoneSpan(SILENCE, phones[-1].end_s, duration))
    peak = float(np.max(np.abs(samples))) or 1.0
    return Speech(samples=(samples / peak * 0.8).astype(np.float32), sample_rate_hz=int(sr),
                  phones=tuple(phones), words=(), timing="engine", text=text,
                  source=SpeechSource(kind="tts", engine="flite", voice=voice, language="en"))


def with_pause(a: Speech, b: Speech, pause_s: float) -> Speech:
    """Concatenate two Speech clips with `pause_s` of silence between them."""
    sr = a.sample_rate_hz
    gap = np.zeros(int(round(pause_s * sr)), np.float32)
    offset = (len(a.samples) + len(gap)) / sr
    phones = list(a.phones)
    phones.append(PhoneSpan(SILENCE, a.duration_s, offset))
    phones += [PhoneSpan(p.phone, p.start_s + offset, p.end_s + offset) for p in b.phones]
    return Speech(samples=np.concatenate([a.samples, gap, b.samples]), sample_rate_hz=sr,
                  phones=tuple(phones), words=(), timing="engine", text=f"{a.text} {b.text}",
                  source=a.source)


EINSTEIN = ("Our age is proud of the progress it has made in men's intellectual development. "
            "The search and striving for truth and knowledge is one of the highest of men's "
            "qualities.")
# Many short bilabials between open vowels, labiodentals, and rounded vowels.
LIPS = "Bob made a map of the five blue fish. Mom paid me a buck for every movie."


@pytest.fixture(scope="session")
def einstein() -> Speech:
    return flite_speech(EINSTEIN)


@pytest.fixture(scope="session")
def lips() -> Speech:
    return flite_speech(LIPS)


@pytest.fixture(scope="session")
def paused() -> Speech:
    """Two sentences with a 0.8 s pause between them."""
    return with_pause(flite_speech("Maybe we can open up the window."),
                      flite_speech("I am happy about it."), 0.8)


@pytest.fixture(scope="session")
def hurried() -> Speech:
    """The same two sentences with only flite's own silences between them (a 0.39 s pause)."""
    return with_pause(flite_speech("Maybe we can open up the window."),
                      flite_speech("I am happy about it."), 0.0)


@pytest.fixture(scope="session")
def minute(einstein) -> Speech:
    """About 67 s: the quote six times with half-second pauses."""
    speech = einstein
    for _ in range(5):
        speech = with_pause(speech, einstein, 0.5)
    return speech
