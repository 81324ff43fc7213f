"""plan_motion as a stage: options, shapes, ranges, determinism, energy-only timing."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from vitaphone.core.errors import BadAudio, BadOption, UnknownEmotion
from vitaphone.core.motion import CHANNELS, Emotion, MotionOptions, plan_motion
from vitaphone.core.motion.track import CHANNEL_RANGE
from vitaphone.core.speech.types import SILENCE, PhoneSpan, Speech


def test_options_normalise_and_are_frozen():
    o = MotionOptions(emotion="  Surprise ", intensity=1, seed=np.int64(3))
    assert o.emotion is Emotion.SURPRISED and o.intensity == 1.0 and o.seed == 3
    assert MotionOptions(emotion="DISGUSTED").emotion is Emotion.DISGUST
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.fps = 30  # type: ignore[misc]
    assert dataclasses.replace(o, intensity=0.2).intensity == 0.2


@pytest.mark.parametrize("kwargs, error, words", [
    ({"emotion": "smug"}, UnknownEmotion, "smug"),
    ({"emotion": 3}, UnknownEmotion, "emotion"),
    ({"intensity": 1.5}, BadOption, "intensity"),
    ({"intensity": float("nan")}, BadOption, "intensity"),
    ({"intensity": "high"}, BadOption, "intensity"),
    ({"fps": 0}, BadOption, "fps"),
    ({"head_motion_amplitude": 3}, BadOption, "head_motion_amplitude"),
    ({"head_motion_amplitude": -0.1}, BadOption, "head_motion_amplitude"),
    ({"blink_rate_per_min": 100}, BadOption, "blink_rate_per_min"),
    ({"seed": -1}, BadOption, "seed"),
    ({"seed": 1.5}, BadOption, "seed"),
    ({"gaze_shifts": "yes"}, BadOption, "gaze_shifts"),
])
def test_bad_options_raise_typed_errors_that_name_the_field(kwargs, error, words):
    with pytest.raises(error) as info:
        MotionOptions(**kwargs)
    assert words in info.value.message and info.value.hint
    assert info.value.code in ("bad_option", "unknown_emotion")


def test_unknown_emotion_lists_the_choices():
    with pytest.raises(UnknownEmotion) as info:
        MotionOptions(emotion="smug")
    assert all(e.value in info.value.hint for e in Emotion)


def test_track_shape_dtype_ranges_and_notes(einstein):
    for fps in (25.0, 30.0):
        track = plan_motion(einstein, MotionOptions(fps=fps, emotion="happy", intensity=1.0))
        assert track.n_frames == math.ceil(einstein.duration_s * fps)
        assert track.values.shape == (track.n_frames, len(CHANNELS))
        assert track.values.dtype == np.float32 and track.fps == fps
        assert np.all(np.isfinite(track.values))
        for i, name in enumerate(CHANNELS):
            lo, hi = CHANNEL_RANGE[name]
            assert lo <= track.values[:, i].min() and track.values[:, i].max() <= hi, name
        assert track.emotion is Emotion.HAPPY and track.intensity == 1.0
        assert {"mouth", "emotion", "blinks", "head", "gaze"} <= set(track.notes)


def test_same_inputs_same_track(einstein):
    a = plan_motion(einstein, MotionOptions(emotion="fear", seed=9))
    b = plan_motion(einstein, MotionOptions(emotion="fear", seed=9))
    np.testing.assert_array_equal(a.values, b.values)


def _energy_only(speech: Speech) -> Speech:
    """The same audio without phones, as a recording we could not align."""
    return dataclasses.replace(speech, phones=(PhoneSpan(SILENCE, 0.0, speech.duration_s),),
                               words=(), timing="energy")


def test_energy_timing_drives_the_jaw_from_loudness(paused):
    speech = _energy_only(paused)
    track = plan_motion(speech, MotionOptions(seed=1))
    assert "loudness" in track.notes["mouth"]
    jaw, close = track.channel("jaw_open"), track.channel("lip_close")
    fps, n = track.fps, track.n_frames
    hop = speech.sample_rate_hz / fps
    rms = np.array([np.sqrt(np.mean(speech.samples[int(k * hop):int((k + 1) * hop)] ** 2))
                    for k in range(n)])
    level = np.clip(20 * np.log10(rms + 1e-6) + 50, 0, None)
    assert np.corrcoef(jaw, level)[0, 1] > 0.6
    # In the 0.8 s pause the lips are closed and still, exactly.
    t = (np.arange(n) + 0.5) / fps
    pause = max((p for p in paused.phones if p.phone == SILENCE), key=lambda p: p.end_s - p.start_s)
    start = next(p.start_s for p in paused.phones if p.phone == SILENCE and p.start_s > 1.0)
    inside = (t > start + 0.4) & (t < pause.end_s - 0.4)
    assert inside.sum() >= 4
    # The portrait's own mouth deep in the pause (pressed lips would shut a smile parted at
    # rest), lips together at its edges, where the speaker has only just stopped ...
    assert np.all(jaw[inside] == 0.0) and np.all(close[inside] == 0.0)
    edge = (t > start + 0.02) & (t < start + 0.12)
    assert edge.any() and close[edge].min() > 0.8, close[edge]
    assert close[0] < 0.1 and close[-1] < 0.1
    assert jaw.max() > 0.3  # and it does open when he speaks
    speaking = (jaw > 0.0) & (jaw < 0.01)  # ... and closes where a speaking jaw nearly shuts
    assert speaking.any() and close[speaking].max() > 0.8


def test_phone_free_speech_with_phone_timing_falls_back_to_energy(paused):
    speech = dataclasses.replace(paused, phones=(PhoneSpan(SILENCE, 0.0, paused.duration_s),))
    assert "loudness" in plan_motion(speech, MotionOptions()).notes["mouth"]


def test_empty_speech_and_wrong_options_are_refused(einstein):
    empty = dataclasses.replace(einstein, samples=np.zeros(0, np.float32))
    with pytest.raises(BadAudio):
        plan_motion(empty, MotionOptions())
    with pytest.raises(BadOption):
        plan_motion(einstein, {"emotion": "happy"})  # type: ignore[arg-type]


def _best_lag(signal: np.ndarray, envelope: np.ndarray, max_lag: int = 4) -> tuple[int, float]:
    """Lag (frames, negative = signal leads) with the highest correlation, and that value."""
    n = len(signal)
    scores = {lag: np.corrcoef(signal[max(0, lag):n + min(0, lag)],
                               envelope[max(0, -lag):n - max(0, lag)])[0, 1]
              for lag in range(-max_lag, max_lag + 1)}
    best = max(scores, key=scores.get)
    return best, float(scores[best])


def _level_db(speech: Speech, n: int, fps: float) -> np.ndarray:
    hop = speech.sample_rate_hz / fps
    rms = np.array([np.sqrt(np.mean(speech.samples[int(k * hop):int((k + 1) * hop)] ** 2))
                    for k in range(n)])
    return np.clip(20 * np.log10(rms + 1e-6) + 50, 0, None)


def test_mouth_opening_follows_the_speech_envelope_in_time(einstein):
    """The bench's lip-sync measure, on the track itself: opening vs loudness at 25 fps
    (real talking-head videos score about 0.2 with scattered lags)."""
    for speech in (einstein, _energy_only(einstein)):
        track = plan_motion(speech, MotionOptions())
        opening = track.channel("jaw_open") * (1 - track.channel("lip_close"))
        lag, r = _best_lag(opening, _level_db(speech, track.n_frames, track.fps))
        assert -1 <= lag <= 0 and r > 0.4, (speech.timing, lag, r)
