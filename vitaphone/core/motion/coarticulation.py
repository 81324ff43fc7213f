"""Continuous mouth curves from phone spans, with coarticulation.

Method: dominance-function blending after Cohen & Massaro (1993). Every phone segment has a
target per mouth channel and a dominance that is high inside the segment and falls off
outside it; the mouth at time t is the dominance-weighted mean of all targets. Two changes to
the textbook form make the track fit for rendering:

* the dominance tails have **compact support** (a (1 - x^2)^2 bump instead of an
  exponential), so far from any phone the silence target has all the weight and the mouth is
  *exactly* still (no quiver from tails that never reach zero);
* tails reach further **before** a phone (anticipation, ~100 ms: the lips and jaw move before
  the sound) than after it (carry-over, ~70 ms), as measured in speech production.

Lip contacts are then imposed as hard constraints (`apply_contacts`): a bilabial's middle frame
has lip_close = 1 and an almost shut jaw however short the phone is, a labiodental's middle
frame has the lower lip tucked. Without this, a 40 ms "b" between two open vowels would be
out-voted by its neighbours and the lips would never meet.

All curves are sampled at frame centres t_k = (k + 0.5) / fps.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vitaphone.core.motion.prosody import Prosody
from vitaphone.core.motion.types import MOUTH_CHANNELS
from vitaphone.core.motion.visemes import VISEME_SHAPES, Viseme, VisemeShape, shape_of
from vitaphone.core.speech.types import SILENCE, PhoneSpan

ANTICIPATION_S = 0.10  # a phone's dominance starts rising this long before its onset
CARRYOVER_S = 0.07  # ... and lingers this long after its offset
RELAX_S = 0.16  # ... or this long when a pause follows: the mouth relaxes slowly into rest
ONSET_S = 0.13  # anticipation out of a pause: the mouth sets up a little earlier from rest
SILENCE_REACH_S = 0.04  # silence barely reaches into speech: speech wins at the boundary
SILENCE_EDGE = 0.3  # silence dominance at a pause's edge, relative to its interior
SILENCE_SETTLE_S = 0.12  # ... rising to full over this long into the pause
EDGE_DOMINANCE = 0.7  # a phone's dominance at its own edges, relative to its centre (1.0)
CONTACT_RAMP_S = 0.06  # how long lips take to close into / open out of a contact
JAW_RAMP_S = 0.10  # the jaw, heavier, eases into / out of a bilabial over this long
BILABIAL_MAX_JAW = 0.08  # jaw opening allowed while the lips are pressed
OVERSAMPLE = 8  # blend on a grid 8x finer than the frames (5 ms at 25 fps)
SMOOTH_S = 0.025  # articulator inertia: Gaussian sigma applied to the blended curves
EFFORT_RANGE = (0.15, 1.3)  # jaw scale for the softest .. loudest frames of speech
# Loudness range (dB under the clip's loud level) mapped onto EFFORT_RANGE. 18 dB rather than 24:
# on five flite quotes the lip gap then follows the energy envelope at r 0.531 instead of 0.516;
# faster jaw releases (70 ms) scored higher still but jumped the jaw by half its range in a frame.
EFFORT_TOP_DB = 18.0
EFFORT_SMOOTH_S = 0.02  # Gaussian sigma on the loudness gain (keeps syllable-scale detail)
JAW_KNEE, JAW_CEILING = 0.55, 0.8  # jaw_open soft limit: linear below the knee, <= ceiling
# Pauses: speakers bring their lips together in the short pauses between words and phrases and
# relax to their own rest only when they stop for a while. In silence lip_close is 1 up to
# PAUSE_HOLD_S from the nearest speech, then eases to 0 (the portrait's own mouth, parted or
# not) over PAUSE_RELAX_S: pauses under 0.3 s stay closed, from 0.7 s on their middle rests.
# The clip's first and last frames are the portrait's own mouth, easing to / from closed lips
# in leading / trailing silence:
PAUSE_HOLD_S = 0.15
PAUSE_RELAX_S = 0.2
EDGE_EASE_S = 0.1  # ... over the clip's first and last this long (lips move this fast in speech)

J = {name: i for i, name in enumerate(MOUTH_CHANNELS)}
REST_MOUTH = VISEME_SHAPES[Viseme.SILENCE].target  # the portrait's own mouth: all zero


def _smoothstep(x: np.ndarray) -> np.ndarray:
    x = np.clip(x, 0.0, 1.0)
    return x * x * (3 - 2 * x)


def pause_closure(t: np.ndarray, runs: list[tuple[float, float]]) -> np.ndarray:
    """lip_close in silence, shape like t: 1 inside speech `runs` ((start_s, end_s), sorted)
    and up to PAUSE_HOLD_S from them, easing to 0 over PAUSE_RELAX_S beyond."""
    if not runs:
        return np.zeros_like(t)
    s = np.array([r[0] for r in runs])[None, :]
    e = np.array([r[1] for r in runs])[None, :]
    d = np.maximum(np.maximum(s - t[:, None], t[:, None] - e), 0.0).min(axis=1)
    return 1.0 - _smoothstep((d - PAUSE_HOLD_S) / PAUSE_RELAX_S)


def clip_ends_envelope(t: np.ndarray, runs: list[tuple[float, float]], t_first: float,
                       t_last: float) -> np.ndarray:
    """0 at the first and last frame centres (`t_first`, `t_last`) where silence is there,
    easing to 1 over EDGE_EASE_S (or by the first / last speech if sooner); shape like t.
    Multiplies lip_close, so a clip starts and ends on the portrait's own mouth."""
    env = np.ones_like(t)
    if not runs:
        return env
    first, last = runs[0][0], runs[-1][1]
    if first > t_first:
        env *= _smoothstep((t - t_first) / min(first - t_first, EDGE_EASE_S))
    if t_last > last:
        env *= _smoothstep((t_last - t) / min(t_last - last, EDGE_EASE_S))
    return env


