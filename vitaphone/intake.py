"""Intake: the cheap checks on everything a user sends, before anything is stored or queued.

Every front end calls these before the consent step and `Studio.submit` calls them again before
it stores a byte, so a bad file is refused in milliseconds with a message that names it, and
nothing that will not become a job ever reaches the database or the blob store:

    read_file(path, max_bytes=..., what=...)        a file the user named, never > limit + 1 bytes
    read_chunks(chunks, max_bytes=..., name=...)    a download, same bound (bots)
    check_portrait(data, name=..., limits=...)      size, type, declared pixels (no pixel decoded)
    check_audio(data, name=..., limits=..., role=)  type, duration, not silent
    check_quote(text, language=..., limits=...)     control characters out, length, something to
                                                    say, script vs language, speech-length bound
    clean_text(value) / clean_name(value)           NUL and control characters out (any text
                                                    that goes to SQL: quotes, names, titles)
    check_request(inputs, options, limits)          all of the above for one AnimateInputs

`limits` is the core's `InputLimits` (`Studio.limits()` builds it from settings). Errors are
`UserFacingError`s (BadImage, BadAudio, TextTooLong, ...). Nothing heavy is imported here: Pillow
and PyAV load when a portrait or a clip is checked; torch never does.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from vitaphone.core.errors import BadOption, SpeechTooLong, TextTooLong

if TYPE_CHECKING:
    from vitaphone.core.request import AnimateInputs, AnimateOptions, InputLimits

MAX_NAME_CHARS = 120
# Recordings and voice samples: a minute of 48 kHz stereo WAV is 11 MB; a phone video with
# sound, sent as a recording, is rarely over 50.
MAX_AUDIO_BYTES = 64 * 2**20
# Lower bounds on how fast an engine speaks (letters per second of speech; our engines measured
# 10-14 for alphabets and 2-3 for ideographs and kana). A quote whose letters would take longer
# than the limit even at these rates is refused before any synthesis; the pipeline checks the
# real duration after synthesis, before rendering.
_FAST_LETTERS_PER_S = 25.0
_FAST_SYLLABLES_PER_S = 6.0
_SYLLABIC_SCRIPTS = {"CJK", "HIRAGANA", "KATAKANA", "HANGUL", "YI"}
# Bidirectional overrides and isolates: invisible, and they make a name read backwards.
_BIDI_CONTROLS = {chr(c) for c in (*range(0x202A, 0x202F), *range(0x2066, 0x206A))}
Role = Literal["recording", "voice_sample"]


# --- text ------------------------------------------------------------------------------------
def clean_text(value: str, *, newlines: bool = True) -> str:
    """`value` in NFC with NUL, other control characters, lone surrogates and bidi overrides
    removed (PostgreSQL refuses NUL; SQLite stores it and breaks every reader later).

    Tabs become spaces; newlines are kept when `newlines`, else become spaces. Not stripped.
    """
    out = []
    for ch in unicodedata.normalize("NFC", value):
        cat = unicodedata.category(ch)
        if ch == "\n" and newlines:
            out.append(ch)
        elif ch in "\t\r\n\v\f\x85\u2028\u2029":
            out.append(" ")
        elif cat in ("Cc", "Cs") or ch in _BIDI_CONTROLS:
            continue
        else:
            out.append(ch)
    return "".join(out)


def clean_name(value: str | None, *, max_chars: int = MAX_NAME_CHARS) -> str | None:
    """A display name, chat title or file name fit to store and print: one line, no control
    characters, at most `max_chars` characters; None stays None."""
    if value is None:
        return None
    cleaned = re.sub(r"\s+", " ", clean_text(value, newlines=False)).strip()
    return cleaned[: max_chars - 1] + "…" if len(cleaned) > max_chars else cleaned


@dataclass(frozen=True)
class Quote:
    """A checked quote: `text` is what gets stored (cleaned, not yet normalised for the engine),
    `language` the one it will be spoken in, `min_speech_s` a lower bound on its duration."""

    text: str
    language: str
    min_speech_s: float


def check_quote(text: str | None, *, language: str | None, limits: InputLimits,
                field: str = "quote") -> Quote:
    """Clean and check a quote to be synthesised.

    language: what the user chose, or None to pick it from the quote's script. Raises EmptyText,
    TextTooLong, UnspeakableText, UnsupportedLanguage (the quote's script does not fit the
    chosen language) and SpeechTooLong (it would surely take longer than `max_speech_s`).
    """
    from vitaphone.core.speech.script import language_for_text, letter_scripts
    from vitaphone.core.speech.text import normalize_text

    cleaned = clean_text(text or "").strip()
    spoken_language = language_for_text(cleaned, language)
    # normalize_text raises EmptyText / TextTooLong / UnspeakableText with the same wording the
    # pipeline uses, and expands what will be read aloud ("1999" -> "nineteen ninety-nine").
    spoken = normalize_text(cleaned, language=spoken_language, max_chars=limits.max_quote_chars,
                            field=field)
    letters = letter_scripts(spoken)
    syllabic = sum(n for script, n in letters.items() if script in _SYLLABIC_SCRIPTS)
    min_speech_s = (syllabic / _FAST_SYLLABLES_PER_S
                    + (sum(letters.values()) - syllabic) / _FAST_LETTERS_PER_S)
    max_speech_s = getattr(limits, "max_speech_s", None)
    if max_speech_s is not None and min_speech_s > max_speech_s:
        raise SpeechTooLong(
            f"The {field} would take more than {min_speech_s:.0f} s to say; the limit is "
            f"{max_speech_s:g} s of speech.",
            "Shorten it (long numbers are read out in full: write them in words or round them).",
        )
    return Quote(cleaned, spoken_language, min_speech_s)


def check_transcript(text: str | None, *, limits: InputLimits) -> str | None:
    """A recording's optional transcript: cleaned and length-checked (it is never synthesised)."""
    if text is None:
        return None
    cleaned = clean_text(text).strip()
    if len(cleaned) > limits.max_quote_chars:
        raise TextTooLong(
            f"The transcript is {len(cleaned)} characters long; the limit is "
            f"{limits.max_quote_chars}.", f"Shorten it to at most {limits.max_quote_chars}.")
    return cleaned or None


