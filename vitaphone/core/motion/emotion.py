"""Emotions as expression offsets, and how each emotion colours the speech motion.

Each emotion has, at intensity 1 (as strong as the MEAD "level 3" clips):
* static offsets on channels (FACE_CHANNELS, some MOUTH_CHANNELS, head pitch/roll, gaze),
  added to the track after an onset ramp (the expression eases in over ONSET_S);
* speech colouring: jaw and lip gains on the articulation (a sad mouth moves less, an angry
  jaw more), head-motion gain and tempo, gaze and blink rate factors.

Hand-set defaults follow FACS prototypes (Ekman & Friesen): happy AU6+12, sad AU1+4+15,
angry AU4+7+23 (lids tightened: the MEAD actors narrow their eyes), surprised AU1+2+5+26,
fear AU1+2+4+5+20+26, disgust AU9+10, contempt unilateral AU14. When `emotion_targets.json`
(measured on the MEAD clips by the face stage, deltas from neutral in IOD) sits next to this
module, its numbers set the magnitudes: a channel offset becomes ``delta / scale`` (see
geometry.FEATURE_TO_CHANNEL). A measurement whose sign contradicts a clear prototype
(|default| >= 0.1) is not trusted for that channel: with three actors, one clip each, a noisy
measurement must not turn a smile into a frown.

Channels that cost the most identity (dlib distance) per unit of expression are held to
_IDENTITY_LIMIT. An emotion is applied against what the portrait's face already does
(relative_to_face): sad on a smiling portrait first undoes the smile.

The speech gains stay hand-set: MEAD's neutral clips are "level 1" and the others "level 3",
so their lip-motion and lip-gap deltas (every emotion 1.2-2.2x neutral, sad included) measure
the acting level more than the emotion.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np

from vitaphone.core.motion.geometry import FEATURE_TO_CHANNEL, MOUTH_CORNER_IOD
from vitaphone.core.motion.options import OwnExpression, parse_emotion
from vitaphone.core.motion.types import CHANNELS, MOUTH_CHANNELS, Emotion

ONSET_S = 0.4  # the expression eases in over this long from the first frame
TARGETS_PATH = Path(__file__).with_name("emotion_targets.json")
_SIGN_TRUST = 0.1  # defaults at least this large keep their sign against measurements
# Never calibrated: MEAD shows 0.01-0.03 IOD of corner asymmetry in every emotion, the actors'
# own faces rather than the emotion, so contempt's measured 0.03 is mostly baseline. Contempt
# keeps its prototype smirk, at full strength, on the side the sitter's own face already favours
# (MotionOptions.smirk_side): a still portrait has to read as one-sided from the smirk alone.
_PROTOTYPE_ONLY = frozenset({"mouth_corner_asym"})
# Visibility gain on the measured (calibrated) expression offsets of the upper face and mouth corners.
# Why: the MEAD deltas are medians over moving, talking faces, which a viewer reads from motion;
# on a still portrait the same delta must carry the emotion alone, and the warp of a photo
# realises only part of it at the features a face model reads (measured with bench/animate.py
# at intensity 0.8: happy corners 0.017-0.019 IOD of 0.029 asked, contempt asymmetry 0.011-0.017
# of 0.024, Qing emperor's painted brows ~15 %). A gain of 1.5 doubled the happy corners the
# judge reads (0.019 -> 0.040 IOD on Einstein) but raised the identity distance by ~0.02-0.03,
# so 1.25. Not applied to the mouth's articulation, the nose/upper lip (their stronger warps
# cost identity) or head angles.
VISIBILITY_GAIN = 1.25
_VISIBLE = frozenset({"brow_raise", "brow_inner_raise", "brow_furrow", "eye_open", "mouth_corner",
                      "mouth_corner_asym", "cheek_raise"})
# Identity limits: the largest |offset| (intensity 1) a calibrated channel may take in an emotion.
# Measured with bench/emotion_stills.py --channels (each channel alone, intensity 0.8, dlib
# identity distance on a still frame; Einstein, lady in black, Sargent): lowering the whole brow
# costs 0.23-0.31 per unit of brow_raise for 0.05-0.07 IOD of brow drop dlib reads; widening
# the mouth 0.12-0.29 per unit of lip_spread for at most a third of the corner lift that
# mouth_corner buys at the same cost; raised brows on a smile or a smirk ~0.26 per unit for a
# feature the emotion is not read by. (Angry's small nose wrinkle and cheek raise stay: held to
# 0.1 they saved ~0.006 of identity but Vermeer's angry lip sync fell from 0.43 to 0.32, the
# nose wrinkle's share of upper-lip raise no longer parting the lips.) At these limits dlib still reads the brows
# down 0.024-0.034 IOD on angry and disgust clips (was 0.040-0.054) and the identity maximum of
# those clips fell from 0.36-0.42 to 0.31-0.35 (docs/emotion_calibration.md).
_IDENTITY_LIMIT: dict[Emotion, dict[str, float]] = {
    Emotion.HAPPY: {"lip_spread": 0.45, "brow_raise": 0.25, "brow_inner_raise": 0.1},
    Emotion.ANGRY: {"brow_raise": 0.42},
    Emotion.DISGUST: {"brow_raise": 0.38, "lip_spread": 0.15},
    Emotion.CONTEMPT: {"brow_raise": 0.6},
}


@dataclass(frozen=True)
class EmotionStyle:
    """How one emotion at full intensity looks and moves.

    offsets: channel -> offset at intensity 1 (channel units; head angles in degrees).
    jaw_gain, lip_gain: multiply the speech articulation of the jaw and of the lips (spread,
        round, upper-lip raise) about the rest mouth.
    head_gain, head_tempo: multiply head-motion amplitude and speed.
    gaze_rate, blink_rate: multiply how often the eyes glance away and blink.
    brow_gesture: multiplies the emphatic brow raises that go with nods (head.py): a face holding
        its brows down (AU4, angry/disgust) does not flash them up on every stressed syllable.
    """

    offsets: dict[str, float] = field(default_factory=dict)
    jaw_gain: float = 1.0
    lip_gain: float = 1.0
    head_gain: float = 1.0
    head_tempo: float = 1.0
    gaze_rate: float = 1.0
    blink_rate: float = 1.0
    brow_gesture: float = 1.0
    source: str = "defaults"

    def scaled(self, intensity: float) -> EmotionStyle:
        """The style at `intensity` in [0, 1]: offsets scale linearly, factors from 1."""
        def mix(g: float) -> float:
            return 1.0 + (g - 1.0) * intensity

        return EmotionStyle(
            offsets={k: v * intensity for k, v in self.offsets.items()},
            jaw_gain=mix(self.jaw_gain), lip_gain=mix(self.lip_gain),
            head_gain=mix(self.head_gain), head_tempo=mix(self.head_tempo),
            gaze_rate=mix(self.gaze_rate), blink_rate=mix(self.blink_rate),
            brow_gesture=mix(self.brow_gesture), source=self.source)

    def offset_vector(self) -> np.ndarray:
        """Offsets as a (len(CHANNELS),) float32 vector in CHANNELS order."""
        v = np.zeros(len(CHANNELS), np.float32)
        for name, value in self.offsets.items():
            v[CHANNELS.index(name)] = value
        return v


DEFAULT_STYLES: dict[Emotion, EmotionStyle] = {
    Emotion.NEUTRAL: EmotionStyle(),
    Emotion.HAPPY: EmotionStyle(
        offsets={"mouth_corner": 0.8, "cheek_raise": 0.7, "lip_spread": 0.35, "eye_open": -0.2,
                 "brow_raise": 0.1, "upper_lip_raise": 0.1, "head_pitch_deg": -0.8},
        jaw_gain=1.05, head_gain=1.15, head_tempo=1.15, gaze_rate=1.1),
    Emotion.SAD: EmotionStyle(
        offsets={"brow_inner_raise": 0.8, "brow_furrow": 0.25, "brow_raise": -0.1,
                 "mouth_corner": -0.6, "eye_open": -0.3, "lip_spread": -0.1,
                 "head_pitch_deg": 2.5, "gaze_y": 0.2},
        jaw_gain=0.7, lip_gain=0.7, head_gain=0.7, head_tempo=0.7, gaze_rate=0.7,
        blink_rate=0.9),
    Emotion.ANGRY: EmotionStyle(
        offsets={"brow_furrow": 0.9, "brow_raise": -0.5, "eye_open": -0.15, "mouth_corner": -0.25,
                 "lip_spread": -0.15, "nose_wrinkle": 0.15, "upper_lip_raise": 0.1,
                 "head_pitch_deg": 1.0},
        jaw_gain=1.15, lip_gain=0.8, head_gain=1.1, head_tempo=1.3, gaze_rate=0.6,
        blink_rate=0.8, brow_gesture=0.2),
    Emotion.SURPRISED: EmotionStyle(
        # Only a hint of the dropped jaw (AU26): held open, it hung between words and the mouth
        # stopped following the sound (dlib lip-sync r 0.38 -> 0.47 on Einstein at 0.12 -> 0.04);
        # surprise reads from the brows and lids.
        offsets={"brow_raise": 0.9, "brow_inner_raise": 0.4, "eye_open": 0.8, "jaw_open": 0.04,
                 "lip_close": -0.2, "head_pitch_deg": -1.5},
        jaw_gain=1.1, head_gain=1.1, head_tempo=1.1, blink_rate=0.7),
    Emotion.FEAR: EmotionStyle(
        offsets={"brow_raise": 0.5, "brow_inner_raise": 0.8, "brow_furrow": 0.3, "eye_open": 0.7,
                 "lip_spread": 0.3, "mouth_corner": -0.2, "jaw_open": 0.02, "lip_close": -0.1,
                 "head_pitch_deg": -0.5},
        jaw_gain=0.9, head_gain=0.8, head_tempo=1.3, gaze_rate=1.8, blink_rate=1.3),
    Emotion.DISGUST: EmotionStyle(
        # Nose wrinkle (AU9) at 0.35, not the prototype's 0.8: MEAD's actors show none
        # (-0.005 IOD, 2/3), and at 0.64 it alone cost 0.10-0.17 of dlib identity distance
        # on a still frame with no brow, eye or corner change to show for it.
        offsets={"nose_wrinkle": 0.35, "upper_lip_raise": 0.45, "brow_furrow": 0.4,
                 "brow_raise": -0.3, "eye_open": -0.3, "mouth_corner": -0.3, "cheek_raise": 0.3,
                 "head_pitch_deg": -1.0, "head_roll_deg": 1.0},
        jaw_gain=0.85, lip_gain=0.9, head_gain=0.9, brow_gesture=0.4),
    Emotion.CONTEMPT: EmotionStyle(
        offsets={"mouth_corner_asym": 1.0, "mouth_corner": 0.1, "eye_open": -0.15,
                 "brow_raise": 0.1, "head_pitch_deg": -1.5, "head_roll_deg": 1.5},
        jaw_gain=0.9, lip_gain=0.9, head_gain=0.9, head_tempo=0.9),
}

# Channel ranges (for calibrated offsets); head angles are not calibrated.
_RANGE = {"jaw_open": (0, 1), "lip_round": (0, 1), "lip_close": (-1, 1),
          "lower_lip_tuck": (0, 1), "upper_lip_raise": (0, 1), "brow_inner_raise": (0, 1),
          "brow_furrow": (0, 1), "cheek_raise": (0, 1), "nose_wrinkle": (0, 1)}


def _calibrate(default: EmotionStyle, measured: dict[str, float],
               limits: dict[str, float] | None = None) -> tuple[EmotionStyle, list]:
    """Default style with magnitudes replaced from measured feature deltas (IOD).
    Returns the style and the list of channels whose measurement was not used."""
    offsets = dict(default.offsets)
    rejected = []
    # Relative measures ("eye_opening_rel") are steadier across faces: applied last, they win.
    for feature, delta in sorted(_derived(measured).items(), key=lambda kv: kv[0].endswith("_rel")):
        if feature not in FEATURE_TO_CHANNEL:
            continue
        channel, scale = FEATURE_TO_CHANNEL[feature]
        if channel in _PROTOTYPE_ONLY:
            continue
        value = float(np.clip(delta / scale, *_RANGE.get(channel, (-1.0, 1.0))))
        prior = default.offsets.get(channel, 0.0)
        if abs(prior) >= _SIGN_TRUST and np.sign(value) != np.sign(prior):
            rejected.append(channel)
            continue
        if channel in _VISIBLE:
            value = float(np.clip(value * VISIBILITY_GAIN, *_RANGE.get(channel, (-1.0, 1.0))))
        limit = (limits or {}).get(channel)
        if limit is not None:
            value = float(np.clip(value, -limit, limit))
        offsets[channel] = value
    return replace(default, offsets=offsets, source="MEAD"), rejected


def _derived(measured: dict) -> dict[str, float]:
    """Finite numeric features, with the brows split the way the channels split them:
    brow_raise moves the whole brow (measured at its outer part), brow_inner_raise lifts the
    inner ends *on top of that*, so it is calibrated from inner minus outer height."""
    clean = {k: float(v) for k, v in measured.items()
             if isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)}
    if "outer_brow_height" in clean:
        outer = clean.pop("outer_brow_height")
        clean["brow_height"] = outer
        if "inner_brow_height" in clean:
            clean["inner_brow_height"] -= outer
    elif "brow_height" in clean and "inner_brow_height" in clean:
        clean["inner_brow_height"] -= clean["brow_height"]
    return clean


@lru_cache(maxsize=4)
def load_styles(path: Path | None = TARGETS_PATH) -> tuple[dict[Emotion, EmotionStyle], str]:
    """Styles for every emotion: calibrated from `path` when it exists and parses, else the
    defaults. Returns (styles, a note saying which and what was not used)."""
    if path is None or not Path(path).is_file():
        return dict(DEFAULT_STYLES), "hand-set FACS defaults (no emotion_targets.json)"
    try:
        raw = json.loads(Path(path).read_text())
    except (OSError, ValueError) as exc:
        return dict(DEFAULT_STYLES), f"hand-set defaults ({path.name} unreadable: {exc})"
    styles = dict(DEFAULT_STYLES)
    notes = []
    for name, measured in raw.items() if isinstance(raw, dict) else ():
        try:
            emotion = parse_emotion(name)
        except Exception:  # an extra key (e.g. metadata) is not an emotion: skip it
            continue
        if emotion is Emotion.NEUTRAL or not isinstance(measured, dict):
            continue
        styles[emotion], rejected = _calibrate(DEFAULT_STYLES[emotion], measured,
                                               _IDENTITY_LIMIT.get(emotion))
        if rejected:
            notes.append(f"{emotion.value}: kept default sign for {', '.join(rejected)}")
    note = "calibrated on MEAD (emotion_targets.json)"
    return styles, note + ("; " + "; ".join(notes) if notes else "")


# How much a smile widens the mouth per unit of corner lift (happy's prototype: spread 0.35 with
# corners 0.8): undoing a portrait's own smile narrows its mouth by the same share.
_SPREAD_PER_CORNER = 0.35 / 0.8
SMILE_LIP_CLOSE = 0.4  # lip_close when a smile is fully undone (intensity 1)
SMILE_CLOSE_CORNER = -1.5  # mouth_corner per unit of that lip_close
_SMILE_CHANNELS = ("mouth_corner", "cheek_raise", "lip_spread")


def relative_to_face(style: EmotionStyle, own: OwnExpression, intensity: float) -> EmotionStyle:
    """`style` (already at `intensity`) applied against what the portrait's face already does.

    An emotion whose corners go the other way than the portrait's own (sad, angry, fear or
    disgust on a smiling face; happy on a turned-down mouth) first takes the portrait's corners
    back to neutral, by `intensity` of the way, then adds its own movement: a sad offset on a
    broad smile alone still reads as a smile. One whose corners go the same way (happy on a
    smiling face) adds only what the face does not already show, so it does not over-smile;
    its cheek and mouth widening shrink by the same share. Other channels are left alone;
    contempt's one-sided smirk (mouth_corner_asym) is never touched.
    """
    own_units = own.smile_iod / MOUTH_CORNER_IOD  # the portrait's smile in mouth_corner units
    corner = style.offsets.get("mouth_corner", 0.0)
    if own_units == 0.0 or corner == 0.0:
        return style
    offsets = dict(style.offsets)
    if corner * own_units < 0:
        undo = -own_units * intensity
        offsets["mouth_corner"] = corner + undo
        offsets["lip_spread"] = offsets.get("lip_spread", 0.0) + _SPREAD_PER_CORNER * undo
        if own_units > 0:
            # A smile parts the lips over the teeth; relaxing it lets them fall together
            # (lip_close on a portrait parted at rest draws its own lips over the teeth,
            # render/lip_seal.py; on closed lips it changes nothing). Left apart, "sad" on a
            # broad smile still grinned. Closing them raises the jaw and the corners with it,
            # so the corners come down that much more.
            close = SMILE_LIP_CLOSE * intensity
            offsets["lip_close"] = offsets.get("lip_close", 0.0) + close
            offsets["mouth_corner"] += SMILE_CLOSE_CORNER * close
    else:
        kept = max(0.0, abs(corner) - abs(own_units)) / abs(corner)
        for name in _SMILE_CHANNELS:
            if name in offsets and np.sign(offsets[name]) == np.sign(corner):
                offsets[name] *= kept
    return replace(style, offsets=offsets)


def style_for(emotion: Emotion, intensity: float, path: Path | None = TARGETS_PATH,
              own: OwnExpression = OwnExpression()) -> tuple[EmotionStyle, str]:
    """The style of `emotion` at `intensity` on a face that already shows `own`, and a note on
    its calibration."""
    styles, note = load_styles(path)
    style = relative_to_face(styles[emotion].scaled(intensity), own, intensity)
    if own.smile_iod:
        note += f"; relative to the portrait's own smile ({own.smile_iod:+.3f} IOD)"
    return style, note


def onset_ramp(n_frames: int, fps: float, onset_s: float = ONSET_S) -> np.ndarray:
    """0 -> 1 smoothstep over the first `onset_s` seconds (frame 0 is exactly 0, so the first
    frame shows the portrait as it is), shape (n_frames,) float32."""
    t = np.arange(n_frames) / fps
    x = np.clip(t / max(onset_s, 1e-6), 0.0, 1.0)
    return (x * x * (3 - 2 * x)).astype(np.float32)


def colour_mouth(mouth: np.ndarray, style: EmotionStyle, rest: np.ndarray) -> np.ndarray:
    """Scale articulation (n_frames, 6) about the rest mouth by the style's jaw and lip gains.
    lip_close and lower_lip_tuck are contacts, not amplitudes: left alone."""
    out = mouth.copy()
    gains = {"jaw_open": style.jaw_gain, "lip_spread": style.lip_gain,
             "lip_round": style.lip_gain, "upper_lip_raise": style.lip_gain}
    for name, gain in gains.items():
        j = MOUTH_CHANNELS.index(name)
        out[:, j] = rest[j] + gain * (mouth[:, j] - rest[j])
    return out
