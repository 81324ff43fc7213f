"""Lip-sync measured on rendered frames of real speech: the face mesh is fitted again on each
rendered frame and the inner-lip gap read off it. Lips must meet at every bilabial (p, b, m),
rest in silence, and part on open vowels."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from vitaphone.core.face.analyze import analyze_face
from vitaphone.core.face.landmarks import interocular_px
from vitaphone.core.face.types import Portrait
from vitaphone.core.motion.options import MotionOptions
from vitaphone.core.motion.track import plan_motion
from vitaphone.core.render import RenderOptions, render_frames
from vitaphone.core.speech.synthesize import SpeechOptions, synthesize_speech
from vitaphone.core.speech.types import PhoneSpan, Speech

BILABIALS = {"P", "B", "M"}
OPEN_VOWELS = {"AA", "AO", "AW", "AY", "AE"}
SENTENCES = ("Bob may bump a map.", "Mom, I saw a big palm by the bay.")
PAUSE_S = 0.8


def _lip_gap_iod(frame_rgb: np.ndarray) -> float:
    """Inner-lip gap (upper lip's inner edge 13 to lower lip's 14) over the eye distance."""
    mesh = analyze_face(Portrait(np.ascontiguousarray(frame_rgb), "0" * 64))
    lm = mesh.landmarks
    return float(np.linalg.norm(lm[14, :2] - lm[13, :2]) / interocular_px(lm))


@pytest.fixture(scope="module")
def rendered(mona_lisa):
    portrait, mesh = mona_lisa
    first, second = (synthesize_speech(text, SpeechOptions()) for text in SENTENCES)
    speech = _join_with_pause(first, second, PAUSE_S)
    track = plan_motion(speech, MotionOptions(emotion="neutral", intensity=0.0, seed=3))
    frames = render_frames(portrait, mesh, track, RenderOptions(device="cpu", max_side=384))
    return speech, frames


def _join_with_pause(a: Speech, b: Speech, pause_s: float) -> Speech:
    """Two utterances with `pause_s` of silence between them, covered by one SIL span."""
    rate = a.sample_rate_hz
    gap = np.zeros(int(pause_s * rate), dtype=np.float32)
    offset = a.duration_s + len(gap) / rate
    head = [p for p in a.phones]
    tail = [PhoneSpan(p.phone, p.start_s + offset, p.end_s + offset) for p in b.phones]
    while head and head[-1].phone == "SIL":
        head.pop()
    while tail and tail[0].phone == "SIL":
        tail.pop(0)
    pause = PhoneSpan("SIL", head[-1].end_s, tail[0].start_s)
    return replace(a, samples=np.concatenate([a.samples, gap, b.samples]),
                   phones=(*head, pause, *tail), words=())


def _frames_at(speech, fps: float, phones: set[str]) -> list[int]:
    return [int((p.start_s + p.end_s) / 2 * fps) for p in speech.phones if p.phone in phones]


def test_lips_meet_at_every_bilabial_and_part_on_open_vowels(rendered) -> None:
    speech, frames = rendered
    rest = _lip_gap_iod(frames.rgb[0])
    bilabial = [_lip_gap_iod(frames.rgb[i]) for i in _frames_at(speech, frames.fps, BILABIALS)]
    vowels = [_lip_gap_iod(frames.rgb[i]) for i in _frames_at(speech, frames.fps, OPEN_VOWELS)]
    assert len(bilabial) >= 8 and len(vowels) >= 4
    assert max(bilabial) <= rest + 0.02, f"open lips at a bilabial: rest {rest:.3f}, {bilabial}"
    assert np.median(vowels) > rest + 0.05, f"open vowels do not part the lips: {vowels}"


def test_mouth_rests_still_in_silence(rendered) -> None:
    speech, frames = rendered
    pauses = [p for p in speech.phones if p.phone == "SIL" and p.end_s - p.start_s > 0.35]
    assert pauses, "the joined utterances should have a pause"
    rest = _lip_gap_iod(frames.rgb[0])
    for pause in pauses:
        first = int((pause.start_s + 0.15) * frames.fps)
        last = int((pause.end_s - 0.15) * frames.fps)
        if last <= first:
            continue
        gaps = [_lip_gap_iod(frames.rgb[i]) for i in range(first, last + 1)]
        assert max(gaps) <= rest + 0.02, f"mouth not at rest in a pause: {gaps}"
        # No quiver: the head may sway on, the lips keep their shape.
        assert max(gaps) - min(gaps) < 0.01, f"lips move in a pause: {gaps}"
