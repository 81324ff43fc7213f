"""Mouth close-ups: our renders at jaw 0..1 and at each viseme's target, beside real open mouths.

    python3 bench/mouth_sheet.py                  # docs/mouth_sheet.png
    python3 bench/mouth_sheet.py --names mona_lisa.jpg --out /tmp/m.png

One row per portrait: the renderer's output for one motion-track row per cell (no speech, no
marks), cropped to the mouth (1.3 x 0.8 IOD around the rest mouth) and shown at 2x. The last
row: the widest-open frames of real talking footage, cropped the same way (MediaPipe mesh of
the frame), at the same cell size.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from contact_sheet import label  # noqa: E402

SHARED = ROOT.parent / "shared"
CELL_W, CELL_H = 208, 128  # 1.3 x 0.8 IOD at 80 px per IOD, shown at 2x


def poses() -> list[tuple[str, dict[str, float]]]:
    from vitaphone.core.motion.types import MOUTH_CHANNELS
    from vitaphone.core.motion.visemes import VISEME_SHAPES, Viseme

    out = [(f"jaw {j:g}", {"jaw_open": j}) for j in (0.0, 0.25, 0.5, 0.75, 1.0)]
    names = {Viseme.BILABIAL: "p/b/m", Viseme.LABIODENTAL: "f/v", Viseme.DENTAL: "th",
             Viseme.ALVEOLAR: "t/d/n/l", Viseme.SIBILANT: "s/z", Viseme.POSTALVEOLAR: "sh/ch",
             Viseme.VELAR: "k/g", Viseme.ROUNDED: "o/u/w", Viseme.OPEN: "aa (open)",
             Viseme.MID: "eh/ae (mid)", Viseme.CLOSE_FRONT: "ee/ih", Viseme.RHOTIC: "r"}
    for viseme, name in names.items():
        target = VISEME_SHAPES[viseme].target
        out.append((name, {c: float(v) for c, v in zip(MOUTH_CHANNELS, target)}))
    out.append(("l, jaw .6", {"jaw_open": 0.6, "lip_spread": 0.1}))
    out.append(("oo, jaw .5", {"jaw_open": 0.5, "lip_round": 1.0, "lip_spread": -0.6}))
    return out


def mouth_box(lm: np.ndarray) -> tuple[np.ndarray, float]:
    """Centre (2,) and IOD of the mouth in a (468, 2) mesh."""
    from vitaphone.core.render.regions import eye_centres

    right, left = eye_centres(lm)
    iod = float(np.linalg.norm(left - right))
    centre = (lm[61] + lm[291]) / 2 + np.array([0.0, 0.12 * iod])
    return centre, iod


def crop_mouth(rgb: np.ndarray, centre: np.ndarray, iod: float) -> np.ndarray:
    """1.3 x 0.8 IOD around `centre`, resized to the cell (cubic: a 2x zoom at 80 px per IOD)."""
    w, h = 1.3 * iod, 0.8 * iod
    m = np.array([[CELL_W / w, 0, CELL_W / 2 - centre[0] * CELL_W / w],
                  [0, CELL_H / h, CELL_H / 2 - centre[1] * CELL_H / h]], np.float64)
    return cv2.warpAffine(rgb, m, (CELL_W, CELL_H), flags=cv2.INTER_CUBIC,
                          borderMode=cv2.BORDER_REPLICATE)


def portrait_row(path: Path) -> list[np.ndarray]:
    from vitaphone.core.face.analyze import analyze_face
    from vitaphone.core.face.image_io import load_portrait_file
    from vitaphone.core.motion.types import CHANNELS, MotionTrack
    from vitaphone.core.render import RenderOptions, render_frames
    from vitaphone.core.render.crop import plan_crop

    portrait = load_portrait_file(path)
    mesh = analyze_face(portrait)
    cells = poses()
    values = np.zeros((len(cells), len(CHANNELS)), np.float32)
    for row, (_, pose) in enumerate(cells):
        for channel, value in pose.items():
            values[row, CHANNELS.index(channel)] = value
    options = RenderOptions(device="cpu", max_side=512)
    frames = render_frames(portrait, mesh, MotionTrack(values=values, fps=25.0), options)
    plan = plan_crop(portrait.size_hw, mesh.landmarks, options.max_side)
    centre, iod = mouth_box(plan.to_output(mesh.landmarks[:, :2].astype(np.float32)))
    return [label(crop_mouth(f, centre, iod), f"{path.stem[:10]} {name}")
            for f, (name, _) in zip(frames.rgb, cells)]


def real_row(n: int) -> list[np.ndarray]:
    """The widest-open mouths of the real clips (one or two per clip, far apart in time)."""
    from vitaphone.core.face.analyze import analyze_face

    clips = [SHARED / "video" / "real_talking_a.mp4", SHARED / "video" / "real_talking_b.mp4",
             *sorted((SHARED / "video" / "emotions").glob("*neutral*.mp4")),
             SHARED / "video" / "emotions" / "W009_front_surprised_level3_001.mp4"]
    cells = []
    for clip in clips:
        cap = cv2.VideoCapture(str(clip))
        frames = []
        while True:
            ok, bgr = cap.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB))
        picks = []
        for i in range(0, len(frames), 3):
            try:
                mesh = analyze_face(_portrait(frames[i]))
            except Exception:  # noqa: BLE001 - a frame without a face is skipped
                continue
            lm = mesh.landmarks[:, :2]
            _, iod = mouth_box(lm)
            picks.append(((lm[14, 1] - lm[13, 1]) / iod, i, lm))
        picks.sort(key=lambda p: -p[0])
        chosen = []
        for gap, i, lm in picks:
            if all(abs(i - j) > 15 for _, j, _ in chosen):
                chosen.append((gap, i, lm))
            if len(chosen) == 2:
                break
        for gap, i, lm in chosen:
            centre, iod = mouth_box(lm)
            crop = crop_mouth(frames[i], centre, iod)
            cells.append(label(crop, f"real {clip.stem[:12]} {gap:.2f}"))
    return cells[:n]


def _portrait(rgb: np.ndarray):
    from vitaphone.core.face.image_io import load_portrait

    ok, png = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    return load_portrait(png.tobytes(), name="frame.png")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portraits", type=Path, default=SHARED / "portraits")
    parser.add_argument("--names",
                        default="mona_lisa.jpg,einstein.jpg,girl_with_a_pearl_earring.jpg")
    parser.add_argument("--extra",
                        default=str(ROOT / "tests/assets/portraits/mead_m030_smiling_teeth.png"),
                        help="another portrait path (the parted-lip one); '' for none")
    parser.add_argument("--columns", type=int, default=7)
    parser.add_argument("--no-real", action="store_true")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "mouth_sheet.png")
    args = parser.parse_args()
    paths = [args.portraits / n for n in args.names.split(",") if n]
    if args.extra:
        paths.append(Path(args.extra))
    blocks = []
    blank = np.zeros((CELL_H, CELL_W, 3), np.uint8)
    for path in paths:
        cells = portrait_row(path)
        cells += [blank] * (-len(cells) % args.columns)
        blocks.append(cells)
    if not args.no_real:
        cache = Path("/tmp/mouth_sheet_real.npy")  # the real row does not change between runs
        if cache.exists():
            cells = list(np.load(cache))
        else:
            cells = real_row(2 * args.columns)
            np.save(cache, np.stack(cells))
        cells += [blank] * (-len(cells) % args.columns)
        blocks.append(cells)
    rows = [np.concatenate(cells[i:i + args.columns], axis=1)
            for cells in blocks for i in range(0, len(cells), args.columns)]
    sheet = np.concatenate(rows, axis=0)
    from PIL import Image

    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(sheet).save(args.out, optimize=True)
    print(f"wrote {args.out} ({sheet.shape[1]}x{sheet.shape[0]})")


if __name__ == "__main__":
    main()