def _speech_runs(segments: list[Segment]) -> list[tuple[float, float]]:
    """Spans of consecutive non-silence segments, (start_s, end_s) in order."""
    runs: list[tuple[float, float]] = []
    for seg in segments:
        if seg.phone == SILENCE:
            continue
        if runs and seg.start_s <= runs[-1][1] + 1e-9:
            runs[-1] = (runs[-1][0], max(runs[-1][1], seg.end_s))
        else:
            runs.append((seg.start_s, seg.end_s))
    return runs


@dataclass(frozen=True, slots=True)
class Segment:
    """One run of a phone (consecutive silences merged): span in seconds and its shape."""

    phone: str
    start_s: float
    end_s: float
    shape: VisemeShape

    @property
    def mid_s(self) -> float:
        return 0.5 * (self.start_s + self.end_s)


def segments_of(phones: tuple[PhoneSpan, ...]) -> list[Segment]:
    """Phone spans -> segments, merging adjacent silences and dropping empty spans."""
    out: list[Segment] = []
    for p in phones:
        if p.end_s <= p.start_s:
            continue
        if out and p.phone == SILENCE and out[-1].phone == SILENCE:
            out[-1] = Segment(SILENCE, out[-1].start_s, p.end_s, out[-1].shape)
            continue
        out.append(Segment(p.phone, p.start_s, p.end_s, shape_of(p.phone)))
    return out


def frame_times(n_frames: int, fps: float) -> np.ndarray:
    """Frame-centre times in seconds, shape (n_frames,) float64."""
    return (np.arange(n_frames) + 0.5) / fps


def _bump(x: np.ndarray) -> np.ndarray:
    """(1 - x^2)^2 on |x| < 1, else 0: smooth (C1) and exactly zero outside."""
    return np.where(np.abs(x) < 1.0, (1.0 - np.minimum(x * x, 1.0)) ** 2, 0.0)


def _dominance_kernel(seg: Segment, t: np.ndarray, anticipation_s: float,
                      carryover_s: float) -> np.ndarray:
    """Time profile of a segment's dominance, shape like t, max 1 (centre)."""
    half = 0.5 * (seg.end_s - seg.start_s)
    if seg.phone == SILENCE:
        # Rest takes over gradually: low dominance at the pause's edges, full after
        # SILENCE_SETTLE_S, so the mouth relaxes into (and out of) rest instead of snapping.
        inside, before, after = SILENCE_EDGE, SILENCE_REACH_S, SILENCE_REACH_S
        depth = np.minimum(t - seg.start_s, seg.end_s - t) / SILENCE_SETTLE_S
        x = np.clip(depth, 0.0, 1.0)
        k_in = SILENCE_EDGE + (1.0 - SILENCE_EDGE) * x * x * (3 - 2 * x)
    else:
        before, after = anticipation_s, carryover_s
        x_in = (t - seg.mid_s) / max(half, 1e-6)
        k_in = 1.0 - (1.0 - EDGE_DOMINANCE) * np.minimum(x_in * x_in, 1.0)
        inside = EDGE_DOMINANCE
    k = np.zeros_like(t)
    pre, post = t < seg.start_s, t > seg.end_s
    within = ~(pre | post)
    k[within] = k_in[within]
    k[pre] = inside * _bump((seg.start_s - t[pre]) / before)
    k[post] = inside * _bump((t[post] - seg.end_s) / after)
    return k


