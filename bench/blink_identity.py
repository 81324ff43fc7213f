"""Identity on closed eyes: dlib ResNet embedding distance of blink frames to the portrait.

    python3 bench/blink_identity.py                        # the 9 portraits in shared/portraits
    python3 bench/blink_identity.py --names einstein.jpg --json /tmp/blink.json

For each portrait, renders single-control frames (everything neutral except blink_left =
blink_right = 0, 0.5, 1; max_side 1024 as the pipeline renders) and prints, per frame, the
Euclidean distance between dlib's 128-d face descriptor of the frame and of the portrait
(dlib's own same-person threshold is 0.6; issue 11's target for a closed eye is <= 0.20).
The "open" column is the renderer's floor: the crop and resampling alone. Needs `.[eval]`.
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portraits", type=Path, default=ROOT.parent / "shared" / "portraits")
    parser.add_argument("--names", default=None, help="comma-separated (default: all)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
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
