"""Emotions: expression offsets with the expected signs, speech colouring, onset, calibration."""

from __future__ import annotations

import json

import numpy as np
import pytest

from vitaphone.core.errors import BadOption
from vitaphone.core.motion import MotionOptions, plan_motion
from vitaphone.core.motion.emotion import (
    DEFAULT_STYLES, SMILE_CLOSE_CORNER, SMILE_LIP_CLOSE, VISIBILITY_GAIN, load_styles, onset_ramp,
    style_for)
from vitaphone.core.motion.geometry import EYE_APERTURE_REST_IOD, EYE_OPEN_FRACTION
from vitaphone.core.motion.options import OwnExpression
from vitaphone.core.motion.types import Emotion

# Direction each emotion must move a channel (FACS prototypes; the bench checks the same on
# rendered faces with an independent landmark model).
EXPECTED = {
    Emotion.HAPPY: {"mouth_corner": +1, "cheek_raise": +1, "lip_spread": +1},
    Emotion.SAD: {"mouth_corner": -1, "brow_inner_raise": +1, "eye_open": -1},
    Emotion.ANGRY: {"brow_furrow": +1, "brow_raise": -1, "eye_open": -1},
    Emotion.SURPRISED: {"brow_raise": +1, "eye_open": +1, "jaw_open": +1},
    Emotion.FEAR: {"brow_inner_raise": +1, "eye_open": +1, "brow_raise": +1},
    Emotion.DISGUST: {"nose_wrinkle": +1, "upper_lip_raise": +1, "brow_raise": -1},
    Emotion.CONTEMPT: {"mouth_corner_asym": +1},
}


@pytest.mark.parametrize("emotion", list(EXPECTED))
def test_default_offsets_have_the_expected_sign(emotion):
    style, note = style_for(emotion, 1.0, path=None)
    assert "default" in note
    for channel, sign in EXPECTED[emotion].items():
        assert np.sign(style.offsets.get(channel, 0.0)) == sign, channel
    assert style_for(Emotion.NEUTRAL, 1.0, path=None)[0].offsets == {}


@pytest.fixture(scope="module")
def tracks(einstein):
    return {e: plan_motion(einstein, MotionOptions(emotion=e, intensity=1.0, seed=0))
            for e in Emotion}


@pytest.mark.parametrize("emotion", list(EXPECTED))
def test_tracks_move_each_feature_in_the_expected_direction(tracks, emotion):
    neutral, track = tracks[Emotion.NEUTRAL], tracks[emotion]
    settled = slice(int(0.5 * track.fps), None)  # after the onset ramp
    for channel, sign in EXPECTED[emotion].items():
        delta = track.channel(channel)[settled].mean() - neutral.channel(channel)[settled].mean()
        assert np.sign(delta) == sign and abs(delta) > 0.05, (channel, delta)


def _speech_std(track, channel):
    return track.channel(channel)[int(0.5 * track.fps):].std()


def test_emotion_colours_the_speech_motion(tracks):
    n = tracks[Emotion.NEUTRAL]
    # A sad mouth and head move less; an angry jaw more (less than its gain: the widest
    # openings meet the jaw's soft ceiling); a happy head livelier.
    assert _speech_std(tracks[Emotion.SAD], "jaw_open") < 0.8 * _speech_std(n, "jaw_open")
    assert _speech_std(tracks[Emotion.ANGRY], "jaw_open") > 1.05 * _speech_std(n, "jaw_open")
    for axis in ("head_pitch_deg", "head_yaw_deg"):
        assert _speech_std(tracks[Emotion.SAD], axis) < 0.9 * _speech_std(n, axis)
        assert _speech_std(tracks[Emotion.HAPPY], axis) > 1.05 * _speech_std(n, axis)
    # The sad head hangs a little lower on average.
    assert tracks[Emotion.SAD].channel("head_pitch_deg").mean() > 1.0


def test_intensity_scales_the_expression(einstein):
    neutral = plan_motion(einstein, MotionOptions(seed=1))
    zero = plan_motion(einstein, MotionOptions(emotion="happy", intensity=0.0, seed=1))
    np.testing.assert_array_equal(zero.values, neutral.values)
    half = plan_motion(einstein, MotionOptions(emotion="happy", intensity=0.5, seed=1))
    full = plan_motion(einstein, MotionOptions(emotion="happy", intensity=1.0, seed=1))
    k = int(1.0 * 25)
    assert full.channel("cheek_raise")[k] == pytest.approx(2 * half.channel("cheek_raise")[k])


def test_expression_eases_in_over_the_onset(einstein):
    track = plan_motion(einstein, MotionOptions(emotion="surprised", intensity=1.0, seed=1))
    brow_inner = track.channel("brow_inner_raise")  # nothing but the emotion moves it
    styles, _ = load_styles()
    full = styles[Emotion.SURPRISED].offsets["brow_inner_raise"]
    assert brow_inner[0] == 0.0
    assert np.all(np.diff(brow_inner[:12]) >= 0)
    assert brow_inner[int(0.4 * 25)] == pytest.approx(full, abs=1e-6)
    ramp = onset_ramp(25, 25.0)
    assert ramp[0] == 0.0 and ramp[10] == 1.0 and 0.4 < ramp[5] < 0.6


