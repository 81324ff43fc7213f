"""Eye contact sheet: one eye per portrait, zoomed, under blinks and gaze, as a PNG for docs/.

    python3 bench/eyes_sheet.py                          # docs/eyes_sheet.png
    python3 bench/eyes_sheet.py --names einstein.jpg --out /tmp/eyes.png --eye left

Each row is one portrait, each cell the renderer's output (max_side 1024, as the pipeline
renders) for one motion-track row with only blink or gaze set, cropped around one eye (the
subject's right by default: image left) and scaled up ~3x (the zoom is printed in the first
cell), so a closed lid, a lash line or a moving iris can be judged at a glance.
"""

from __future__ import annotations

import argparse
import pickle
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from contact_sheet import label, save_sheet  # noqa: E402

POSES: tuple[tuple[str, dict[str, float]], ...] = (
    ("open", {}),
    ("blink .3", {"blink_left": 0.3, "blink_right": 0.3}),
    ("blink .5", {"blink_left": 0.5, "blink_right": 0.5}),
    ("blink .7", {"blink_left": 0.7, "blink_right": 0.7}),
    ("blink 1", {"blink_left": 1.0, "blink_right": 1.0}),
    ("gaze left", {"gaze_x": -1.0}),
    ("gaze right", {"gaze_x": 1.0}),
    ("gaze up", {"gaze_y": -1.0}),
    ("gaze down", {"gaze_y": 1.0}),
)
NAMES = ("einstein.jpg,mona_lisa.jpg,girl_with_a_pearl_earring.jpg,qing_emperor_painting.png,"
         "woman_in_black_standing.jpg,bouguereau_girl.jpg")
CELL_WH = (216, 132)
EYE_R = (33, 246, 161, 160, 159, 158, 157, 173, 133, 7, 163, 144, 145, 153, 154, 155)
EYE_L = (263, 466, 388, 387, 386, 385, 384, 398, 362, 249, 390, 373, 374, 380, 381, 382)


def load_with_mesh(path: Path):
    """The portrait and its mesh (cached under /tmp: the mesh is the slow part)."""
    from vitaphone.core.face.analyze import analyze_face
    from vitaphone.core.face.image_io import load_portrait_file

    portrait = load_portrait_file(path)
    cache = Path("/tmp") / f"vitaphone_mesh_{path.stem}_{path.stat().st_size}.pkl"
    if cache.exists():
        return portrait, pickle.loads(cache.read_bytes())
    mesh = analyze_face(portrait)
    cache.write_bytes(pickle.dumps(mesh))
    return portrait, mesh


def render_poses(portrait, mesh, poses, max_side: int = 1024):
    """Frames for one track row per pose (dict of channel values, the rest 0)."""
    from vitaphone.core.motion.types import CHANNELS, MotionTrack
    from vitaphone.core.render import RenderOptions, render_frames

    values = np.zeros((len(poses), len(CHANNELS)), np.float32)
    for row, pose in enumerate(poses):
        for channel, value in pose.items():
            values[row, CHANNELS.index(channel)] = value
    return render_frames(portrait, mesh, MotionTrack(values=values, fps=25.0),
                         RenderOptions(device="cpu", max_side=max_side))


def eye_box(mesh, frames, eye: str) -> tuple[int, int, int, int, float]:
    """Crop box (x0, y0, x1, y1) in output px around one eye, and the zoom to CELL_WH."""
    x0c, y0c, x1c, _ = frames.crop_xyxy
    scale = frames.rgb.shape[2] / (x1c - x0c)
    xy = (mesh.landmarks[:, :2] - np.array([x0c, y0c])) * scale
    pts = xy[list(EYE_R if eye == "right" else EYE_L)]
    iod = float(np.linalg.norm(xy[list(EYE_R)].mean(0) - xy[list(EYE_L)].mean(0)))
    cx, cy = pts.mean(0)
    cy -= 0.05 * iod  # show the lid and crease above more than the cheek below
    half_w = 0.42 * iod
    half_h = half_w * CELL_WH[1] / CELL_WH[0]
    box = (int(cx - half_w), int(cy - half_h), int(cx + half_w), int(cy + half_h))
    return (*box, CELL_WH[0] / (2 * half_w))


def crop_cell(frame: np.ndarray, box) -> np.ndarray:
    x0, y0, x1, y1 = box[:4]
    h, w = frame.shape[:2]
    pad = np.pad(frame, ((h, h), (w, w), (0, 0)), mode="edge")
    crop = pad[y0 + h:y1 + h, x0 + w:x1 + w]
    return cv2.resize(crop, CELL_WH, interpolation=cv2.INTER_CUBIC)


def sheet_row(path: Path, eye: str) -> np.ndarray:
    portrait, mesh = load_with_mesh(path)
    frames = render_poses(portrait, mesh, [pose for _, pose in POSES])
    box = eye_box(mesh, frames, eye)
    cells = []
    for i, (frame, (name, _)) in enumerate(zip(frames.rgb, POSES)):
        text = f"{path.stem[:10]} x{box[4]:.1f}" if i == 0 else name
        cells.append(label(crop_cell(frame, box), text))
    return np.concatenate(cells, axis=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portraits", type=Path, default=ROOT.parent / "shared" / "portraits")
    parser.add_argument("--names", default=NAMES)
    parser.add_argument("--eye", choices=("right", "left"), default="right")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "eyes_sheet.png")
    args = parser.parse_args()
    rows = [sheet_row(args.portraits / name, args.eye) for name in args.names.split(",")]
    save_sheet(np.concatenate(rows, axis=0), args.out)


if __name__ == "__main__":
    main()
