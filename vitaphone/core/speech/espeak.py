"""espeak-ng (GPL-3, 100+ languages) through its C library, with exact phoneme timings.

We load `libespeak-ng.so.1` with ctypes, synthesise synchronously into a callback and collect
the library's own events: PHONEME events (IPA, with the sample index where each phoneme starts)
and WORD events (character position in the text). Timings are therefore exact, not estimated.
IPA phonemes map onto ARPAbet in `espeak_phones.py`.

The library keeps global state, so one lock serialises every call in the process.
"""

from __future__ import annotations

import ctypes as C
import threading
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from vitaphone.core.errors import EngineUnavailable, UnknownVoice, UnsupportedLanguage
from vitaphone.core.speech.engines import VoiceInfo, fill_phone_gaps
from vitaphone.core.speech.espeak_phones import ipa_to_arpabet
from vitaphone.core.speech.types import SILENCE, PhoneSpan, Speech, SpeechSource, WordSpan

_LIB_NAMES = ("libespeak-ng.so.1", "libespeak-ng.so")
_FIX = "apt-get install libespeak-ng1 espeak-ng-data"
# espeak.h constants
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INIT_PHONEME_EVENTS, _INIT_PHONEME_IPA, _INIT_DONT_EXIT = 0x0001, 0x0002, 0x8000
_CHARS_UTF8, _ENDPAUSE = 1, 0x1000
_EV_END_LIST, _EV_WORD, _EV_PHONEME = 0, 1, 7
# Voice variants (espeak-ng-data/voices/!v) offered as base voices for every language.
ESPEAK_VOICES: tuple[VoiceInfo, ...] = (
    VoiceInfo("espeak-male", "espeak-ng", "*", "male", "espeak-ng default voice, any language"),
    VoiceInfo("espeak-female", "espeak-ng", "*", "female", "espeak-ng female variant (f3)"),
)
_VARIANTS = {"espeak-male": "", "espeak-female": "+f3"}


class _EventId(C.Union):
    _fields_ = [("number", C.c_int), ("name", C.c_char_p), ("string", C.c_char * 8)]


class _Event(C.Structure):
    _fields_ = [
        ("type", C.c_int), ("unique_identifier", C.c_uint), ("text_position", C.c_int),
        ("length", C.c_int), ("audio_position", C.c_int), ("sample", C.c_int),
        ("user_data", C.c_void_p), ("id", _EventId),
    ]  # fmt: skip


class _Voice(C.Structure):
    _fields_ = [
        ("name", C.c_char_p), ("languages", C.POINTER(C.c_char)), ("identifier", C.c_char_p),
        ("gender", C.c_ubyte), ("age", C.c_ubyte), ("variant", C.c_ubyte), ("xx1", C.c_ubyte),
        ("score", C.c_int), ("spare", C.c_void_p),
    ]  # fmt: skip


_Callback = C.CFUNCTYPE(C.c_int, C.POINTER(C.c_short), C.c_int, C.POINTER(_Event))


@dataclass(frozen=True, slots=True)
class _Library:
    lib: C.CDLL
    rate_hz: int
    version: str
    voice_for_language: dict[str, str]  # ISO code (lower case) -> espeak voice identifier


_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _library() -> _Library:
    """Load and initialise libespeak-ng once per process."""
    for name in _LIB_NAMES:
        try:
            lib = C.CDLL(name)
            break
        except OSError:
            continue
    else:
        raise EngineUnavailable("espeak-ng library", _FIX)
    opts = _INIT_PHONEME_EVENTS | _INIT_PHONEME_IPA | _INIT_DONT_EXIT
    rate = lib.espeak_Initialize(_AUDIO_OUTPUT_SYNCHRONOUS, 0, None, opts)
    if rate <= 0:
        raise EngineUnavailable("espeak-ng data (espeak_Initialize failed)", _FIX)
    lib.espeak_Info.restype = C.c_char_p
    lib.espeak_ListVoices.restype = C.POINTER(C.POINTER(_Voice))
    lib.espeak_SetVoiceByName.argtypes = [C.c_char_p]
    lib.espeak_Synth.argtypes = [
        C.c_void_p, C.c_size_t, C.c_uint, C.c_int, C.c_uint, C.c_uint, C.c_void_p, C.c_void_p
    ]  # fmt: skip
    version = (lib.espeak_Info(None) or b"").decode()
    return _Library(lib, rate, version, _language_table(lib))


def _language_table(lib: C.CDLL) -> dict[str, str]:
    """ISO code -> identifier of the voice that speaks it with the best (lowest) priority."""
    best: dict[str, tuple[int, str]] = {}
    voices = lib.espeak_ListVoices(None)
    i = 0
    while voices[i]:
        voice = voices[i].contents
        langs, k = voice.languages, 0
        while langs[k] != b"\0":  # [priority byte][code]\0 ... \0
            priority, k = langs[k][0], k + 1
            start = k
            while langs[k] != b"\0":
                k += 1
            code = C.string_at(C.addressof(langs.contents) + start, k - start).decode().lower()
            k += 1
            if code not in best or priority < best[code][0]:
                best[code] = (priority, voice.identifier.decode())
        i += 1
    return {code: ident for code, (_, ident) in best.items()}