def test_calibration_from_measured_targets(tmp_path):
    path = tmp_path / "emotion_targets.json"
    path.write_text(json.dumps({
        "happy": {"mouth_corner_height": 0.03, "brow_height": -0.02, "lip_gap": 0.02,
                  "eye_opening": -0.01, "eye_opening_rel": -0.2, "brow_gap": "n/a"},
        "disgusted": {"nose_wrinkle": 0.02},  # MEAD's spelling
        "surprised": {"eye_opening": 0.03},
        "_meta": {"clips": 24},
    }))
    styles, note = load_styles(path)
    assert "MEAD" in note and "happy: kept default sign for brow_raise" in note
    happy = styles[Emotion.HAPPY]
    # 0.03 / 0.06 IOD, times the visibility gain of the upper face and mouth corners
    assert happy.offsets["mouth_corner"] == pytest.approx(0.5 * VISIBILITY_GAIN)
    assert happy.offsets["brow_raise"] == DEFAULT_STYLES[Emotion.HAPPY].offsets["brow_raise"]
    assert happy.jaw_gain == DEFAULT_STYLES[Emotion.HAPPY].jaw_gain  # gains are not calibrated
    assert happy.offsets["eye_open"] == pytest.approx(-0.5 * VISIBILITY_GAIN)  # relative wins
    assert styles[Emotion.DISGUST].offsets["nose_wrinkle"] == pytest.approx(0.5)
    eye = styles[Emotion.SURPRISED].offsets["eye_open"]
    assert eye == pytest.approx(
        VISIBILITY_GAIN * 0.03 / (EYE_OPEN_FRACTION * EYE_APERTURE_REST_IOD))
    # Unmeasured emotions and channels keep their defaults.
    assert styles[Emotion.SAD] == DEFAULT_STYLES[Emotion.SAD]
    assert happy.offsets["cheek_raise"] == DEFAULT_STYLES[Emotion.HAPPY].offsets["cheek_raise"]


def test_calibration_splits_the_brows_and_ignores_stray_asymmetry(tmp_path):
    path = tmp_path / "emotion_targets.json"
    path.write_text(json.dumps({
        "fear": {"outer_brow_height": 0.04, "inner_brow_height": 0.07, "brow_height": 0.05,
                 "mouth_corner_asym": 0.02},
        "contempt": {"mouth_corner_asym": 0.03},
    }))
    styles, _ = load_styles(path)
    fear = styles[Emotion.FEAR]
    g = VISIBILITY_GAIN
    assert fear.offsets["brow_raise"] == pytest.approx(0.5 * g)  # outer part: 0.04 / 0.08
    assert fear.offsets["brow_inner_raise"] == pytest.approx(0.5 * g)  # (0.07 - 0.04) / 0.06
    # Corner asymmetry is never calibrated (MEAD's is the actors' baseline): contempt keeps
    # its prototype smirk, the others none.
    assert "mouth_corner_asym" not in fear.offsets
    assert (styles[Emotion.CONTEMPT].offsets["mouth_corner_asym"]
            == DEFAULT_STYLES[Emotion.CONTEMPT].offsets["mouth_corner_asym"])


def test_unreadable_targets_fall_back_to_defaults(tmp_path):
    path = tmp_path / "emotion_targets.json"
    path.write_text("{not json")
    styles, note = load_styles(path)
    assert styles == DEFAULT_STYLES and "unreadable" in note


def test_contempt_smirks_on_the_chosen_side(einstein, tracks):
    right = plan_motion(einstein, MotionOptions(emotion="contempt", intensity=1.0, seed=0,
                                                smirk_side=-1))
    left = tracks[Emotion.CONTEMPT]
    settled = slice(int(0.5 * left.fps), None)
    np.testing.assert_allclose(right.channel("mouth_corner_asym")[settled],
                               -left.channel("mouth_corner_asym")[settled], atol=1e-5)
    assert left.channel("mouth_corner_asym")[settled].mean() > 0.5
    # The head tilts with the smirk: the prosodic sway is the same, the emotion's tilt mirrored.
    tilt = left.channel("head_roll_deg")[settled] - right.channel("head_roll_deg")[settled]
    assert np.ptp(tilt) < 1e-4 and tilt.mean() > 1.0
    np.testing.assert_array_equal(right.channel("jaw_open"), left.channel("jaw_open"))
    with pytest.raises(BadOption, match="smirk_side"):
        MotionOptions(smirk_side=0)


SMILING = OwnExpression(smile_iod=0.075)  # the MEAD actor's broad smile with teeth reads 0.075


