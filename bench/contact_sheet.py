"""Contact sheet: portraits x emotions, one speaking frame each, as a PNG for docs/.

    python3 bench/contact_sheet.py --out docs/emotions_sheet.png

Each cell renders the same short quote through the real stages (speech, motion, render; no
marks, since the sheet is for looking at faces) and shows the frame at the given fraction of
the clip, cropped to the head.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised", "fear", "disgust", "contempt")
QUOTE = "I have never been so sure of anything."


def _cell(portrait, mesh, speech, emotion: str, at: float, size: int) -> np.ndarray:
    from vitaphone.core.face.features import smirk_side
    from vitaphone.core.motion.options import MotionOptions
    from vitaphone.core.motion.track import plan_motion
    from vitaphone.core.render import RenderOptions, render_frames

    side = smirk_side(mesh.landmarks, mesh.yaw_deg)  # as the pipeline does
    track = plan_motion(speech, MotionOptions(emotion=emotion, intensity=1.0, seed=1,
                                              smirk_side=side))
    frames = render_frames(portrait, mesh, track, RenderOptions(device="cpu", max_side=512))
    frame = frames.rgb[min(int(at * frames.n_frames), frames.n_frames - 1)]
    return head_crop(frame, frames.head_box_xyxy, size)


def head_crop(frame: np.ndarray, head_box, size: int) -> np.ndarray:
    """A square crop around the head box, resized to size x size."""
    x0, y0, x1, y1 = head_box
    side = max(x1 - x0, y1 - y0)
    cx, cy = (x0 + x1) // 2, (y0 + y1) // 2 + (y1 - y0) // 10  # the box includes hair above
    h, w = frame.shape[:2]
    half = min(side // 2 + side // 8, cx, cy, w - cx, h - cy)
    crop = frame[cy - half:cy + half, cx - half:cx + half]
    return cv2.resize(crop, (size, size), interpolation=cv2.INTER_AREA)


def save_sheet(sheet: np.ndarray, out: Path) -> None:
    from PIL import Image

    out.parent.mkdir(parents=True, exist_ok=True)
    # 256 colours with dithering: a third of the bytes, indistinguishable at sheet scale.
    Image.fromarray(sheet).quantize(256, method=Image.Quantize.FASTOCTREE).save(out, optimize=True)
    print(f"wrote {out} ({sheet.shape[1]}x{sheet.shape[0]})")


def label(image: np.ndarray, text: str) -> np.ndarray:
    out = image.copy()
    cv2.rectangle(out, (0, 0), (out.shape[1], 18), (0, 0, 0), -1)
    cv2.putText(out, text, (4, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.45, (255, 255, 255), 1,
                cv2.LINE_AA)
    return out


def main() -> None:
    from vitaphone.core.face.analyze import analyze_face
    from vitaphone.core.face.image_io import load_portrait_file
    from vitaphone.core.speech.synthesize import SpeechOptions, synthesize_speech

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portraits", type=Path, default=ROOT.parent / "shared" / "portraits")
    parser.add_argument("--names", default="einstein.jpg,mona_lisa.jpg,girl_with_a_pearl_earring.jpg,"
                        "bouguereau_girl.jpg,qing_emperor_painting.png")
    parser.add_argument("--at", type=float, default=0.45, help="fraction of the clip to show")
    parser.add_argument("--size", type=int, default=160)
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "emotions_sheet.png")
    args = parser.parse_args()
    speech = synthesize_speech(QUOTE, SpeechOptions())
    rows = []
    for name in args.names.split(","):
        portrait = load_portrait_file(args.portraits / name)
        mesh = analyze_face(portrait)
        cells = [label(_cell(portrait, mesh, speech, e, args.at, args.size), f"{name.split('.')[0][:12]} {e}")
                 for e in EMOTIONS]
        rows.append(np.concatenate(cells, axis=1))
        print(f"{name}: done", flush=True)
    save_sheet(np.concatenate(rows, axis=0), args.out)


if __name__ == "__main__":
    main()
