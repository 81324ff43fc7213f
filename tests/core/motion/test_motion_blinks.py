"""Blinks: seeded, natural intervals, asymmetric shape, drawn to pauses."""

from __future__ import annotations

import numpy as np

from vitaphone.core.motion import MotionOptions, plan_motion
from vitaphone.core.motion.blinks import (
    DOUBLE_BLINK_GAP_S, MIN_GAP_S, blink_shape, blink_times, plan_blinks)


def test_blinks_are_reproducible_from_the_seed():
    a = plan_blinks(25 * 60, 25.0, 17.0, seed=11)
    b = plan_blinks(25 * 60, 25.0, 17.0, seed=11)
    c = plan_blinks(25 * 60, 25.0, 17.0, seed=12)
    np.testing.assert_array_equal(a.closure, b.closure)
    assert a.peaks_s == b.peaks_s and a.peaks_s != c.peaks_s


def test_intervals_are_natural():
    gaps = []
    for seed in range(20):
        peaks = np.array(plan_blinks(25 * 120, 25.0, 17.0, seed).peaks_s)
        gaps.extend(np.diff(peaks))
    gaps = np.array(gaps)
    doubles = gaps < 0.6
    assert 0.03 < doubles.mean() < 0.25  # occasional double blinks
    assert np.all(gaps[doubles] >= DOUBLE_BLINK_GAP_S[0] - 0.04)
    single = gaps[~doubles]
    assert single.min() >= MIN_GAP_S - 0.04  # refractory gap (peaks sit on frame centres)
    assert 3.0 <= single.mean() <= 4.5, single.mean()  # ~17 per minute
    assert np.std(single) / np.mean(single) > 0.3  # irregular, not a metronome
    rate = (len(gaps) + 20) / (20 * 120 / 60)
    assert 14 <= rate <= 20, rate


def test_rate_knob():
    assert plan_blinks(25 * 60, 25.0, 0.0, 1).peaks_s == ()
    slow = np.mean([len(plan_blinks(25 * 120, 25.0, 8.0, s).peaks_s) for s in range(10)])
    fast = np.mean([len(plan_blinks(25 * 120, 25.0, 30.0, s).peaks_s) for s in range(10)])
    assert slow * 2.5 < fast


def test_every_blink_closes_both_eyes_and_opens_slower_than_it_closes():
    blinks = plan_blinks(25 * 30, 25.0, 17.0, seed=3)
    assert blinks.peaks_s
    for p in blinks.peaks_s:
        k = int(p * 25)
        assert blinks.closure[k, 0] > 0.95 and blinks.closure[k, 1] == 1.0
    dt = np.arange(-0.3, 0.3, 0.001)
    shape = blink_shape(dt)
    closing = np.sum((shape > 0.05) & (dt < 0))
    opening = np.sum((shape > 0.05) & (dt > 0))
    assert 80 <= closing <= 120 and 130 <= opening <= 180  # ms at 1 ms steps
    assert np.all(np.diff(shape[dt < 0]) >= 0) and np.all(np.diff(shape[dt > 0]) <= 0)
    assert blinks.closure[: int(0.5 * 25)].max() == 0.0  # none in the first half second


def test_blinks_gather_at_pauses():
    pauses = tuple(np.arange(2.0, 118.0, 3.0))
    hits = total = 0
    for seed in range(10):
        times = np.array(blink_times(120.0, 17.0, np.random.default_rng(seed), pauses))
        near = np.min(np.abs(times[:, None] - (np.array(pauses)[None, :] + 0.05)), axis=1) < 0.02
        hits += near.sum()
        total += len(times)
    # By chance ~1 % of blinks would land within 20 ms of a pause start. With a pull window of
    # +-0.8 s and probability 0.7, about 0.7 * 1.6 / 3 = 37 % are expected here.
    assert 0.25 < hits / total < 0.6


def test_blinks_in_the_track_are_in_the_blink_channels(einstein):
    track = plan_motion(einstein, MotionOptions(seed=2, blink_rate_per_min=30))
    left, right = track.channel("blink_left"), track.channel("blink_right")
    assert left.max() > 0.95 and right.max() == 1.0
    assert np.abs(left - right).max() < 0.35  # the same blink, a few ms apart
    none = plan_motion(einstein, MotionOptions(seed=2, blink_rate_per_min=0))
    assert none.channel("blink_left").max() == 0.0
