"""The speech stage: a quote (or a recording) in, loudness-normalised `Speech` with phones out.

`synthesize_speech` normalises the text, speaks it with flite (English; festival's voices
too where installed) or espeak-ng (every other language), optionally converts it towards a
voice sample (`clone.py`), and normalises loudness. `speech_from_recording` decodes an upload,
trims silence, times its phones (forced alignment, recognition or energy, see `align.py`) and
normalises loudness.
"""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from scipy.signal import resample_poly

from vitaphone.core.errors import (
    AudioTooShort,
    BadOption,
    EmptyText,
    EngineUnavailable,
    UnknownVoice,
    UnspeakableText,
    UnsupportedLanguage,
)
from vitaphone.core.speech.align import RATE_HZ as ALIGN_RATE_HZ
from vitaphone.core.speech.align import time_recording
from vitaphone.core.speech.audio_io import decode_audio
from vitaphone.core.speech.engines import TtsEngine, VoiceInfo, fill_phone_gaps
from vitaphone.core.speech.loudness import normalize_loudness
from vitaphone.core.speech.text import DEFAULT_MAX_CHARS, normalize_text
from vitaphone.core.speech.script import check_script
from vitaphone.core.speech.types import SILENCE, PhoneSpan, Speech, SpeechSource, WordSpan
from vitaphone.core.speech.vad import Trimmed, trim_silence

DEFAULT_ENGLISH_VOICE = "slt"
DEFAULT_OTHER_VOICE = "espeak-male"
RECORDING_RATE_HZ = 24000  # uploads are kept at 24 kHz: all of speech, half of 48 kHz
# A voice sample's detected speech must be at least this share of the minimum sample length
# (silero counts only voiced stretches: a continuous 5 s read measures ~4.5 s).
SAMPLE_SPEECH_SHARE = 0.6


@dataclass(frozen=True)
class SpeechOptions:
    """Per-request speech options; validates itself.

    language: ISO 639-1 code or BCP-47 tag ("en", "de", "pt-BR"). base_voice: a name from
    `available_voices()`, or None for the language's default. max_chars: limit on the quote.
    voice_sample / voice_sample_name: a voice to clone (any audio format) and its file name.
    sample_min_s / sample_max_s: accepted length of a voice sample; recording_min_s /
    recording_max_s: of a recording used as the speech itself. seed: for randomised converters.
    """

    language: str = "en"
    base_voice: str | None = None
    max_chars: int = DEFAULT_MAX_CHARS
    voice_sample: bytes | None = None
    voice_sample_name: str = "voice sample"
    sample_min_s: float = 5.0
    sample_max_s: float = 60.0
    recording_min_s: float = 0.5
    recording_max_s: float = 60.0
    seed: int = 0

    def __post_init__(self) -> None:
        if not self.language or not self.language.strip():
            raise BadOption("The language is empty.", "Give an ISO code such as en, de or fr.")
        if self.max_chars < 1:
            raise BadOption(f"max_chars must be at least 1, not {self.max_chars}.")
        for low, high, what in (
            (self.sample_min_s, self.sample_max_s, "voice sample"),
            (self.recording_min_s, self.recording_max_s, "recording"),
        ):
            if not 0 <= low < high:
                raise BadOption(f"The {what} length limits {low}-{high} s are not a valid range.")


class SpeechEngines:
    """The installed TTS engines, built on first use (each checks its binary or library)."""

    def __init__(self) -> None:
        self._flite: TtsEngine | None = None
        self._espeak: TtsEngine | None = None
        self._festival: TtsEngine | None = None

    @property
    def flite(self) -> TtsEngine:
        if self._flite is None:
            from vitaphone.core.speech.flite import FliteEngine

            self._flite = FliteEngine()
        return self._flite

    @property
    def espeak(self) -> TtsEngine:
        if self._espeak is None:
            from vitaphone.core.speech.espeak import EspeakEngine

            self._espeak = EspeakEngine()
        return self._espeak

    @property
    def festival(self) -> TtsEngine:
        """Optional: only where festival and one of its voices are installed."""
        if self._festival is None:
            from vitaphone.core.speech.festival import FestivalEngine

            self._festival = FestivalEngine()
        return self._festival

    def installed(self) -> list[TtsEngine]:
        engines = []
        for getter in (lambda: self.flite, lambda: self.festival, lambda: self.espeak):
            try:
                engines.append(getter())
            except EngineUnavailable:
                continue
        return engines


