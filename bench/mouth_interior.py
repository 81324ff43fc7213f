"""Mouth-interior statistics of real talking footage and of our renders, side by side.

    python3 bench/mouth_interior.py                      # real clips + the 9 shared portraits
    python3 bench/mouth_interior.py --portraits-only --names mona_lisa.jpg,einstein.jpg
    python3 bench/mouth_interior.py --json rows.json

Region: inside dlib's inner-lip contour (68-point indices 60-67, filled polygon), on frames
where the inner-lip gap (bench/face_judge.mouth_opening: mean of three columns, IOD units) is
at least --min-gap (0.25 IOD): wide openings only, where the interior is large enough to have
a colour of its own. Statistics over the pooled pixels of all such frames of a clip: the share
of near-black pixels (luma < 30), mean and std of luma (Rec. 601) and of CIELAB a*, b*
(OpenCV's 8-bit Lab, recentred: a*, b* = value - 128). Real clips: /work/shared/video
(real_talking_a/b and the 24 MEAD emotion clips). Renders: each portrait speaking QUOTE
(flite, neutral emotion, vitaphone's motion planner and renderer on the CPU; no watermark or
encoding, the frames measured as rendered but with their chroma at half resolution, as in the
yuv420p video the pipeline writes and the real clips come in).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import face_judge as fj  # noqa: E402

SHARED = ROOT.parent / "shared"
QUOTE = ("Ah, what a hot, dark August afternoon! Father, are you far? "
         "Call out loud, and laugh all the way home.")
NEAR_BLACK = 30.0
MIN_FRAMES = 5  # a real clip counts towards the range with at least this many open frames
STATS = ("n_frames", "black", "luma", "luma_sd", "a", "a_sd", "b", "b_sd")


def inner_mouth_pixels(rgb: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Pixels (N, 3) uint8 inside the inner-lip polygon (68-point 60-67)."""
    mask = np.zeros(rgb.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(points[60:68]).astype(np.int32)], 1)
    return rgb[mask.astype(bool)]


def interior_stats(pixels: list[np.ndarray], n_frames: int) -> dict[str, float]:
    """Statistics of pooled interior pixels (see module docstring)."""
    if not pixels:
        return {"n_frames": 0}
    px = np.concatenate(pixels).astype(np.uint8)
    luma = px.astype(np.float64) @ np.array([0.299, 0.587, 0.114])
    lab = cv2.cvtColor(px[None], cv2.COLOR_RGB2LAB)[0].astype(np.float64)
    a, b = lab[:, 1] - 128, lab[:, 2] - 128
    return {"n_frames": n_frames, "black": float((luma < NEAR_BLACK).mean()),
            "luma": float(luma.mean()), "luma_sd": float(luma.std()),
            "a": float(a.mean()), "a_sd": float(a.std()),
            "b": float(b.mean()), "b_sd": float(b.std())}


def measure_frames(frames, min_gap: float, step: int = 1) -> dict[str, float]:
    """frames: an iterable of RGB uint8 frames; follow the face with dlib, pool open mouths."""
    pixels, n_open, prev = [], 0, None
    for i, rgb in enumerate(frames):
        if i % step:
            continue
        box = fj.detect_box(rgb)
        if box is None and prev is not None:
            box = fj.box_from_points(prev)
        if box is None:
            continue
        face = fj.read_face(rgb, box, embed=False)
        prev = face.points
        if fj.mouth_opening(face.points) >= min_gap:
            px = inner_mouth_pixels(rgb, face.points)
            if len(px):
                pixels.append(px)
                n_open += 1
    return interior_stats(pixels, n_open)


def video_frames(path: Path):
    cap = cv2.VideoCapture(str(path))
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        yield cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
    cap.release()


def real_clips() -> list[Path]:
    video = SHARED / "video"
    return [video / "real_talking_a.mp4", video / "real_talking_b.mp4",
            *sorted((video / "emotions").glob("*.mp4"))]


