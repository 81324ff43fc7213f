"""What a render is asked to do: the user's inputs, the options, the limits and the marking.

Kept apart from `pipeline.py` so the bots and the application service can build and check a
request without importing the media stack (numpy only, through the emotion enum).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from vitaphone.core.errors import BadOption
from vitaphone.core.limits import InputLimits  # noqa: F401  (re-exported)
from vitaphone.core.motion.types import Emotion

if TYPE_CHECKING:
    from vitaphone.core.marking.c2pa_credentials import SigningCredentials


@dataclass(frozen=True)
class AnimateInputs:
    """What the user sent. Exactly one of `text` or `audio` drives the speech; with `audio`,
    `text` is the optional transcript. Names are what the user called the files (for messages)."""

    portrait: bytes
    portrait_name: str = "the portrait"
    text: str | None = None
    audio: bytes | None = None
    audio_name: str = "the recording"
    voice_sample: bytes | None = None
    voice_sample_name: str = "the voice sample"

    def __post_init__(self) -> None:
        if self.audio is None and not (self.text or "").strip():
            raise BadOption("Nothing to say: give a quote or a recording.",
                            "Send the text to speak, or an audio clip.")
        if self.audio is not None and self.voice_sample is not None:
            raise BadOption("A recording and a voice sample were both given.",
                            "A recording already has its voice; send one or the other.")


@dataclass(frozen=True)
class AnimateOptions:
    emotion: Emotion | str = Emotion.NEUTRAL
    intensity: float = 0.7
    seed: int = 0
    language: str | None = "en"  # None: picked from the quote's script
    base_voice: str | None = None
    device: str = "auto"
    head_motion_amplitude: float = 1.0
    max_side: int = 1024
    size_budget_bytes: int | None = None
    limits: InputLimits = InputLimits()


@dataclass(frozen=True)
class Marking:
    """How the output is marked: the watermark payload (leads to the provenance record), the
    visible label, and the C2PA signing chain. `consent_basis` and `job_id` go into our C2PA
    assertion (no personal data)."""

    watermark_payload_hex: str
    credentials: SigningCredentials
    consent_basis: str
    job_id: str | None = None
    label_text: str = "AI-generated · synthetic"
    label_corner: str = "bottom-left"