def test_an_emotion_against_the_portraits_smile_first_relaxes_it():
    plain = style_for(Emotion.SAD, 0.8)[0].offsets
    sad = style_for(Emotion.SAD, 0.8, own=SMILING)[0].offsets
    # The corners go back to neutral (0.8 of the way), then drop by sad's own amount; the
    # smile's parted lips fall together, and the corners drop by what that jaw raise lifts.
    close = SMILE_LIP_CLOSE * 0.8
    assert sad["lip_close"] == pytest.approx(plain.get("lip_close", 0.0) + close)
    assert sad["mouth_corner"] == pytest.approx(
        plain["mouth_corner"] - 0.8 * 0.075 / 0.06 + SMILE_CLOSE_CORNER * close)
    assert sad["lip_spread"] < plain["lip_spread"]
    changed = ("mouth_corner", "lip_spread", "lip_close")
    assert {k: v for k, v in sad.items() if k not in changed} == {
        k: v for k, v in plain.items() if k not in changed}
    for emotion in (Emotion.ANGRY, Emotion.FEAR, Emotion.DISGUST):
        assert (style_for(emotion, 0.8, own=SMILING)[0].offsets["mouth_corner"]
                < style_for(emotion, 0.8)[0].offsets["mouth_corner"] - 0.9)


def test_happy_adds_only_the_smile_the_face_lacks():
    plain = style_for(Emotion.HAPPY, 0.8)[0].offsets
    broad = style_for(Emotion.HAPPY, 0.8, own=SMILING)[0].offsets
    assert broad["mouth_corner"] == broad["cheek_raise"] == broad["lip_spread"] == 0.0
    slight = style_for(Emotion.HAPPY, 0.8, own=OwnExpression(smile_iod=0.01))[0].offsets
    kept = (plain["mouth_corner"] - 0.01 / 0.06) / plain["mouth_corner"]
    assert slight["mouth_corner"] == pytest.approx(plain["mouth_corner"] * kept)
    assert slight["cheek_raise"] == pytest.approx(plain["cheek_raise"] * kept)
    # Happy on a turned-down mouth first lifts it to neutral.
    frown = style_for(Emotion.HAPPY, 0.8, own=OwnExpression(smile_iod=-0.03))[0].offsets
    assert frown["mouth_corner"] == pytest.approx(plain["mouth_corner"] + 0.8 * 0.03 / 0.06)


def test_neutral_and_the_smirk_ignore_the_portraits_smile():
    assert style_for(Emotion.NEUTRAL, 0.8, own=SMILING)[0].offsets == {}
    plain = style_for(Emotion.CONTEMPT, 0.8)[0].offsets
    contempt = style_for(Emotion.CONTEMPT, 0.8, own=SMILING)[0].offsets
    assert contempt["mouth_corner_asym"] == plain["mouth_corner_asym"] > 0.5
    assert style_for(Emotion.SAD, 0.8, own=OwnExpression())[0] == style_for(Emotion.SAD, 0.8)[0]


def test_the_track_carries_the_relaxed_corners(einstein):
    settled = slice(int(0.5 * 25), None)
    plain = plan_motion(einstein, MotionOptions(emotion="sad", intensity=1.0, seed=0))
    relaxed = plan_motion(einstein, MotionOptions(emotion="sad", intensity=1.0, seed=0,
                                                  own_expression=SMILING))
    # Past -1: the portrait's smile is undone before sad's own drop (down to the channel's
    # floor, -2, with the drop that goes with closing the smile's lips).
    assert relaxed.channel("mouth_corner")[settled].mean() == pytest.approx(max(
        -2.0, plain.channel("mouth_corner")[settled].mean() - 0.075 / 0.06
        + SMILE_CLOSE_CORNER * SMILE_LIP_CLOSE), abs=1e-5)
    assert "own smile" in relaxed.notes["emotion"]
    with pytest.raises(BadOption):
        MotionOptions(own_expression=0.07)
    with pytest.raises(BadOption):
        OwnExpression(smile_iod=float("nan"))


def test_channels_that_cost_identity_are_held_to_their_limits():
    styles, _ = load_styles()
    # Measured with bench/emotion_stills.py: these cost the most dlib identity distance per
    # unit of judged expression (docs/emotion_calibration.md).
    assert styles[Emotion.HAPPY].offsets["lip_spread"] <= 0.45
    assert styles[Emotion.HAPPY].offsets["brow_raise"] <= 0.25
    assert styles[Emotion.ANGRY].offsets["brow_raise"] >= -0.42
    assert styles[Emotion.DISGUST].offsets["brow_raise"] >= -0.38
    assert styles[Emotion.DISGUST].offsets["nose_wrinkle"] <= 0.35
    assert styles[Emotion.DISGUST].offsets["lip_spread"] <= 0.15
    assert styles[Emotion.CONTEMPT].offsets["brow_raise"] <= 0.6
    # ... while what each emotion is read by keeps its strength.
    assert styles[Emotion.HAPPY].offsets["mouth_corner"] >= 0.7
    assert styles[Emotion.ANGRY].offsets["brow_raise"] <= -0.4
    assert styles[Emotion.DISGUST].offsets["brow_raise"] <= -0.35
    assert styles[Emotion.ANGRY].offsets["brow_furrow"] >= 0.5
    assert styles[Emotion.DISGUST].offsets["upper_lip_raise"] >= 0.45
    assert styles[Emotion.CONTEMPT].offsets["mouth_corner_asym"] == 1.0
