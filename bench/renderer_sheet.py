"""Renderer contact sheets: one portrait under single controls (jaw, lip shapes, expressions,
blinks, head turns), one frame each, as PNGs for docs/.

    python3 bench/renderer_sheet.py                       # docs/renderer_sheet_<portrait>.png
    python3 bench/renderer_sheet.py --names einstein.jpg --out-dir /tmp

Each cell is the renderer's output for one motion-track row (no speech, no marks), so a
defect in one control shows on its own.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from contact_sheet import head_crop, label, save_sheet  # noqa: E402

POSES: tuple[tuple[str, dict[str, float]], ...] = (
    ("rest", {}),
    ("jaw .15", {"jaw_open": 0.15}),
    ("jaw .3", {"jaw_open": 0.3}),
    ("jaw .5", {"jaw_open": 0.5}),
    ("jaw .75", {"jaw_open": 0.75}),
    ("jaw 1", {"jaw_open": 1.0}),
    ("p/b/m (jaw .4)", {"jaw_open": 0.4, "lip_close": 1.0}),
    ("f/v tuck", {"jaw_open": 0.1, "lower_lip_tuck": 1.0, "upper_lip_raise": 0.25}),
    ("oo round", {"jaw_open": 0.22, "lip_round": 0.9, "lip_spread": -0.6}),
    ("ee spread", {"jaw_open": 0.16, "lip_spread": 0.7}),
    ("upper lip up", {"jaw_open": 0.2, "upper_lip_raise": 1.0}),
    ("contempt", {"mouth_corner_asym": 1.0}),
    ("smile", {"mouth_corner": 1.0, "cheek_raise": 1.0, "lip_spread": 0.6}),
    ("sad", {"mouth_corner": -1.0, "brow_inner_raise": 1.0, "eye_open": -0.3}),
    ("surprise", {"brow_raise": 1.0, "eye_open": 1.0, "jaw_open": 0.3}),
    ("angry", {"brow_furrow": 1.0, "brow_raise": -1.0, "eye_open": -0.4}),
    ("disgust", {"nose_wrinkle": 1.0, "upper_lip_raise": 0.6, "brow_raise": -0.5}),
    ("blink .5", {"blink_left": 0.5, "blink_right": 0.5}),
    ("blink 1", {"blink_left": 1.0, "blink_right": 1.0}),
    ("yaw -8", {"head_yaw_deg": -8.0}),
    ("yaw +8", {"head_yaw_deg": 8.0}),
    ("pitch +8", {"head_pitch_deg": 8.0}),
    ("roll +8", {"head_roll_deg": 8.0}),
    ("yaw 8 + talk", {"head_yaw_deg": 8.0, "jaw_open": 0.45}),
)
COLUMNS = 6


def sheet_for(portrait_path: Path, size: int) -> np.ndarray:
    from vitaphone.core.face.analyze import analyze_face
    from vitaphone.core.face.image_io import load_portrait_file
    from vitaphone.core.motion.types import CHANNELS, MotionTrack
    from vitaphone.core.render import RenderOptions, render_frames

    portrait = load_portrait_file(portrait_path)
    mesh = analyze_face(portrait)
    values = np.zeros((len(POSES), len(CHANNELS)), np.float32)
    for row, (_, pose) in enumerate(POSES):
        for channel, value in pose.items():
            values[row, CHANNELS.index(channel)] = value
    frames = render_frames(portrait, mesh, MotionTrack(values=values, fps=25.0),
                           RenderOptions(device="cpu", max_side=512))
    cells = [label(head_crop(frame, frames.head_box_xyxy, size), name)
             for frame, (name, _) in zip(frames.rgb, POSES)]
    rows = [np.concatenate(cells[i:i + COLUMNS], axis=1) for i in range(0, len(cells), COLUMNS)]
    return np.concatenate(rows, axis=0)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portraits", type=Path, default=ROOT.parent / "shared" / "portraits")
    parser.add_argument("--names", default="einstein.jpg,mona_lisa.jpg,girl_with_a_pearl_earring.jpg,"
                        "bouguereau_girl.jpg,qing_emperor_painting.png")
    parser.add_argument("--size", type=int, default=176)
    parser.add_argument("--out-dir", type=Path, default=ROOT / "docs")
    args = parser.parse_args()
    for name in args.names.split(","):
        stem = Path(name).stem
        save_sheet(sheet_for(args.portraits / name, args.size),
                   args.out_dir / f"renderer_sheet_{stem}.png")


if __name__ == "__main__":
    main()
