"""Speed of the animation path: render (per renderer stage), marks, encode, sign, overlapped.

Reports seconds per second of video for a ~15 s quote on each portrait, at the output size the
product makes (`--max-side`, 512 for the issue's target). Two steps so the GPU machine, which has
no flite, pocketsphinx or LiteRT, can run the same clips:

    python3 bench/speed.py prepare --out bench-cache            # here: speech + face meshes
    python3 bench/speed.py run --cache bench-cache --device cpu  # here, 2 cores
    python3 bench/speed.py run --cache bench-cache --device cuda # on the GPU machine

`run` times the product's path (render batches on this thread, marks + encode of the previous
batches on a worker, sign at the end: `pipeline.render_and_finish`) and prints each step's busy
seconds, their sum, the stage walls and the overlapped wall; `--sequential` times the old
render-then-finish path instead. It writes speed-<device>.json next to the cache (or --json).
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUOTE_15S = (
    "Our age is proud of the progress it has made in men's intellectual development. "
    "The search and striving for truth and knowledge is one of the highest of men's qualities, "
    "though often the pride is most loudly voiced by those who strive the least. "
    "The important thing is never to stop questioning."
)
PORTRAITS = ("girl_with_a_pearl_earring.jpg", "einstein.jpg", "mona_lisa.jpg")


def prepare(out: Path, portraits_dir: Path) -> None:
    """Synthesise the quote and fit each portrait's mesh; save them as plain arrays."""
    from vitaphone.core.face.analyze import analyze_face
    from vitaphone.core.face.image_io import load_portrait
    from vitaphone.core.speech.synthesize import SpeechOptions, synthesize_speech

    out.mkdir(parents=True, exist_ok=True)
    speech = synthesize_speech(QUOTE_15S, SpeechOptions(max_chars=1000))
    np.savez(out / "speech.npz", samples=speech.samples, rate=speech.sample_rate_hz,
             phones=np.array([p.phone for p in speech.phones]),
             spans=np.array([(p.start_s, p.end_s) for p in speech.phones], dtype=np.float64))
    for name in PORTRAITS:
        data = (portraits_dir / name).read_bytes()
        portrait = load_portrait(data, name=name)
        mesh = analyze_face(portrait)
        (out / name).write_bytes(data)
        np.savez(out / f"{name}.mesh.npz", landmarks=mesh.landmarks, triangles=mesh.triangles,
                 box=np.array(mesh.face.box_xyxy), keypoints=mesh.face.keypoints_xy,
                 pose=np.array([mesh.yaw_deg, mesh.pitch_deg, mesh.roll_deg, mesh.presence]))
    print(f"prepared {out}: {speech.duration_s:.1f} s of speech, {len(PORTRAITS)} portraits")


def _load(cache: Path, name: str):
    """Portrait, mesh and speech from the cache (no face model or TTS needed)."""
    import cv2

    from vitaphone.core.face.types import FaceBox, FaceMesh, Portrait
    from vitaphone.core.speech.types import PhoneSpan, Speech, SpeechSource

    bgr = cv2.imread(str(cache / name), cv2.IMREAD_COLOR)
    portrait = Portrait(rgb=np.ascontiguousarray(bgr[:, :, ::-1]), source_sha256="0" * 64)
    m = np.load(cache / f"{name}.mesh.npz")
    yaw, pitch, roll, presence = (float(v) for v in m["pose"])
    mesh = FaceMesh(landmarks=m["landmarks"], triangles=m["triangles"],
                    face=FaceBox(tuple(float(v) for v in m["box"]), 1.0, m["keypoints"]),
                    faces_found=1, yaw_deg=yaw, pitch_deg=pitch, roll_deg=roll, presence=presence)
    s = np.load(cache / "speech.npz")
    phones = tuple(PhoneSpan(str(p), float(a), float(b)) for p, (a, b) in zip(s["phones"], s["spans"]))
    speech = Speech(samples=s["samples"], sample_rate_hz=int(s["rate"]), phones=phones, words=(),
                    source=SpeechSource("tts", "flite", "cached", "en"), timing="engine")
    return portrait, mesh, speech


