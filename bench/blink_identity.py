"""Identity on closed eyes: dlib ResNet embedding distance of blink frames to the portrait.

    python3 bench/blink_identity.py                        # the 9 portraits in shared/portraits
    python3 bench/blink_identity.py --names einstein.jpg --json /tmp/blink.json
    python3 bench/blink_identity.py --real        # what a real blink costs, same judge

For each portrait, renders single-control frames (everything neutral except blink_left =
blink_right = 0, 0.5, 1; max_side 1024 as the pipeline renders) and prints, per frame, the
Euclidean distance between dlib's 128-d face descriptor of the frame and of the portrait
(dlib's own same-person threshold is 0.6; issue 11's target for a closed eye is <= 0.20).
The "open" column is the renderer's floor: the crop and resampling alone. Needs `.[eval]`.

`--real` measures the same on real footage (shared/video: the MEAD clips and the two real
talking videos): in each clip with a blink (dlib's eye opening under half its median), the
distance of the most closed frame to the mean embedding of the open frames within 1 s of it,
beside the median distance of those open frames themselves.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import face_judge as judge  # noqa: E402
from animate import judge_portrait  # noqa: E402
from eyes_sheet import load_with_mesh, render_poses  # noqa: E402

BLINKS = (0.0, 0.5, 1.0)


def blink_distances(path: Path) -> dict[str, float | None]:
    """{"open": d, "blink 0.5": d, "blink 1": d}; None where dlib finds no face."""
    reference, _ = judge_portrait(path)
    portrait, mesh = load_with_mesh(path)
    poses = [{"blink_left": b, "blink_right": b} for b in BLINKS]
    frames = render_poses(portrait, mesh, poses)
    out: dict[str, float | None] = {}
    for blink, rgb in zip(BLINKS, frames.rgb):
        box = judge.detect_box(rgb, upsample=1)
        key = "open" if blink == 0 else f"blink {blink:g}"
        if reference is None or box is None:
            out[key] = None
            continue
        face = judge.read_face(rgb, box, embed=True)
        out[key] = float(np.linalg.norm(face.embedding - reference))
    return out


def real_blinks(videos: list[Path]) -> list[dict]:
    """Per clip with a blink: its name, the closed/median eye-opening ratio, the blink frame's
    distance to the mean of the open frames within 1 s, and those frames' own median distance."""
    import av

    rows = []
    for mp4 in videos:
        embeddings, eyes, prev = [], [], None
        with av.open(str(mp4)) as container:
            fps = round(float(container.streams.video[0].average_rate or 25))
            for frame in container.decode(video=0):
                rgb = frame.to_ndarray(format="rgb24")
                box = judge.detect_box(rgb, upsample=1 if rgb.shape[0] < 400 else 0)
                if box is None and prev is not None:
                    box = judge.box_from_points(prev)
                if box is None:
                    embeddings.append(None)
                    eyes.append(np.nan)
                    continue
                face = judge.read_face(rgb, box, embed=True)
                prev = face.points
                embeddings.append(face.embedding)
                eyes.append(judge.expression(face.points)["eye_opening"])
        eyes_arr = np.asarray(eyes, dtype=np.float64)
        if np.isnan(eyes_arr).all():
            continue
        median, k = float(np.nanmedian(eyes_arr)), int(np.nanargmin(eyes_arr))
        if eyes_arr[k] > 0.5 * median:
            continue  # no blink in this clip
        near = [j for j in range(max(0, k - fps), min(len(eyes), k + fps + 1))
                if embeddings[j] is not None and eyes_arr[j] > 0.9 * median]
        if len(near) < 5:
            continue
        mean = np.mean([embeddings[j] for j in near], axis=0)
        rows.append({"clip": mp4.name, "eye_ratio": float(eyes_arr[k] / median),
                     "blink": float(np.linalg.norm(embeddings[k] - mean)),
                     "open": float(np.median([np.linalg.norm(embeddings[j] - mean)
                                              for j in near]))})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portraits", type=Path, default=ROOT.parent / "shared" / "portraits")
    parser.add_argument("--names", default=None, help="comma-separated (default: all)")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--real", action="store_true", help="real blinks in shared/video")
    args = parser.parse_args()
    if args.real:
        video = ROOT.parent / "shared" / "video"
        rows = real_blinks(sorted((video / "emotions").glob("*.mp4"))
                           + sorted(video.glob("real_talking_*.mp4")))
        print(f"{'real clip':36s} eye ratio  blink  open frames")
        for r in rows:
            print(f"{r['clip'][:36]:36s} {r['eye_ratio']:9.2f} {r['blink']:6.3f} {r['open']:12.3f}")
        blinks = [r["blink"] for r in rows]
        if blinks:
            print(f"real blinks: {len(blinks)} clips, median {np.median(blinks):.3f}, "
                  f"{min(blinks):.3f}-{max(blinks):.3f}; <= 0.20 on "
                  f"{sum(b <= 0.20 for b in blinks)}/{len(blinks)}")
        if args.json:
            args.json.write_text(json.dumps(rows, indent=1))
        return
    names = (args.names.split(",") if args.names
             else sorted(p.name for p in args.portraits.iterdir() if p.suffix in (".jpg", ".png")))
    rows = {}
    fmt = lambda v: "  none" if v is None else f"{v:6.3f}"
    print(f"{'portrait':32s}   open  blink.5  blink1")
    for name in names:
        rows[name] = blink_distances(args.portraits / name)
        d = rows[name]
        print(f"{name:32s} {fmt(d['open'])}  {fmt(d['blink 0.5'])}  {fmt(d['blink 1'])}", flush=True)
    closed = [d["blink 1"] for d in rows.values() if d["blink 1"] is not None]
    if closed:
        print(f"closed eye: max {max(closed):.3f}, mean {np.mean(closed):.3f}; "
              f"<= 0.20 on {sum(c <= 0.20 for c in closed)}/{len(closed)}")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
