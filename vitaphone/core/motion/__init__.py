"""Motion planning: speech -> per-frame mouth, expression, blink, head and gaze channels.

    track = plan_motion(speech, MotionOptions(emotion="happy", intensity=0.7, seed=1))
"""

from vitaphone.core.motion.options import MotionOptions, parse_emotion
from vitaphone.core.motion.track import plan_motion
from vitaphone.core.motion.types import CHANNELS, Emotion, MotionTrack

__all__ = ["CHANNELS", "Emotion", "MotionOptions", "MotionTrack", "parse_emotion", "plan_motion"]