def run(cache: Path, device: str, max_side: int, repeats: int, json_path: Path | None,
        sequential: bool = False, batch_size: int | None = None) -> None:
    import torch

    from vitaphone.core.marking.c2pa_credentials import create_chain
    from vitaphone.core.marking.c2pa_credentials import SigningCredentials
    from vitaphone.core.motion.options import MotionOptions
    from vitaphone.core.motion.track import plan_motion
    from vitaphone.core.render.renderer import render_frames_timed
    from vitaphone.core.render.types import RenderOptions

    if device == "cpu":
        # The product's CPU target is the 2-core machine; the renderer itself drops torch to one
        # thread while it renders a batch (its tensors are small) and restores this after.
        torch.set_num_threads(2)
    root, chain, key = create_chain()
    credentials = SigningCredentials(chain, key, root)
    once = _sequential if sequential else _overlapped
    rows = []
    for name in PORTRAITS:
        portrait, mesh, speech = _load(cache, name)
        track = plan_motion(speech, MotionOptions(emotion="happy", intensity=0.6))
        options = RenderOptions(device=device, max_side=max_side, batch_size=batch_size)
        frames, _ = render_frames_timed(portrait, mesh, track, options)  # warm-up: kernels
        _check(portrait, mesh, track, options, frames)
        out = cache / f"{name}.{device}.mp4"
        runs = [_with_cpu(once, portrait, mesh, track, speech, options, credentials, out)
                for _ in range(repeats)]
        h, w = frames.rgb.shape[1:3]
        rows.append({"portrait": name, "size": f"{w}x{h}", "frames": frames.n_frames,
                     "video_s": frames.duration_s, "device": device,
                     "mode": "sequential" if sequential else "overlapped",
                     "batch": options.batch_for(device),
                     **min(runs, key=lambda r: r["wall"]),
                     "walls": [round(r["wall"], 3) for r in runs]})
    _print(rows)
    target = json_path or cache / f"speed-{device}.json"
    target.write_text(json.dumps(rows, indent=2))


def _check(portrait, mesh, track, options, frames) -> None:
    """The streamed batches must be the whole-clip frames, bit for bit; on CUDA both must also
    match a CPU render (as tests/core/render's CUDA test does; the GPU machine cannot run that
    test: it has no face model runtime). Catches a pinned-buffer race or a misplaced paste."""
    from dataclasses import replace

    from vitaphone.core.render.renderer import render_batches, render_frames

    streamed = np.concatenate(list(render_batches(portrait, mesh, track, options)))
    if not np.array_equal(streamed, frames.rgb):
        raise SystemExit(f"streamed frames differ from the whole clip on {options.device}")
    if options.device == "cuda":
        cpu_options = replace(options, device="cpu", batch_size=options.batch_for("cuda"))
        cpu = render_frames(portrait, mesh, track, cpu_options).rgb
        diff = np.abs(cpu.astype(np.int16) - frames.rgb)
        if not (diff.mean() < 0.3 and np.percentile(diff, 99.9) <= 4):
            raise SystemExit(f"CUDA frames differ from CPU: mean {diff.mean():.3f}, "
                             f"99.9th pct {np.percentile(diff, 99.9)}, max {diff.max()}")
        print(f"check {options.device}: streamed == whole clip; vs CPU mean |diff| "
              f"{diff.mean():.3f}, max {diff.max()}")


def _with_cpu(once, *args) -> dict:
    """once(*args) plus "cpu": this process's CPU seconds (all threads) during it; cpu / wall
    is how many cores it kept busy (the machine may be shared)."""
    before = resource.getrusage(resource.RUSAGE_SELF)
    row = once(*args)
    after = resource.getrusage(resource.RUSAGE_SELF)
    row["cpu"] = after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
    return row