# --- files -----------------------------------------------------------------------------------
def read_file(path: Path, *, max_bytes: int, what: str = "a file") -> bytes:
    """The bytes of a file the user named, reading at most `max_bytes` + 1 bytes.

    Raises BadOption naming the path: missing, a folder, unreadable, or over the limit (also
    for endless files such as /dev/zero, which have no size to check beforehand).
    """
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise BadOption(f"{path} does not exist.", "Check the path.") from None
    except IsADirectoryError:
        raise BadOption(f"{path} is a folder, not a file.", f"Pass {what}.") from None
    except PermissionError:
        raise BadOption(f"{path} cannot be read (permission denied).",
                        "Check the file's permissions.") from None
    except OSError as exc:
        raise BadOption(f"{path} cannot be read ({exc.strerror}).", f"Pass {what}.") from None
    if len(data) > max_bytes:
        raise _too_big(str(path), max_bytes)
    return data


def read_chunks(chunks: Iterable[bytes], *, max_bytes: int, name: str) -> bytes:
    """Join a download's chunks, stopping as soon as it exceeds `max_bytes` (BadOption)."""
    parts, total = [], 0
    for chunk in chunks:
        total += len(chunk)
        if total > max_bytes:
            raise _too_big(name, max_bytes)
        parts.append(chunk)
    return b"".join(parts)


def _too_big(name: str, max_bytes: int) -> BadOption:
    size = f"{max_bytes / 2**20:.0f} MiB" if max_bytes >= 2**20 else f"{max_bytes} bytes"
    return BadOption(f"{name} is larger than the {size} limit.", "Send a smaller file.",
                     code="file_too_large")


@dataclass(frozen=True)
class PortraitInfo:
    name: str
    size_bytes: int
    width: int
    height: int
    format: str  # Pillow's name: "JPEG", "PNG", "WEBP", ...


def check_portrait(data: bytes, *, name: str, limits: InputLimits) -> PortraitInfo:
    """Size, type and declared pixel count of a portrait, from its header only (milliseconds).

    Raises BadImage (not an image, says what it is instead), ImageTooLarge. Whether a face is in
    it is the pipeline's `analyze_face` (tens of milliseconds more, with the face models)."""
    from vitaphone.core.face.image_io import open_portrait_header

    img = open_portrait_header(data, name=name, max_bytes=limits.max_portrait_bytes,
                               max_pixels=limits.max_portrait_pixels)
    return PortraitInfo(name, len(data), img.size[0], img.size[1], img.format or "?")


@dataclass(frozen=True)
class AudioInfo:
    name: str
    size_bytes: int
    duration_s: float


def check_audio(data: bytes, *, name: str, limits: InputLimits, role: Role) -> AudioInfo:
    """Type and duration of a recording (lip-synced as is) or a voice sample (to clone).

    Decodes at 16 kHz, stopping as soon as the clip is known to be too long. Raises BadAudio
    (not audio, damaged, an image or a silent video), AudioTooShort, AudioTooLong,
    NoSpeechFound (silent). Whether it holds speech is decided by the pipeline's VAD.
    """
    from vitaphone.core.speech.audio_io import decode_audio

    if len(data) > MAX_AUDIO_BYTES:
        raise _too_big(name, MAX_AUDIO_BYTES)
    if role == "voice_sample":
        min_s, max_s = limits.min_voice_sample_s, limits.max_voice_sample_s
    else:
        min_s, max_s = 0.5, limits.max_audio_s
    samples, rate = decode_audio(data, name=name, target_rate_hz=16000, min_s=min_s, max_s=max_s)
    return AudioInfo(name, len(data), len(samples) / rate)


# --- a whole request -------------------------------------------------------------------------
def check_request(inputs: AnimateInputs, options: AnimateOptions,
                  limits: InputLimits) -> tuple[AnimateInputs, AnimateOptions]:
    """Every cheap check of one request, text first (free), then files.

    Returns the inputs with cleaned text and names and the options with the language resolved
    (picked from the quote's script when `options.language` is None or empty).
    """
    language = options.language or None
    if inputs.audio is None:
        quote = check_quote(inputs.text, language=language, limits=limits)
        text: str | None = quote.text
        language = quote.language
    else:
        text = check_transcript(inputs.text, limits=limits)
        language = language or "en"
    names = {key: clean_name(getattr(inputs, key)) or default for key, default in (
        ("portrait_name", "the portrait"), ("audio_name", "the recording"),
        ("voice_sample_name", "the voice sample"))}
    check_portrait(inputs.portrait, name=names["portrait_name"], limits=limits)
    if inputs.audio is not None:
        check_audio(inputs.audio, name=names["audio_name"], limits=limits, role="recording")
    if inputs.voice_sample is not None:
        check_audio(inputs.voice_sample, name=names["voice_sample_name"], limits=limits,
                    role="voice_sample")
    return (dataclasses.replace(inputs, text=text, **names),
            dataclasses.replace(options, language=language))


__all__ = [
    "MAX_AUDIO_BYTES", "AudioInfo", "PortraitInfo", "Quote", "SpeechTooLong", "check_audio", "check_portrait",
    "check_quote", "check_request", "check_transcript", "clean_name", "clean_text",
    "read_chunks", "read_file",
]