@lru_cache(maxsize=1)
def default_engines() -> SpeechEngines:
    return SpeechEngines()


def available_voices(engines: SpeechEngines | None = None) -> tuple[VoiceInfo, ...]:
    """Every base voice of every installed engine."""
    engines = engines or default_engines()
    return tuple(v for engine in engines.installed() for v in engine.voices())


def supported_languages(engines: SpeechEngines | None = None) -> tuple[str, ...]:
    """Every language code some installed engine speaks, sorted."""
    engines = engines or default_engines()
    return tuple(sorted({code for e in engines.installed() for code in e.languages()}))


def _base_code(language: str) -> str:
    """'pt-BR' -> 'pt', 'en_US' -> 'en'."""
    return language.strip().lower().replace("_", "-").split("-")[0]


def _is_english(language: str) -> bool:
    return _base_code(language) == "en"


def choose_engine(
    language: str, base_voice: str | None, engines: SpeechEngines
) -> tuple[TtsEngine, str]:
    """The engine and voice for a language and an optional base voice name.

    English defaults to flite's slt, every other language to espeak-ng. A named voice picks its
    engine; raises UnknownVoice, or UnsupportedLanguage listing the supported codes.
    """
    installed = engines.installed()
    if not installed:
        raise EngineUnavailable("a text-to-speech engine", "apt-get install flite espeak-ng")
    if base_voice is None:
        if _is_english(language) and any(e.name == "flite" for e in installed):
            base_voice = DEFAULT_ENGLISH_VOICE
        else:
            base_voice = DEFAULT_OTHER_VOICE
    for engine in installed:
        if base_voice not in {v.name for v in engine.voices()}:
            continue
        if hasattr(engine, "resolve_language"):  # espeak-ng: its own error lists its languages
            engine.resolve_language(language)
        elif _base_code(language) not in engine.languages():
            raise UnsupportedLanguage(
                f"The voice '{base_voice}' speaks {', '.join(engine.languages())} only, "
                f"not '{language}'.",
                f"Leave out the base voice, or use one of: {_voice_names(engines, '*')}.",
            )
        return engine, base_voice
    raise UnknownVoice(
        f"There is no base voice called '{base_voice}'.",
        f"Choose one of: {_voice_names(engines)} (see `vitaphone voices`).",
    )


def _voice_names(engines: SpeechEngines, language: str | None = None) -> str:
    return ", ".join(
        v.name for v in available_voices(engines) if language is None or v.language == language
    )


def synthesize_speech(
    text: str, options: SpeechOptions, engines: SpeechEngines | None = None
) -> Speech:
    """Speak `text` per `options`: normalised text, base TTS, optional cloning, -16 LUFS.

    Returns Speech with engine phone timings (timing == "engine"); samples float32 at the
    engine's rate (16 kHz flite, 22.05 kHz espeak-ng). Raises the text, language, voice and
    sample errors of `vitaphone.core.errors`.
    """
    engines = engines or default_engines()
    engine, voice = choose_engine(options.language, options.base_voice, engines)
    check_script(text or "", options.language)  # Arabic read by an English voice is silence
    spoken = normalize_text(text, language=options.language, max_chars=options.max_chars)
    # A bad voice sample fails before any synthesis work.
    sample = _voice_sample(options) if options.voice_sample is not None else None
    speech = engine.synthesize(spoken, voice, options.language)
    if all(p.phone == SILENCE for p in speech.phones):
        raise UnspeakableText(
            f"The voice '{voice}' found nothing it can say in the quote (language "
            f"'{options.language}').",
            "Check the quote's language, or write it in words.")
    if sample is not None:
        speech = _clone(speech, sample, options)
    return _normalised(speech)