class EspeakEngine:
    """espeak-ng for every language it has; robotic, but exact timings and 100+ languages."""

    name = "espeak-ng"

    def __init__(self) -> None:
        self._lib = _library()
        self.version = self._lib.version

    def voices(self) -> tuple[VoiceInfo, ...]:
        return ESPEAK_VOICES

    def languages(self) -> tuple[str, ...]:
        return tuple(sorted(self._lib.voice_for_language))

    def resolve_language(self, language: str) -> str:
        """espeak's code for an ISO code ("de", "pt-BR", "zh"); raises UnsupportedLanguage."""
        code = language.strip().lower().replace("_", "-")
        table = self._lib.voice_for_language
        for candidate in (code, code.split("-")[0]):
            if candidate in table:
                return candidate
        raise UnsupportedLanguage(
            f"The language '{language}' is not supported.",
            "Use one of: " + ", ".join(self.languages()) + ".",
        )

    def synthesize(self, text: str, voice: str, language: str) -> Speech:
        """Speak `text` in `language` (ISO code); samples float32 (n,) at 22050 Hz."""
        if voice not in _VARIANTS:
            names = ", ".join(_VARIANTS)
            raise UnknownVoice(
                f"There is no espeak-ng voice '{voice}'.", f"Choose one of: {names}."
            )
        code = self.resolve_language(language)
        ident = self._lib.voice_for_language[code] + _VARIANTS[voice]
        samples, events = self._synth(text, ident)
        rate = self._lib.rate_hz
        phones, words = _timeline(text, events, len(samples) / rate, rate)
        return Speech(
            samples=samples,
            sample_rate_hz=rate,
            phones=phones,
            words=words,
            source=SpeechSource(
                kind="tts", engine=f"espeak-ng {self.version}", voice=voice, language=code
            ),
            timing="engine",
            text=text,
        )

    def _synth(self, text: str, ident: str) -> tuple[np.ndarray, list[tuple[int, int, int, str]]]:
        """Run the library; returns float32 samples and (type, text_pos, length/sample, ipa)."""
        chunks: list[np.ndarray] = []
        events: list[tuple[int, int, int, int, str]] = []

        def collect(wav, n, ev):  # called by espeak-ng on this thread, inside espeak_Synth
            if n > 0:
                chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            k = 0
            while ev[k].type != _EV_END_LIST:
                e = ev[k]
                ipa = bytes(e.id.string).split(b"\0")[0].decode("utf-8", "ignore")
                events.append((e.type, e.text_position, e.length, e.sample, ipa))
                k += 1
            return 0

        callback = _Callback(collect)  # keep a reference while the library may call it
        data = text.encode("utf-8")
        lib = self._lib.lib
        with _LOCK:
            lib.espeak_SetSynthCallback(callback)
            if lib.espeak_SetVoiceByName(ident.encode()) != 0:
                raise EngineUnavailable(f"espeak-ng voice {ident}", _FIX)
            lib.espeak_Synth(data, len(data) + 1, 0, 1, 0, _CHARS_UTF8 | _ENDPAUSE, None, None)
            lib.espeak_Synchronize()
        pcm = np.concatenate(chunks) if chunks else np.zeros(0, dtype=np.int16)
        return (pcm.astype(np.float32) / 32768.0), events


def _timeline(
    text: str, events: list[tuple[int, int, int, int, str]], duration_s: float, rate_hz: int
) -> tuple[tuple[PhoneSpan, ...], tuple[WordSpan, ...]]:
    """Phone spans from PHONEME events (each lasts until the next) and words from their owners.

    A phoneme event carries the text position of the word it belongs to, so a word's span runs
    from its first to its last non-silent phone.
    """
    marks = [
        (smp / rate_hz, pos, phones)
        for typ, pos, _, smp, ipa in events
        if typ == _EV_PHONEME and (phones := ipa_to_arpabet(ipa))
    ]
    word_len = {pos: length for typ, pos, length, _, _ in events if typ == _EV_WORD}
    spans: list[tuple[str, float, float]] = []
    owners: list[int] = []
    for k, (start, pos, phones) in enumerate(marks):
        end = marks[k + 1][0] if k + 1 < len(marks) else duration_s
        step = (end - start) / len(phones)  # split affricates/diphthongs evenly over the span
        for j, phone in enumerate(phones):
            spans.append((phone, start + j * step, start + (j + 1) * step))
            owners.append(pos if phone != SILENCE else -1)
    words: dict[int, list[float]] = {}
    for (_, start, end), pos in zip(spans, owners, strict=True):
        if pos in word_len and end > start:
            words.setdefault(pos, [start, end])[1] = end
    word_spans = tuple(
        WordSpan(text[pos - 1 : pos - 1 + word_len[pos]], s, e)
        for pos, (s, e) in sorted(words.items())
    )
    phone_spans = tuple(PhoneSpan(*s) for s in fill_phone_gaps(spans, duration_s))
    return phone_spans, word_spans
