"""Check early: refuse a bad request in seconds, before the consent step and the queue.

Before download, the platform's claims (size, type, duration) are checked; the download itself
stops at the limit; after download the portrait is decoded and a face is found with the
pipeline's own code (`core.face`: numpy, OpenCV, Pillow and LiteRT, never torch), so a bad photo
gets the pipeline's own message. Audio is checked on its claims here and decoded by the worker,
which refuses it with the same kind of message.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from vitaphone.bots.contract import Attachment, FileTooLarge, Messenger
from vitaphone.core.errors import (
    AudioTooLong,
    AudioTooShort,
    BadAudio,
    BadImage,
    BadOption,
    ImageTooLarge,
    TextTooLong,
    UnknownEmotion,
    UnknownVoice,
    UnsupportedLanguage,
)

if TYPE_CHECKING:  # the pipeline module pulls in the motion stack (scipy)
    from vitaphone.core.request import InputLimits

_MB = 1024 * 1024  # sizes shown in MB are MiB, like the limits they are compared with
_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
_AUDIO_PREFIXES = ("audio/", "video/ogg", "application/ogg")
_EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised", "fear", "disgust", "contempt")
# espeak-ng's language list is read on the worker; a bot host without it accepts any
# well-formed tag and the worker refuses an unknown one with its own message.
_LANGUAGE_TAG = re.compile(r"^[a-z]{2,3}([-_][a-z0-9]{2,8})*$", re.IGNORECASE)


@dataclass(frozen=True)
class CheckedPortrait:
    data: bytes
    name: str
    faces_found: int


def check_portrait_claims(att: Attachment, limits: InputLimits, max_download: int) -> None:
    """Refuse before download: a file that says it is not an image, or is too large."""
    name = att.file_name or "the photo"
    if att.kind not in ("photo", "image", "document"):
        raise BadImage(f"{_a(att.kind)} cannot be a portrait.", "Send a photo of a face.")
    if att.mime_type and att.kind != "photo" and att.mime_type.lower() not in _IMAGE_TYPES:
        raise BadImage(f"The file '{name}' is {att.mime_type}, not a photo.",
                       "Send a JPEG, PNG or WebP photo of a face.")
    limit = min(limits.max_portrait_bytes, max_download)
    if att.size_bytes is not None and att.size_bytes > limit:
        raise _too_large(att.size_bytes, limit)
    if att.width and att.height and att.width * att.height > limits.max_portrait_pixels:
        raise ImageTooLarge(
            f"The photo has {att.width * att.height / 1e6:.0f} megapixels; the limit is "
            f"{limits.max_portrait_pixels / 1e6:.0f}.", "Send a smaller photo.")


def check_audio_claims(att: Attachment, limits: InputLimits, max_download: int, *,
                       as_sample: bool) -> None:
    """Refuse before download: not audio, too large, or a duration outside the limits."""
    what = "voice sample" if as_sample else "recording"
    if att.kind not in ("voice", "audio", "document", "video"):
        raise BadAudio(f"{_a(att.kind)} cannot be a {what}.", "Send a voice note or an audio file.")
    mime = (att.mime_type or "").lower()
    if att.kind == "document" and mime and not mime.startswith(_AUDIO_PREFIXES):
        raise BadAudio(f"The file '{att.file_name or 'sent'}' is {mime}, not audio.",
                       "Send a voice note or an audio file.")
    if att.size_bytes is not None and att.size_bytes > max_download:
        raise BadAudio(f"The {what} is {att.size_bytes / _MB:.1f} MB; the limit is "
                       f"{max_download / _MB:.0f} MB.", "Send a shorter clip.")
    if att.duration_s is None:
        return
    longest = limits.max_voice_sample_s if as_sample else limits.max_audio_s
    if att.duration_s > longest:
        raise AudioTooLong(f"The {what} is {att.duration_s:.0f} s long; the limit is "
                           f"{longest:.0f} s.", "Send a shorter clip.")
    if as_sample and att.duration_s < limits.min_voice_sample_s:
        raise AudioTooShort(f"The voice sample is {att.duration_s:.0f} s long; at least "
                            f"{limits.min_voice_sample_s:.0f} s are needed.",
                            "Record a little longer, reading a few sentences.")


def check_text(quote: str | None, limits: InputLimits, *, has_recording: bool) -> str | None:
    quote = " ".join((quote or "").split()) or None
    if quote is None and not has_recording:
        raise BadOption("There is no quote to speak.",
                        "Put the quote in the photo's caption, or after /animate.")
    if quote is not None and len(quote) > limits.max_quote_chars:
        raise TextTooLong(f"The quote has {len(quote)} characters; the limit is "
                          f"{limits.max_quote_chars}.", "Send a shorter quote.")
    return quote


def check_options(emotion: str | None, intensity_percent: int | None,
                  language: str | None) -> tuple[str, float, str]:
    """(emotion, intensity 0..1, language) with defaults; refuses unknown values."""
    emotion = (emotion or "neutral").strip().lower()
    if emotion not in _EMOTIONS:
        raise UnknownEmotion(f"“{emotion[:30]}” is not an emotion I know.",
                             "Use one of: " + ", ".join(_EMOTIONS) + ".")
    percent = 70 if intensity_percent is None else intensity_percent
    if not 0 <= percent <= 100:
        raise BadOption(f"The intensity {percent} is outside 0-100.", "Use a number from 0 to 100.")
    language = (language or "en").strip()
    if not _LANGUAGE_TAG.match(language) or not _speaks(language):
        raise UnsupportedLanguage(f"I cannot speak the language “{language[:20]}”.",
                                  "Use a language code such as en, de, fr or es.")
    return emotion, percent / 100, language


def check_base_voice(name: str | None) -> str | None:
    """A person's voice choice ('man, Scottish') -> the engine voice, or None for the default."""
    from vitaphone.core.speech.voice_names import HUMAN_VOICE_NAMES, voice_from_human

    if not name:
        return None
    voice = voice_from_human(name)
    if voice is None:
        raise UnknownVoice(f"There is no base voice called “{name[:30]}”.",
                           "Choose one of: " + "; ".join(HUMAN_VOICE_NAMES.values()) + ".")
    return voice


