"""Head motion and gaze: bounded, no drift over a minute, prosody-driven, seeded."""

from __future__ import annotations

import numpy as np

from vitaphone.core.motion import MotionOptions, plan_motion
from vitaphone.core.motion.gaze import plan_gaze
from vitaphone.core.motion.head import plan_head
from vitaphone.core.motion.prosody import analyse_prosody

HEAD = ("head_pitch_deg", "head_yaw_deg", "head_roll_deg")
LIMITS = {"head_pitch_deg": 6.0, "head_yaw_deg": 8.0, "head_roll_deg": 4.0}


def test_head_is_bounded_and_does_not_drift_over_a_minute(minute):
    assert minute.duration_s >= 60
    track = plan_motion(minute, MotionOptions(seed=7, gaze_shifts=False))
    fps = track.fps
    for name in HEAD:
        a = track.channel(name)
        assert np.abs(a).max() <= LIMITS[name], (name, np.abs(a).max())
        assert abs(a.mean()) < 0.4, (name, a.mean())
        assert a.std() > 0.2, (name, a.std())  # it does move
        # No drift: every 10 s window's mean stays near the rest pose.
        windows = a[: len(a) // int(10 * fps) * int(10 * fps)].reshape(-1, int(10 * fps))
        assert np.abs(windows.mean(axis=1)).max() < 1.0, (name, windows.mean(axis=1))


def test_head_moves_with_prosody_nods_on_accents(einstein):
    n = int(np.ceil(einstein.duration_s * 25))
    prosody = analyse_prosody(einstein.samples, einstein.sample_rate_hz, n, 25.0)
    head = plan_head(prosody, 25.0, amplitude=1.0, seed=0)
    assert 8 <= len(head.nods_s) <= 30  # a nod every ~0.4-1.3 s of speech
    words = [(p.start_s, p.end_s) for p in einstein.phones if p.phone != "SIL"]
    assert all(words[0][0] - 0.1 <= t <= words[-1][1] + 0.1 for t in head.nods_s)
    # On average the head is lower (pitch +) just after an accent than elsewhere.
    pitch = head.angles_deg[:, 0]
    after = np.array([pitch[min(n - 1, int(t * 25) + 2)] for t in head.nods_s])
    assert after.mean() > pitch.mean() + 0.3


def test_silence_gives_idle_motion_without_nods():
    samples = np.zeros(16000 * 5, np.float32)
    prosody = analyse_prosody(samples, 16000, 125, 25.0)
    head = plan_head(prosody, 25.0, amplitude=1.0, seed=0)
    assert head.nods_s == ()
    assert 0.1 < np.abs(head.angles_deg).max() < 6.0


def test_amplitude_knob_and_first_frame(einstein):
    still = plan_motion(einstein, MotionOptions(head_motion_amplitude=0.0, emotion="sad"))
    calm = plan_motion(einstein, MotionOptions(head_motion_amplitude=1.0))
    lively = plan_motion(einstein, MotionOptions(head_motion_amplitude=2.0))
    for name in HEAD:
        assert np.all(still.channel(name) == 0.0)
        assert lively.channel(name).std() > 1.5 * calm.channel(name).std()
        assert calm.channel(name)[0] == 0.0  # the first frame is the portrait's own pose


def test_head_and_gaze_are_seeded(einstein):
    a = plan_motion(einstein, MotionOptions(seed=3))
    b = plan_motion(einstein, MotionOptions(seed=3))
    c = plan_motion(einstein, MotionOptions(seed=4))
    np.testing.assert_array_equal(a.values, b.values)
    assert not np.allclose(a.channel("head_yaw_deg"), c.channel("head_yaw_deg"))


def test_gaze_holds_and_returns_to_the_camera():
    gaze = plan_gaze(25 * 60, 25.0, seed=1)
    assert np.abs(gaze).max() <= 1.0
    at_camera = np.all(gaze == 0.0, axis=1).mean()
    assert 0.5 < at_camera < 0.95  # mostly looking at the viewer, with glances
    moving = np.any(np.abs(np.diff(gaze, axis=0)) > 1e-6, axis=1).mean()
    assert moving < 0.2  # saccades and holds, not a wandering drift


def test_gaze_off_means_eyes_on_camera(einstein):
    track = plan_motion(einstein, MotionOptions(gaze_shifts=False))
    assert np.all(track.channel("gaze_x") == 0.0) and np.all(track.channel("gaze_y") == 0.0)
