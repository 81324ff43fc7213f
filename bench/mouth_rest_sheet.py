"""Mouths parted at rest: rest, bilabial and silence frames of a spoken quote, mouth crops at 3x.

    python3 bench/mouth_rest_sheet.py                     # docs/mouth_rest_sheet.png
    python3 bench/mouth_rest_sheet.py --make-parted /work/shared/portraits/mona_lisa.jpg \\
        tests/assets/portraits/mona_lisa_parted_lips.jpg   # the test portrait, made once

Rows: portraits whose lips are parted at rest (a real smile with teeth, and Mona Lisa with her
lips parted by our own renderer). Columns: the portrait's own frame 0, the middle frame of each
of the first bilabials (p, b, m: the lips must meet, no teeth left), the middle of the pause
and the last frame (back to the portrait's own mouth). The label gives the inner-lip gap the
face mesh reads on that frame, in IOD.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from contact_sheet import label, save_sheet  # noqa: E402

QUOTE = "Bob may bump a map. Please pass the big bowl, Mom."
NAMES = "mead_m030_smiling_teeth.png,mona_lisa_parted_lips.jpg"
PARTED = {"jaw_open": 0.5, "lip_spread": 0.4, "mouth_corner": 0.6, "upper_lip_raise": 0.3}
ZOOM = 3


def mesh_gap_iod(rgb: np.ndarray) -> float:
    """Inner-lip gap (13 to 14) over the eye distance, as the face mesh reads `rgb`."""
    from vitaphone.core.face.analyze import analyze_face
    from vitaphone.core.face.landmarks import interocular_px
    from vitaphone.core.face.types import Portrait

    lm = analyze_face(Portrait(np.ascontiguousarray(rgb), "0" * 64)).landmarks
    return float(np.linalg.norm(lm[14, :2] - lm[13, :2]) / interocular_px(lm))


def make_parted(source: Path, out: Path, max_side: int = 400) -> None:
    """Render one frame of `source` with the jaw dropped and the lips parted in a smile (teeth
    showing) and save it as a still: a portrait whose mouth is open at rest."""
    from PIL import Image

    from vitaphone.core.face.analyze import analyze_face
    from vitaphone.core.face.image_io import load_portrait_file
    from vitaphone.core.motion.types import CHANNELS, MotionTrack
    from vitaphone.core.render import RenderOptions, render_frames

    portrait = load_portrait_file(source)
    values = np.zeros((1, len(CHANNELS)), np.float32)
    for name, value in PARTED.items():
        values[0, CHANNELS.index(name)] = value
    frames = render_frames(portrait, analyze_face(portrait), MotionTrack(values, 25.0),
                           RenderOptions(device="cpu", max_side=max_side))  # fmt: skip
    rgb = frames.rgb[0]
    Image.fromarray(rgb).save(out, quality=92)
    print(f"wrote {out} {rgb.shape[1]}x{rgb.shape[0]}, mesh lip gap {mesh_gap_iod(rgb):.3f} IOD")


def _mouth_box(mesh, crop_xyxy, scale: float) -> tuple[int, int, int, int]:
    from vitaphone.core.render import regions as rg

    xy = (mesh.landmarks[:, :2] - np.asarray(crop_xyxy[:2])) * scale
    lips = xy[list(rg.LIP_OUTER_UPPER + rg.LIP_OUTER_LOWER)]
    right, left = rg.eye_centres(xy)
    pad = 0.3 * float(np.linalg.norm(left - right))
    (x0, y0), (x1, y1) = lips.min(0) - pad, lips.max(0) + pad
    return int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1))


def sheet_row(path: Path, speech, n_bilabials: int = 3) -> np.ndarray:
    import cv2

    from vitaphone.core.face.analyze import analyze_face
    from vitaphone.core.face.image_io import load_portrait_file
    from vitaphone.core.motion.options import MotionOptions
    from vitaphone.core.motion.track import plan_motion
    from vitaphone.core.render import RenderOptions, render_frames

    portrait = load_portrait_file(path)
    mesh = analyze_face(portrait)
    track = plan_motion(speech, MotionOptions(emotion="neutral", intensity=0.8, seed=0))
    frames = render_frames(portrait, mesh, track, RenderOptions(device="cpu", max_side=512))
    fps, last = frames.fps, frames.n_frames - 1
    mid = lambda p: min(int((p.start_s + p.end_s) / 2 * fps), last)
    picks = [("rest", 0)]
    picks += [(p.phone.lower(), mid(p)) for p in speech.phones if p.phone in ("P", "B", "M")][
        :n_bilabials
    ]
    inner = [p for p in speech.phones[1:-1] if p.phone == "SIL"]
    if inner:
        pause = max(inner, key=lambda p: p.end_s - p.start_s)
        picks.append(("pause", mid(pause)))
    picks.append(("end", last))
    scale = frames.rgb.shape[2] / (frames.crop_xyxy[2] - frames.crop_xyxy[0])
    x0, y0, x1, y1 = _mouth_box(mesh, frames.crop_xyxy, scale)
    cells = []
    for name, i in picks:
        crop = frames.rgb[i, max(y0, 0) : y1, max(x0, 0) : x1]
        big = cv2.resize(crop, None, fx=ZOOM, fy=ZOOM, interpolation=cv2.INTER_CUBIC)
        cells.append(label(big, f"{name} f{i} gap {mesh_gap_iod(frames.rgb[i]):.3f}"))
    return np.concatenate(cells, 1)


def main() -> None:
    from vitaphone.core.speech.synthesize import SpeechOptions, synthesize_speech

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portraits", type=Path, default=ROOT / "tests" / "assets" / "portraits")
    parser.add_argument("--names", default=NAMES)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "mouth_rest_sheet.png")
    parser.add_argument("--make-parted", nargs=2, type=Path, metavar=("SOURCE", "OUT"))
    args = parser.parse_args()
    if args.make_parted:
        make_parted(*args.make_parted)
        return
    speech = synthesize_speech(QUOTE, SpeechOptions())
    rows = [sheet_row(args.portraits / name, speech) for name in args.names.split(",")]
    width = max(r.shape[1] for r in rows)
    rows = [np.pad(r, ((0, 4), (0, width - r.shape[1]), (0, 0))) for r in rows]
    save_sheet(np.concatenate(rows, 0), args.out)


if __name__ == "__main__":
    main()