def mouth_from_phones(phones: tuple[PhoneSpan, ...], n_frames: int, fps: float) -> np.ndarray:
    """Coarticulated mouth curves, (n_frames, len(MOUTH_CHANNELS)) float32, before contacts.

    The blend is computed on a grid OVERSAMPLE times finer than the frames, so phones shorter
    than a frame still count, then smoothed by SMOOTH_S (articulator inertia: it rounds the
    corners where a high-dominance phone takes over) and sampled at the frame centres.
    Frames not covered by any phone (past the last span) hold the rest mouth.
    """
    step = 1.0 / (fps * OVERSAMPLE)
    # Frame k's centre is fine sample k * OVERSAMPLE + OVERSAMPLE // 2.
    t = np.arange(n_frames * OVERSAMPLE) * step
    num = np.zeros((t.size, len(MOUTH_CHANNELS)), np.float64)
    den = np.zeros_like(num)
    segments = segments_of(phones)
    # Silence's lip_close follows the pause: closed near speech, the own mouth deep in it.
    runs = _speech_runs(segments)
    rest = np.tile(REST_MOUTH.astype(np.float64), (t.size, 1))
    rest[:, J["lip_close"]] = pause_closure(t, runs)
    for i, seg in enumerate(segments):
        pause_next = i + 1 < len(segments) and segments[i + 1].phone == SILENCE
        pause_before = i > 0 and segments[i - 1].phone == SILENCE
        carryover = RELAX_S if pause_next else CARRYOVER_S
        anticipation = ONSET_S if pause_before else ANTICIPATION_S
        lo = np.searchsorted(t, seg.start_s - ONSET_S)
        hi = np.searchsorted(t, seg.end_s + RELAX_S)
        if hi <= lo:
            continue
        k = _dominance_kernel(seg, t[lo:hi], anticipation, carryover)
        w = k[:, None] * seg.shape.dominance[None, :]
        target = rest[lo:hi] if seg.phone == SILENCE else seg.shape.target[None, :]
        num[lo:hi] += w * target
        den[lo:hi] += w
    # Where nothing speaks (den == 0), the rest shape.
    rest_w = np.where(den > 0, 0.0, 1.0)
    fine = (num + rest_w * rest) / (den + rest_w)
    fine = _fir_smooth_edges(fine, SMOOTH_S / step)
    mouth = _settle_at_end(fine[OVERSAMPLE // 2::OVERSAMPLE][:n_frames], segments, fps)
    # After the smoothing, so the first and last frames are exactly the portrait's own lips.
    mouth[:, J["lip_close"]] *= clip_ends_envelope(frame_times(n_frames, fps), runs,
                                                   0.5 / fps, (n_frames - 0.5) / fps)
    return mouth.astype(np.float32)


def _settle_at_end(mouth: np.ndarray, segments: list[Segment], fps: float) -> np.ndarray:
    """The last frame shows the rest mouth (the portrait's own) when the clip ends in silence:
    a short trailing pause would otherwise cut the relaxation off half way. Eased in over the
    trailing silence; lip_close is left alone (clip_ends_envelope opens the lips later, faster,
    so they stay together through most of the pause)."""
    if not segments or segments[-1].phone != SILENCE or len(mouth) < 2:
        return mouth
    t = frame_times(len(mouth), fps)
    start = segments[-1].start_s
    if t[-1] <= start:
        return mouth
    x = np.clip((t - start) / (t[-1] - start), 0.0, 1.0)[:, None]
    settled = mouth + x * x * (3 - 2 * x) * (REST_MOUTH[None, :] - mouth)
    settled[:, J["lip_close"]] = mouth[:, J["lip_close"]]
    return settled


def _fir_smooth_edges(x: np.ndarray, sigma: float) -> np.ndarray:
    """Gaussian FIR (±2.5 sigma samples) along axis 0 of (m, c), edges held. Finite support:
    a stretch that is constant for longer than the kernel stays exactly constant."""
    r = max(1, int(np.ceil(2.5 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / max(sigma, 1e-6)) ** 2)
    k /= k.sum()
    pad = np.pad(x, ((r, r), (0, 0)), mode="edge")
    return np.stack([np.convolve(pad[:, c], k, mode="valid") for c in range(x.shape[1])], 1)


def _contact_profile(t: np.ndarray, mid_s: float, half_s: float, fps: float,
                     ramp_s: float = CONTACT_RAMP_S) -> np.ndarray:
    """1 on a plateau around `mid_s` wide enough to hold the frame containing it, raised-cosine
    ramps of `ramp_s` outside, 0 beyond; shape like t."""
    plateau = max(0.55 / fps, 0.35 * half_s * 2)
    d = np.abs(t - mid_s) - plateau
    ramp = 0.5 * (1.0 + np.cos(np.pi * np.clip(d / ramp_s, 0.0, 1.0)))
    return np.where(d <= 0, 1.0, ramp)


def apply_contacts(mouth: np.ndarray, phones: tuple[PhoneSpan, ...], fps: float) -> np.ndarray:
    """Impose lip contacts on mouth curves (n_frames, 6): bilabials reach lip_close = 1 and a
    jaw <= BILABIAL_MAX_JAW at their middle frame; labiodentals reach lower_lip_tuck >= 0.95
    with the lips apart at theirs. Where a bilabial and a labiodental touch ("five blue"), each
    wins around its own middle: the one whose contact profile is higher there.
    Returns a new float32 array."""
    out = mouth.astype(np.float32, copy=True)
    t = frame_times(out.shape[0], fps)
    g = {"lip_close": np.zeros_like(t), "lower_lip_tuck": np.zeros_like(t),
         "jaw": np.zeros_like(t)}
    for seg in segments_of(phones):
        if seg.shape.contact:
            half = 0.5 * (seg.end_s - seg.start_s)
            profile = _contact_profile(t, seg.mid_s, half, fps)
            np.maximum(g[seg.shape.contact], profile, out=g[seg.shape.contact])
            if seg.shape.contact == "lip_close":
                np.maximum(g["jaw"], _contact_profile(t, seg.mid_s, half, fps, JAW_RAMP_S),
                           out=g["jaw"])
    lab, dent, jaw_g = g["lip_close"], g["lower_lip_tuck"], g["jaw"]
    dent = np.where(dent > lab, dent, 0.0)  # a labiodental never opens a bilabial's closure
    jaw = out[:, J["jaw_open"]]
    out[:, J["jaw_open"]] = jaw * (1 - jaw_g) + np.minimum(jaw, BILABIAL_MAX_JAW) * jaw_g
    out[:, J["lower_lip_tuck"]] = np.maximum(out[:, J["lower_lip_tuck"]] * (1 - lab), 0.95 * dent)
    close = np.maximum(out[:, J["lip_close"]], lab)
    out[:, J["lip_close"]] = np.minimum(close, 1 - 0.9 * dent)
    return out


def apply_effort(mouth: np.ndarray, prosody: Prosody, fps: float) -> np.ndarray:
    """Scale the jaw's opening by the local loudness: real mouths open wider on louder
    syllables (jaw opening grows with vocal effort; Schulman 1989) and the sound is loudest
    where the vocal tract is most open, so the per-frame opening should follow the loudness
    envelope, not only the phone class. The gain is the broadband RMS level (Prosody.energy_db)
    mapped from EFFORT_TOP_DB under the clip's loud level (gain EFFORT_RANGE[0]) up to the loud
    level (EFFORT_RANGE[1]), smoothed by EFFORT_SMOOTH_S. Broadband beats the first-formant
    band here: measured on four flite quotes, the track's lip gap vs the speech energy envelope
    rose from r = 0.41 (F1 band, range 0.55-1.25) to 0.49 (this).
    Only jaw_open changes: bilabial closures (lip_close) are imposed later and stay exact; the
    rest jaw is 0, so silence stays exactly still. Returns a new (n_frames, 6) float32 array."""
    level = np.clip((prosody.energy_db + EFFORT_TOP_DB) / EFFORT_TOP_DB, 0.0, 1.0)
    level = level.astype(np.float64)
    # Outside speech, use the nearest syllable's gain: anticipation before an onset belongs
    # to the coming syllable, and a jump in the gain there would jerk the opening jaw.
    if prosody.speaking.any():
        idx = np.flatnonzero(prosody.speaking)
        frames = np.arange(len(level))
        pos = np.searchsorted(idx, frames)
        nearest = idx[np.clip(pos, 0, len(idx) - 1)]
        prev = idx[np.clip(pos - 1, 0, len(idx) - 1)]
        use_prev = np.abs(prev - frames) < np.abs(nearest - frames)
        level = np.where(prosody.speaking, level, level[np.where(use_prev, prev, nearest)])
    level = _fir_smooth_edges(level[:, None], EFFORT_SMOOTH_S * fps)[:, 0]
    low, high = EFFORT_RANGE
    out = mouth.copy()
    jaw = out[:, J["jaw_open"]] - REST_MOUTH[J["jaw_open"]]
    out[:, J["jaw_open"]] = REST_MOUTH[J["jaw_open"]] + jaw * (low + (high - low) * level)
    return out


def limit_jaw(jaw: np.ndarray, knee: float = JAW_KNEE, ceiling: float = JAW_CEILING) -> np.ndarray:
    """Soft limit on jaw_open, shape kept: identity up to `knee`, then a tanh shoulder that
    approaches `ceiling` (C1 at the knee, monotonic, so the order of openings is kept).
    Why: a still photo holds no evidence of the inside of the mouth or of the chin's path, so
    the widest openings are where a warped portrait stops looking like its sitter (the judge's
    identity distance peaks on wide-open angry/disgust frames)."""
    jaw = np.asarray(jaw, np.float32)
    span = ceiling - knee
    over = np.maximum(jaw - knee, 0.0)
    return np.where(jaw > knee, knee + span * np.tanh(over / span), jaw).astype(np.float32)


def mouth_from_energy(prosody: Prosody, fps: float) -> np.ndarray:
    """Mouth curves (n_frames, 6) float32 when no phones are known: the jaw follows the
    loudness envelope (gated, smoothed, ~40 ms lead), lips together in short pauses (see
    pause_closure), the portrait's own mouth in long ones and at the clip's ends."""
    n = prosody.energy_db.shape[0]
    # The jaw follows the first-formant band (open vowels are loud there, fricatives and
    # closures are not): 0..1 over the top 24 dB, expanded so syllables separate.
    level = np.clip((prosody.vowel_db + 24.0) / 24.0, 0.0, 1.0)
    speaking = _bridge(prosody.speaking, max(1, round(0.12 * fps)))
    level = np.where(speaking, level, 0.0)
    jaw = 0.65 * level**1.5
    # Finite smoothing kernel keeps gated silences exactly at rest beyond its reach.
    jaw = _fir_smooth(jaw, sigma_s=0.03, fps=fps)
    lead = int(round(0.04 * fps))  # open ahead of the sound, as the lips do in real speech
    if lead:
        jaw = np.concatenate([jaw[lead:], np.repeat(jaw[-1:], lead)])
    # Speech runs (frame spans, moved by the lead) -> lip_close in the pauses between them:
    # closed in short pauses, the portrait's own mouth in long ones and at the clip's ends.
    edges = np.diff(np.concatenate([[0], speaking.astype(np.int8), [0]]))
    runs = [((a - lead) / fps, (b - lead) / fps)
            for a, b in zip(np.flatnonzero(edges > 0), np.flatnonzero(edges < 0))]
    t = frame_times(n, fps)
    gate = pause_closure(t, runs) * clip_ends_envelope(t, runs, t[0], t[-1])
    mouth = np.tile(REST_MOUTH, (n, 1)).astype(np.float32)
    mouth[:, J["jaw_open"]] = jaw
    # Lips meet where a speaking jaw nearly shuts (the closures inside speech) and in short
    # pauses; deep in long pauses the mouth is the portrait's own, lips parted or not.
    mouth[:, J["lip_close"]] = np.clip(1.0 - jaw / 0.08, 0.0, 1.0) * gate
    return mouth


def _bridge(mask: np.ndarray, max_gap: int) -> np.ndarray:
    """Fill False runs shorter than `max_gap` frames that lie between True frames."""
    out = mask.copy()
    idx = np.flatnonzero(mask)
    for a, b in zip(idx[:-1], idx[1:]):
        if 1 < b - a <= max_gap:
            out[a:b] = True
    return out


def _fir_smooth(x: np.ndarray, sigma_s: float, fps: float) -> np.ndarray:
    """Gaussian FIR (±2.5 sigma) with zero padding: exactly 0 stays 0 beyond the reach."""
    sigma = sigma_s * fps
    r = max(1, int(np.ceil(2.5 * sigma)))
    k = np.exp(-0.5 * (np.arange(-r, r + 1) / max(sigma, 1e-6)) ** 2)
    k /= k.sum()
    return np.convolve(np.pad(x, r), k, mode="valid").astype(np.float32)