def _overlapped(portrait, mesh, track, speech, options, credentials, out: Path) -> dict:
    """The product's path (pipeline.render_and_finish): marks + encode overlap the render."""
    from vitaphone.core.marking.c2pa_credentials import ProvenanceAssertion
    from vitaphone.core.marking.marks import FinishOptions, start_finish
    from vitaphone.core.pipeline import render_and_finish
    from vitaphone.core.render.renderer import render_batches

    t0 = time.perf_counter()
    stream = render_batches(portrait, mesh, track, options)
    with start_finish(stream.format, speech.samples, speech.sample_rate_hz, out,
                      assertion=ProvenanceAssertion("0123456789abcdef", "self"),
                      credentials=credentials, version="bench",
                      options=FinishOptions()) as finish:
        _, seconds = render_and_finish(stream, finish, lambda stage, fraction: None, started=t0)
    wall = time.perf_counter() - t0
    return {"wall": wall, **{k.removeprefix("finish."): v for k, v in seconds.items()}}


def _sequential(portrait, mesh, track, speech, options, credentials, out: Path) -> dict:
    """For comparison: render the whole clip, then mark, encode and sign it (no overlap)."""
    import torch

    from vitaphone.core.marking.c2pa_credentials import ProvenanceAssertion
    from vitaphone.core.marking.marks import FinishOptions, finish_video
    from vitaphone.core.render.renderer import render_frames_timed

    t0 = time.perf_counter()
    frames, stages = render_frames_timed(portrait, mesh, track, options)
    if options.device == "cuda":
        torch.cuda.synchronize()
    render_s = time.perf_counter() - t0
    finished = finish_video(frames, speech.samples, speech.sample_rate_hz, out,
                            assertion=ProvenanceAssertion("0123456789abcdef", "self"),
                            credentials=credentials, version="bench", options=FinishOptions())
    wall = time.perf_counter() - t0
    return {"wall": wall, "render": render_s, "finish": wall - render_s, **finished.timings_s,
            **{f"render.{k}": v for k, v in stages.__dict__.items()}}


_STEPS = ["render.prepare", "render.rig", "render.field", "render.warp", "render.mouth",
          "render.eyes", "render.output", "marks", "encode", "sign"]


def _print(rows: list[dict]) -> None:
    """Per-step busy seconds, their sum (what a sequential run would cost), then the stage walls
    ("render" until the last frame is handed over, "finish" after it) and the overlapped wall."""
    keys = [*_STEPS, "sum", "render", "finish", "wall", "cpu"]
    print(f"mode: {rows[0]['mode'] if rows else '-'}, batch size: {rows[0]['batch'] if rows else '-'}")
    print(f"{'portrait':32} {'size':>9} {'video s':>7} " + " ".join(f"{k[-7:]:>8}" for k in keys)
          + f" {'s per s':>8}")
    for r in rows:
        r["sum"] = sum(r.get(k, 0.0) for k in _STEPS)
        print(f"{r['portrait']:32} {r['size']:>9} {r['video_s']:7.1f} "
              + " ".join(f"{r.get(k, 0.0):8.3f}" for k in keys)
              + f" {r['wall'] / r['video_s']:8.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("prepare")
    p.add_argument("--out", type=Path, default=Path("bench-cache"))
    p.add_argument("--portraits", type=Path, default=ROOT.parent / "shared" / "portraits")
    r = sub.add_parser("run")
    r.add_argument("--cache", type=Path, default=Path("bench-cache"))
    r.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    r.add_argument("--max-side", type=int, default=512)
    r.add_argument("--repeats", type=int, default=2)
    r.add_argument("--json", type=Path, default=None)
    r.add_argument("--batch-size", type=int, default=None,
                   help="frames per render batch (default: the renderer's, 25 CPU / 125 CUDA)")
    r.add_argument("--sequential", action="store_true",
                   help="render the whole clip, then finish it (the pre-overlap path)")
    args = parser.parse_args()
    if args.command == "prepare":
        prepare(args.out, args.portraits)
    else:
        run(args.cache, args.device, args.max_side, args.repeats, args.json, args.sequential,
            args.batch_size)


if __name__ == "__main__":
    main()
