"""Emotion stills: what each emotion (or each of its channel offsets alone) costs in identity and
buys in expression, on single rendered frames (no speech, no blinks, no head motion).

    python3 bench/emotion_stills.py --portraits DIR [--emotions angry,disgust] [--channels]
        [--intensity 0.8] [--out DIR]

For each portrait: one frame at rest, then one per emotion with the emotion's settled offsets
as the motion stage applies them (the portrait's own smile and smirk side measured as the
pipeline does); with --channels, one frame per channel offset alone at that emotion's strength.
Each row: dlib identity distance to the rest frame and to the portrait (`bench/face_judge.py`,
needs `.[eval]`), dlib's brow / eye / corner change against the rest frame, and our own mesh's
change in mouth-corner height and corner-vs-lip-centre (IOD). PNG crops go to --out.
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

DLIB_KEYS = ("brow_height", "eye_opening", "mouth_corner_height", "mouth_corner_asym")
OWN_KEYS = ("mouth_corner_height", "mouth_corner_vs_lip_centre", "brow_height", "eye_opening")


def emotion_rows(mesh, emotions: list[str], intensity: float, channels: bool,
                 ignore_own: bool = False) -> list[tuple[str, np.ndarray]]:
    """(label, offsets over CHANNELS) rows: rest, each emotion, optionally each channel alone."""
    from vitaphone.core.face.features import smile_iod, smirk_side
    from vitaphone.core.motion.emotion import style_for
    from vitaphone.core.motion.options import OwnExpression, parse_emotion
    from vitaphone.core.motion.types import CHANNELS

    side = smirk_side(mesh.landmarks, mesh.yaw_deg)
    own = OwnExpression() if ignore_own else OwnExpression(smile_iod=smile_iod(mesh.landmarks))
    rows = [("rest", np.zeros(len(CHANNELS), np.float32))]
    for name in emotions:
        style, _ = style_for(parse_emotion(name), intensity, own=own)
        v = style.offset_vector()
        for mirrored in ("mouth_corner_asym", "head_roll_deg"):
            v[CHANNELS.index(mirrored)] *= side
        for head in ("head_pitch_deg", "head_yaw_deg", "head_roll_deg", "gaze_x", "gaze_y"):
            v[CHANNELS.index(head)] = 0.0  # expression only: head pose and gaze are not judged
        rows.append((name, v))
        if channels:
            for i in np.flatnonzero(v):
                alone = np.zeros_like(v)
                alone[i] = v[i]
                rows.append((f"{name}:{CHANNELS[i]}={v[i]:+.2f}", alone))
    return rows


def judge_frames(portrait_rgb: np.ndarray, frames: np.ndarray, use_dlib: bool) -> list[dict]:
    """Per frame: dlib identity to the portrait and to frame 0, dlib and own feature deltas."""
    from vitaphone.core.face.analyze import analyze_face
    from vitaphone.core.face.features import expression_features
    from vitaphone.core.face.types import Portrait

    out = []
    ref = None
    if use_dlib:
        import face_judge as judge

        box = judge.detect_box(portrait_rgb, upsample=1)
        ref = judge.read_face(portrait_rgb, box, embed=True).embedding
    for frame in frames:
        row: dict = {}
        feats = expression_features(analyze_face(Portrait(frame, "")).landmarks)
        row.update({f"own_{k}": feats[k] for k in OWN_KEYS})
        if use_dlib:
            box = judge.detect_box(frame, upsample=1)
            face = judge.read_face(frame, box, embed=True)
            row["id"] = float(np.linalg.norm(face.embedding - ref))
            row["emb"] = face.embedding
            row.update({f"dlib_{k}": v for k, v in judge.expression(face.points).items()})
        out.append(row)
    if use_dlib:
        rest = out[0]["emb"]
        for row in out:
            row["id_rest"] = float(np.linalg.norm(row["emb"] - rest))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--portraits", type=Path, required=True, help="a folder or one image")
    parser.add_argument("--emotions", default="happy,sad,angry,disgust,contempt")
    parser.add_argument("--intensity", type=float, default=0.8)
    parser.add_argument("--channels", action="store_true", help="also each channel alone")
    parser.add_argument("--out", type=Path, default=Path("/tmp/emotion_stills"))
    parser.add_argument("--no-dlib", action="store_true")
    parser.add_argument("--ignore-own", action="store_true",
                        help="apply emotions as if the portrait were neutral (the old way)")
    args = parser.parse_args()

    from vitaphone.core.face.analyze import analyze_face
    from vitaphone.core.face.image_io import load_portrait_file
    from vitaphone.core.motion.types import MotionTrack
    from vitaphone.core.render import RenderOptions, render_frames

    use_dlib = not args.no_dlib
    paths = sorted(args.portraits.iterdir()) if args.portraits.is_dir() else [args.portraits]
    args.out.mkdir(parents=True, exist_ok=True)
    print(f"{'portrait':24s} {'row':44s} {'id':>6s} {'id_rest':>7s} "
          + " ".join(f"{'d_' + k[:9]:>11s}" for k in DLIB_KEYS) + "  own: "
          + " ".join(f"{'d_' + k[:12]:>14s}" for k in OWN_KEYS))
    for path in paths:
        portrait = load_portrait_file(path)
        mesh = analyze_face(portrait)
        rows = emotion_rows(mesh, args.emotions.split(","), args.intensity, args.channels,
                            args.ignore_own)
        values = np.stack([v for _, v in rows])
        frames = render_frames(portrait, mesh, MotionTrack(values=values, fps=25.0),
                               RenderOptions(device="cpu", max_side=512))
        x0, y0, x1, y1 = (int(v) for v in frames.head_box_xyxy)
        # Judge the frame against the portrait at the frame's own scale.
        cx0, cy0, cx1, cy1 = (int(v) for v in frames.crop_xyxy)
        src = cv2.resize(portrait.rgb[cy0:cy1, cx0:cx1], frames.rgb.shape[2:0:-1],
                         interpolation=cv2.INTER_AREA)
        judged = judge_frames(src, frames.rgb, use_dlib)
        for (label, _), frame, row in zip(rows, frames.rgb, judged):
            crop = frame[y0:y1, x0:x1]
            crop = cv2.resize(crop, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)
            safe = label.split("=")[0].replace(":", "_")
            cv2.imwrite(str(args.out / f"{path.stem}_{safe}.png"), crop[..., ::-1])
            dl = " ".join(f"{row.get('dlib_' + k, np.nan) - judged[0].get('dlib_' + k, np.nan):+11.3f}"
                          for k in DLIB_KEYS)
            own = " ".join(f"{row['own_' + k] - judged[0]['own_' + k]:+14.3f}" for k in OWN_KEYS)
            print(f"{path.stem[:24]:24s} {label[:44]:44s} {row.get('id', np.nan):6.3f} "
                  f"{row.get('id_rest', np.nan):7.3f} {dl}        {own}", flush=True)


if __name__ == "__main__":
    main()
