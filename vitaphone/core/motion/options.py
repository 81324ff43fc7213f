"""MotionOptions: what the caller may choose about the motion (validated on construction)."""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass

from vitaphone.core.errors import BadOption, UnknownEmotion
from vitaphone.core.motion.types import Emotion

EMOTION_NAMES = tuple(e.value for e in Emotion)
# Common spellings people type, mapped onto the canonical names.
_EMOTION_ALIASES = {
    "disgusted": "disgust",
    "surprise": "surprised",
    "afraid": "fear",
    "fearful": "fear",
    "scared": "fear",
    "anger": "angry",
    "mad": "angry",
    "joy": "happy",
    "sadness": "sad",
    "calm": "neutral",
    "none": "neutral",
}


def parse_emotion(value: Emotion | str) -> Emotion:
    """'Happy', 'happy', Emotion.HAPPY, 'surprise' -> Emotion; anything else -> UnknownEmotion."""
    if isinstance(value, Emotion):
        return value
    if not isinstance(value, str):
        raise UnknownEmotion(
            f"emotion must be a name, got {type(value).__name__}.",
            f"Use one of: {', '.join(EMOTION_NAMES)}.",
        )
    key = value.strip().lower()
    key = _EMOTION_ALIASES.get(key, key)
    try:
        return Emotion(key)
    except ValueError:
        raise UnknownEmotion(
            f"Unknown emotion {value!r}.", f"Use one of: {', '.join(EMOTION_NAMES)}."
        ) from None


def _number(name: str, value: object, low: float, high: float, hint: str) -> float:
    """A finite real number in [low, high], or BadOption naming the field."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadOption(f"{name} must be a number, got {value!r}.", hint)
    if not math.isfinite(float(value)) or not low <= float(value) <= high:
        raise BadOption(f"{name} must be between {low:g} and {high:g}, got {value!r}.", hint)
    return float(value)


@dataclass(frozen=True)
class OwnExpression:
    """What the portrait's face already does, against a typical neutral face, so an emotion can
    be applied relative to it (a sad face on a smiling portrait must first undo the smile).

    smile_iod: how far the mouth corners sit above a neutral mouth's, in inter-ocular distances
        (IOD): + smiling, - turned down, 0 within the spread of neutral faces. Measured once on
        the portrait by `vitaphone.core.face.features.smile_iod`.
    """

    smile_iod: float = 0.0

    def __post_init__(self) -> None:
        object.__setattr__(self, "smile_iod", _number(
            "own_expression.smile_iod", self.smile_iod, -0.5, 0.5,
            "Measure it with vitaphone.core.face.features.smile_iod, or leave it at 0."))


@dataclass(frozen=True)
class MotionOptions:
    """Choices for `plan_motion`.

    fps: output frame rate (frames per second), 10..60.
    emotion: one of `Emotion` (names accepted case-insensitively).
    intensity: 0 (no expression) .. 1 (full, as strong as the MEAD level-3 clips).
    seed: makes blinks, head noise and gaze reproducible.
    head_motion_amplitude: 0 (still head) .. 2 (twice the natural amount); 1 is natural.
    blink_rate_per_min: mean blinks per minute, 0 (none) .. 40; people average ~15-20.
    gaze_shifts: let the eyes glance away and back now and then.
    smirk_side: which of the subject's mouth corners a one-sided expression (contempt) lifts:
        +1 the left, -1 the right. The pipeline picks it from the portrait
        (`vitaphone.core.face.features.smirk_side`).
    own_expression: what the portrait's face already does (OwnExpression); the emotion is
        applied relative to it. The pipeline measures it on the portrait.
    """

    fps: float = 25.0
    emotion: Emotion | str = Emotion.NEUTRAL
    intensity: float = 0.7
    seed: int = 0
    head_motion_amplitude: float = 1.0
    blink_rate_per_min: float = 17.0
    gaze_shifts: bool = True
    smirk_side: int = 1
    own_expression: OwnExpression = OwnExpression()

    def __post_init__(self) -> None:
        # Frozen: normalise through object.__setattr__ so callers always see clean values.
        set_ = object.__setattr__
        set_(self, "emotion", parse_emotion(self.emotion))
        set_(self, "fps", _number("fps", self.fps, 10, 60, "Use 25 (the default)."))
        set_(self, "intensity", _number(
            "intensity", self.intensity, 0, 1, "Use 0 for none up to 1 for the strongest."))
        set_(self, "head_motion_amplitude", _number(
            "head_motion_amplitude", self.head_motion_amplitude, 0, 2,
            "Use 0 for a still head, 1 for natural motion, up to 2."))
        set_(self, "blink_rate_per_min", _number(
            "blink_rate_per_min", self.blink_rate_per_min, 0, 40,
            "Use about 17 (natural), or 0 for no blinks."))
        seed = self.seed
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < 0:
            raise BadOption(f"seed must be a whole number >= 0, got {seed!r}.",
                            "Use any non-negative integer, e.g. 0.")
        set_(self, "seed", int(seed))
        if self.smirk_side not in (1, -1):
            raise BadOption(f"smirk_side must be 1 (left) or -1 (right), got {self.smirk_side!r}.",
                            "Use 1 or -1 (the pipeline picks it from the portrait).")
        set_(self, "smirk_side", int(self.smirk_side))
        if not isinstance(self.own_expression, OwnExpression):
            raise BadOption(f"own_expression must be an OwnExpression, got {self.own_expression!r}.",
                            "Use OwnExpression(smile_iod=...) (the pipeline measures it).")
        if not isinstance(self.gaze_shifts, bool):
            raise BadOption(f"gaze_shifts must be true or false, got {self.gaze_shifts!r}.",
                            "Use True or False.")