def _speaks(language: str) -> bool:
    """Whether the speech engines on this host speak `language` (True if none is installed
    here: then the worker decides)."""
    try:
        from vitaphone.core.speech.espeak import EspeakEngine
        engine = EspeakEngine()
    except Exception:  # no libespeak-ng on a bots-only host
        return True
    try:
        engine.resolve_language(language)
    except UnsupportedLanguage:
        return False
    return True


async def fetch_portrait(messenger: Messenger, att: Attachment,
                         limits: InputLimits) -> CheckedPortrait:
    """Download within the limit, decode and find a face (in a thread); raises the pipeline's
    UserFacingError (BadImage, NoFaceFound, FaceTooSmall, FaceInProfile, ...)."""
    check_portrait_claims(att, limits, messenger.max_download_bytes)
    limit = min(limits.max_portrait_bytes, messenger.max_download_bytes)
    try:
        data = await messenger.download(att, limit)
    except FileTooLarge:  # the file claimed less than it holds: the download stopped
        raise _too_large(None, limit) from None
    name = att.file_name or "the photo"
    faces = await asyncio.to_thread(_find_face, data, name, limits)
    return CheckedPortrait(data, name, faces)


def _find_face(data: bytes, name: str, limits: InputLimits) -> int:
    from vitaphone.core.face.analyze import analyze_face
    from vitaphone.core.face.image_io import load_portrait

    portrait = load_portrait(data, name=name, max_bytes=limits.max_portrait_bytes,
                             max_pixels=limits.max_portrait_pixels)
    return analyze_face(portrait, name=name).faces_found


def _too_large(size_bytes: int | None, limit: int) -> ImageTooLarge:
    return ImageTooLarge(f"The photo is {size_bytes / _MB:.1f} MB; the limit is "
                         f"{limit / _MB:.0f} MB."
                         if size_bytes is not None else
                         f"The photo is over the limit of {limit / _MB:.0f} MB.",
                         "Send a smaller photo.")


def _a(kind: str) -> str:
    return {"voice": "A voice note", "audio": "An audio file", "video": "A video",
            "photo": "A photo", "image": "An image", "document": "A file"}.get(kind, "This")
