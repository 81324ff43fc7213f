"""The motion stage: `plan_motion(speech, options) -> MotionTrack`.

Composes the parts, each its own module: mouth from phones (coarticulation) or from loudness
(energy timing), the emotion's offsets and speech colouring, lip contacts, blinks, head motion
and gaze. Output columns follow CHANNELS; values are clamped to each channel's range.
"""

from __future__ import annotations

import math

import numpy as np

from vitaphone.core.errors import BadAudio, BadOption
from vitaphone.core.motion.blinks import plan_blinks
from vitaphone.core.motion.coarticulation import (
    REST_MOUTH, apply_contacts, apply_effort, limit_jaw, mouth_from_energy, mouth_from_phones,
    segments_of)
from vitaphone.core.motion.emotion import EmotionStyle, colour_mouth, onset_ramp, style_for
from vitaphone.core.motion.gaze import plan_gaze
from vitaphone.core.motion.head import plan_head
from vitaphone.core.motion.options import MotionOptions
from vitaphone.core.motion.prosody import Prosody, analyse_prosody
from vitaphone.core.motion.types import CHANNELS, MOUTH_CHANNELS, MotionTrack
from vitaphone.core.speech.types import SILENCE, Speech

PAUSE_MIN_S = 0.12  # a silence at least this long is a pause / phrase boundary
HEAD_CLAMP_DEG = 20.0

# (low, high) per channel; head angles are already soft-limited by head.py.
CHANNEL_RANGE: dict[str, tuple[float, float]] = {
    **dict.fromkeys(CHANNELS, (-1.0, 1.0)),
    **dict.fromkeys(("jaw_open", "lip_round", "lip_close", "lower_lip_tuck", "upper_lip_raise",
                     "brow_inner_raise", "brow_furrow", "cheek_raise", "nose_wrinkle",
                     "blink_left", "blink_right"), (0.0, 1.0)),
    **dict.fromkeys(("head_pitch_deg", "head_yaw_deg", "head_roll_deg"),
                    (-HEAD_CLAMP_DEG, HEAD_CLAMP_DEG)),
    # Down to -2: an emotion against the portrait's own smile first undoes it (emotion.py).
    "mouth_corner": (-2.0, 1.0),
}
_LOW = np.array([CHANNEL_RANGE[c][0] for c in CHANNELS], np.float32)
_HIGH = np.array([CHANNEL_RANGE[c][1] for c in CHANNELS], np.float32)
_COL = {name: i for i, name in enumerate(CHANNELS)}
_MOUTH = slice(0, len(MOUTH_CHANNELS))  # MOUTH_CHANNELS lead CHANNELS
_HEAD = slice(_COL["head_pitch_deg"], _COL["head_roll_deg"] + 1)


def _uses_phones(speech: Speech) -> bool:
    return speech.timing != "energy" and any(p.phone != SILENCE for p in speech.phones)


def _pauses(speech: Speech, speaking: np.ndarray, fps: float) -> tuple[list[float], list[float]]:
    """(pause starts, phrase starts) in seconds: from SIL phones when there are phones,
    else from the loudness gate."""
    starts, resumes = [], []
    if _uses_phones(speech):
        for seg in segments_of(speech.phones):
            if seg.phone == SILENCE and seg.end_s - seg.start_s >= PAUSE_MIN_S:
                if seg.start_s > 0:
                    starts.append(seg.start_s)
                resumes.append(seg.end_s)
        return starts, resumes
    edges = np.diff(speaking.astype(np.int8))
    starts = [float((i + 1) / fps) for i in np.flatnonzero(edges < 0)]
    resumes = [float((i + 1) / fps) for i in np.flatnonzero(edges > 0)]
    return starts, resumes