def chroma_420(rgb: np.ndarray) -> np.ndarray:
    """The frame as a yuv420p video carries it (chroma at half resolution each way), like the
    pipeline's H.264 output and the real clips: a sharp render's colour edges are not measured
    sharper than any video can show them."""
    ycc = cv2.cvtColor(rgb, cv2.COLOR_RGB2YCrCb)
    h, w = rgb.shape[:2]
    for c in (1, 2):
        half = cv2.resize(ycc[..., c], (w // 2, h // 2), interpolation=cv2.INTER_AREA)
        ycc[..., c] = cv2.resize(half, (w, h), interpolation=cv2.INTER_LINEAR)
    return cv2.cvtColor(ycc, cv2.COLOR_YCrCb2RGB)


def render_portrait(path: Path, speech, max_side: int = 512) -> np.ndarray:
    """Frames (T, H, W, 3) of `path` speaking `speech`, neutral, on the CPU."""
    from dataclasses import replace

    from vitaphone.core.face.analyze import analyze_face
    from vitaphone.core.face.features import smirk_side
    from vitaphone.core.face.image_io import load_portrait_file
    from vitaphone.core.motion.options import MotionOptions
    from vitaphone.core.motion.track import plan_motion
    from vitaphone.core.render import RenderOptions, render_frames

    portrait = load_portrait_file(path)
    mesh = analyze_face(portrait)
    options = MotionOptions(emotion="neutral", seed=0)
    side = smirk_side(mesh.landmarks, mesh.yaw_deg)
    track = plan_motion(speech, replace(options, smirk_side=side))
    return render_frames(portrait, mesh, track, RenderOptions(device="cpu", max_side=max_side)).rgb


def speak(text: str):
    from vitaphone.core.speech.synthesize import SpeechOptions, synthesize_speech

    return synthesize_speech(text, SpeechOptions())


def print_table(real: list[dict], ours: list[dict]) -> None:
    head = (f"{'clip':<36}{'frames':>7}{'black':>7}{'luma':>7}{'sd':>6}{'a*':>7}{'sd':>6}"
            f"{'b*':>7}{'sd':>6}")

    def row(r: dict) -> str:
        if not r.get("n_frames"):
            return f"{r['name']:<36}{0:>7}  (no frame opens >= the gap)"
        return (f"{r['name']:<36}{r['n_frames']:>7}{r['black']:>7.3f}{r['luma']:>7.1f}"
                f"{r['luma_sd']:>6.1f}{r['a']:>7.1f}{r['a_sd']:>6.1f}{r['b']:>7.1f}"
                f"{r['b_sd']:>6.1f}")

    print(head)
    for r in real:
        print(row(r))
    ok = [r for r in real if r.get("n_frames", 0) >= MIN_FRAMES]
    if ok:
        lo = {k: min(r[k] for r in ok) for k in STATS[1:]}
        hi = {k: max(r[k] for r in ok) for k in STATS[1:]}
        print(f"range (real, >= {MIN_FRAMES} frames)".ljust(43) + "".join(
            f"{lo[k]:.3g}..{hi[k]:.3g}".rjust(w) for k, w in
            zip(STATS[1:], (12, 12, 11, 12, 11, 12, 11))))
    for r in ours:
        inside = ""
        if ok and r.get("n_frames"):
            miss = [k for k in STATS[1:] if not lo[k] <= r[k] <= hi[k]]
            inside = "  in range" if not miss else "  out: " + ",".join(miss)
        print(row(r) + inside)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--min-gap", type=float, default=0.25, help="inner-lip gap, IOD units")
    ap.add_argument("--portraits", type=Path, default=SHARED / "portraits")
    ap.add_argument("--names", default="", help="comma-separated portrait files (default: all)")
    ap.add_argument("--portraits-only", action="store_true", help="skip the real clips")
    ap.add_argument("--real-only", action="store_true", help="skip the renders")
    ap.add_argument("--real-json", type=Path, help="reuse real-clip rows from an earlier --json")
    ap.add_argument("--json", type=Path, help="write all rows here")
    ap.add_argument("--text", default=QUOTE)
    args = ap.parse_args()
    real, ours = [], []
    if args.real_json:
        real = [r for r in json.loads(args.real_json.read_text()) if r["kind"] == "real"]
    elif not args.portraits_only:
        for clip in real_clips():
            print(f"measuring {clip.name} ...", file=sys.stderr)
            row = measure_frames(video_frames(clip), args.min_gap)
            real.append({"kind": "real", "name": clip.stem} | row)
    if not args.real_only:
        speech = speak(args.text)
        names = (args.names.split(",") if args.names
                 else sorted(p.name for p in args.portraits.iterdir()))
        for name in names:
            print(f"rendering {name} ...", file=sys.stderr)
            frames = render_portrait(args.portraits / name, speech)
            frames = (chroma_420(f) for f in frames)
            row = measure_frames(frames, args.min_gap)
            ours.append({"kind": "ours", "name": Path(name).stem} | row)
    print_table(real, ours)
    if args.json:
        args.json.write_text(json.dumps(real + ours, indent=1))


if __name__ == "__main__":
    main()
