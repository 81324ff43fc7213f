"""One hierarchy of errors. Users see `UserFacingError.message` and `.hint`; nothing else.

Jobs store `code` and `message` and do not retry user-facing errors; anything else is a bug or a
transient failure and is retried / reported as "Something went wrong (ref ...)".
"""

from __future__ import annotations


class VitaphoneError(Exception):
    """Base of every error Vitaphone raises on purpose."""


class UserFacingError(VitaphoneError):
    """An error caused by the user's input or request, with a message fit to show them.

    `message` says what is wrong (naming the file or field), `hint` says what to do.
    `code` is stable (snake_case) and stored with failed jobs.
    """

    code: str = "bad_request"

    def __init__(self, message: str, hint: str = "", *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        if code is not None:
            self.code = code

    def __str__(self) -> str:
        return f"{self.message} {self.hint}".strip()


class ConfigError(UserFacingError):
    code = "bad_config"


# --- text and speech -------------------------------------------------------------------------
class EmptyText(UserFacingError):
    code = "empty_text"


class TextTooLong(UserFacingError):
    code = "text_too_long"


class SpeechTooLong(TextTooLong):
    """The quote would take longer to say than the speech-duration limit."""

    code = "speech_too_long"


class UnspeakableText(UserFacingError):
    """Text with nothing to say aloud (only emoji, URLs, symbols)."""

    code = "unspeakable_text"


class UnsupportedLanguage(UserFacingError):
    code = "unsupported_language"


class UnknownVoice(UserFacingError):
    code = "unknown_voice"


class BadAudio(UserFacingError):
    """Corrupt, unreadable, not audio (a video or an image), or no speech in it."""

    code = "bad_audio"


class AudioTooShort(BadAudio):
    code = "audio_too_short"


class AudioTooLong(BadAudio):
    code = "audio_too_long"


class NoSpeechFound(BadAudio):
    code = "no_speech"


# --- portraits ---------------------------------------------------------------------------------
class BadImage(UserFacingError):
    """Corrupt, unreadable, not an image, or too large to decode safely."""

    code = "bad_image"


class ImageTooLarge(BadImage):
    code = "image_too_large"


class NoFaceFound(UserFacingError):
    code = "no_face"


class FaceTooSmall(UserFacingError):
    code = "face_too_small"


class FaceInProfile(UserFacingError):
    code = "face_in_profile"


class BadVideo(UserFacingError):
    """A file given to `verify` (or as media) that is not a readable video."""

    code = "bad_video"


# --- options -----------------------------------------------------------------------------------
class UnknownEmotion(UserFacingError):
    code = "unknown_emotion"


class BadOption(UserFacingError):
    code = "bad_option"


# --- consent and moderation --------------------------------------------------------------------
class ConsentRequired(UserFacingError):
    code = "consent_required"


class Banned(UserFacingError):
    code = "banned"


class RateLimited(UserFacingError):
    code = "rate_limited"


# --- internal ----------------------------------------------------------------------------------
class EngineUnavailable(VitaphoneError):
    """A required engine (a TTS binary, a codec, a model file) is missing on this host.

    Not the user's fault: the operator fixes it (`vitaphone doctor` says how).
    """

    def __init__(self, engine: str, fix: str) -> None:
        super().__init__(f"{engine} is not available here. Fix: {fix}")
        self.engine = engine
        self.fix = fix