def _voice_sample(options: SpeechOptions) -> Trimmed:
    """The voice sample decoded at 24 kHz and silence-trimmed; raises if it cannot be used."""
    name = options.voice_sample_name
    samples, rate = decode_audio(
        options.voice_sample or b"",
        name=name,
        target_rate_hz=RECORDING_RATE_HZ,
        min_s=options.sample_min_s,
        max_s=options.sample_max_s,
    )
    # Level first: VAD and pocketsphinx work best on normal levels (a recording at -31 dBFS
    # peak fell back from alignment to recognition before this).
    trimmed = trim_silence(normalize_loudness(samples, rate), rate, name=name)
    # Long enough as a file but mostly silence: the converter needs speech to learn the voice.
    needed_s = SAMPLE_SPEECH_SHARE * options.sample_min_s
    if trimmed.speech_s < needed_s:
        raise AudioTooShort(
            f"'{name}' has only {trimmed.speech_s:.1f} s of speech in it; "
            f"at least {needed_s:.0f} s is needed.",
            f"Record {options.sample_min_s:g} seconds or more of continuous speech.",
        )
    return trimmed


def _clone(base: Speech, sample: Trimmed, options: SpeechOptions) -> Speech:
    """Convert `base` towards the voice of the (trimmed, 24 kHz) sample; source gets its hash."""
    from vitaphone.core.speech.clone import clone_voice  # heavy (WORLD): only when cloning

    cloned = clone_voice(base, sample.samples, RECORDING_RATE_HZ, name=options.voice_sample_name)
    digest = hashlib.sha256(options.voice_sample or b"").hexdigest()
    return dataclasses.replace(
        cloned, source=dataclasses.replace(cloned.source, sample_sha256=digest)
    )


def speech_from_recording(
    data: bytes, *, name: str, transcript: str | None, options: SpeechOptions
) -> Speech:
    """A user's recording as Speech: decoded, silence trimmed, phones timed, -16 LUFS.

    data: the file's bytes (any common audio format, or a video with sound). transcript: what
    is said, if known (improves timing to forced alignment). Samples float32 at 24 kHz; the
    timeline is relative to the trimmed audio and `Speech.timing` says how it was obtained.
    """
    samples, rate = decode_audio(
        data,
        name=name,
        target_rate_hz=RECORDING_RATE_HZ,
        min_s=options.recording_min_s,
        max_s=options.recording_max_s,
    )
    trimmed = trim_silence(normalize_loudness(samples, rate), rate, name=name)  # level first
    text = ""
    if transcript is not None and transcript.strip():
        try:
            text = normalize_text(
                transcript, language=options.language, max_chars=options.max_chars
            )
        except (EmptyText, UnspeakableText):
            text = ""  # emoji or links only: nothing to align, time the audio without words
    analysis = resample_poly(trimmed.samples, ALIGN_RATE_HZ, rate).astype(np.float32)
    timeline = time_recording(analysis, text or None, options.language)
    duration_s = len(trimmed.samples) / rate
    phones = tuple(PhoneSpan(*s) for s in fill_phone_gaps(list(timeline.phones), duration_s))
    words = tuple(
        WordSpan(w, s, min(e, duration_s)) for w, s, e in timeline.words if s < duration_s
    )
    extras = {"vad": "webrtcvad+silero", "trimmed_start_s": f"{trimmed.start_s:.3f}"}
    if timeline.score_gap is not None:
        extras["alignment_score_gap"] = f"{timeline.score_gap:.2f}"
    speech = Speech(
        samples=trimmed.samples,
        sample_rate_hz=rate,
        phones=phones,
        words=words,
        source=SpeechSource(
            kind="recording",
            engine="upload",
            voice="",
            language=options.language.lower(),
            sample_sha256=hashlib.sha256(data).hexdigest(),
        ),
        timing=timeline.method,
        text=text,
        extras=extras,
    )
    return _normalised(speech)


def _normalised(speech: Speech) -> Speech:
    return dataclasses.replace(
        speech, samples=normalize_loudness(speech.samples, speech.sample_rate_hz)
    )
