"""Motion planning: speech -> per-frame mouth, expression, blink, head and gaze channels.

    track = plan_motion(speech, MotionOptions(emotion="happy", intensity=0.7, seed=1))

Names load on first use (PEP 562): `motion.types` (the Emotion enum) is imported by light
modules such as the bots, which must not pull in the planner's scipy.
"""

from importlib import import_module

_WHERE = {
    "CHANNELS": "types", "Emotion": "types", "MotionTrack": "types",
    "MotionOptions": "options", "parse_emotion": "options",
    "plan_motion": "track",
}

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