def _mouth_and_expression(values: np.ndarray, speech: Speech, prosody: Prosody,
                          style: EmotionStyle, options: MotionOptions) -> str:
    """Fill `values` (n, C) in place with the mouth and the emotion's offsets; returns a note."""
    n, fps = values.shape[0], options.fps
    if _uses_phones(speech):
        mouth = apply_effort(mouth_from_phones(speech.phones, n, fps), prosody, fps)
        note = "phones, coarticulated, jaw scaled by vocal effort"
    else:
        mouth, note = mouth_from_energy(prosody, fps), "loudness envelope (no phones)"
    values[:, _MOUTH] = colour_mouth(mouth, style, REST_MOUTH)
    offsets = style.offset_vector()
    # The emotion's head pose (a sad head hangs) is head motion too: the amplitude knob
    # scales it, so amplitude 0 keeps the portrait's own pose exactly.
    offsets[_HEAD] *= min(1.0, options.head_motion_amplitude)
    # A one-sided expression is mirrored onto the side this face favours (smirk_side).
    offsets[_COL["mouth_corner_asym"]] *= options.smirk_side
    offsets[_COL["head_roll_deg"]] *= options.smirk_side
    values += onset_ramp(n, fps)[:, None] * offsets[None, :]
    # After the emotion's jaw gain and offset, so no emotion opens the jaw past the ceiling.
    values[:, _COL["jaw_open"]] = limit_jaw(values[:, _COL["jaw_open"]])
    if _uses_phones(speech):
        # Contacts last among mouth edits: no emotion offset may open a "b" or lift an "f".
        values[:, _MOUTH] = apply_contacts(values[:, _MOUTH], speech.phones, fps)
    return note


def plan_motion(speech: Speech, options: MotionOptions) -> MotionTrack:
    """Per-frame motion for `speech`: values (ceil(duration_s * fps), len(CHANNELS)) float32.

    Deterministic for a given speech, options and seed.
    """
    if not isinstance(options, MotionOptions):
        raise BadOption(f"options must be MotionOptions, got {type(options).__name__}.",
                        "Build them with MotionOptions(...).")
    if speech.duration_s <= 0 or speech.sample_rate_hz <= 0:
        raise BadAudio("The speech has no audio.", "Give text to speak or a non-empty recording.")
    fps = options.fps
    n = max(1, math.ceil(speech.duration_s * fps - 1e-9))
    prosody = analyse_prosody(speech.samples, speech.sample_rate_hz, n, fps)
    style, calibration = style_for(options.emotion, options.intensity,
                                   own=options.own_expression)

    values = np.zeros((n, len(CHANNELS)), np.float32)
    mouth_note = _mouth_and_expression(values, speech, prosody, style, options)

    pause_starts, phrase_starts = _pauses(speech, prosody.speaking, fps)
    blinks = plan_blinks(n, fps, options.blink_rate_per_min * style.blink_rate, options.seed,
                         tuple(pause_starts))
    values[:, _COL["blink_left"]] += blinks.closure[:, 0]
    values[:, _COL["blink_right"]] += blinks.closure[:, 1]

    head = plan_head(prosody, fps, options.head_motion_amplitude, options.seed,
                     gain=style.head_gain, tempo=style.head_tempo)
    values[:, _HEAD] += head.angles_deg
    values[:, _COL["brow_raise"]] += style.brow_gesture * head.brow
    if options.gaze_shifts:
        gaze = plan_gaze(n, fps, options.seed, style.gaze_rate, tuple(phrase_starts))
        values[:, _COL["gaze_x"]:_COL["gaze_y"] + 1] += gaze

    np.clip(values, _LOW, _HIGH, out=values)
    notes = {
        "mouth": mouth_note,
        "emotion": f"{options.emotion.value} x{options.intensity:.2f}, {calibration}",
        "blinks": f"{len(blinks.peaks_s)} at " + ", ".join(f"{t:.2f}" for t in blinks.peaks_s),
        "head": f"{len(head.nods_s)} nods, amplitude {options.head_motion_amplitude:g}",
        "gaze": "shifts" if options.gaze_shifts else "fixed on camera",
    }
    return MotionTrack(values=values, fps=fps, emotion=options.emotion,
                       intensity=options.intensity, seed=options.seed, notes=notes)
