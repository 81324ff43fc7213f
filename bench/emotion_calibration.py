"""Measure how each emotion moves the face in real footage (MEAD), for the motion stage.

For every clip <actor>_front_<emotion>_level<k>_001.mp4 the face mesh is tracked over all
frames and vitaphone.core.face.features are measured per frame. Per actor and emotion the
delta is median(emotion clip) - median(the same actor's neutral clip), in inter-ocular units;
the table averages the actors and counts how many agree on the sign. Speech goes on in every
clip, so medians (not means) keep talking from leaking into the expression offsets.

Writes
  vitaphone/core/motion/emotion_targets.json  {emotion: {feature: delta_in_IOD_units}} plus
      "lip_motion_ratio" (a ratio, not a delta: the lip-gap range p90-p10 of the emotion clip
      over that of neutral; how much the mouth moves while talking) and "eye_opening_rel"
      (the eye-opening delta as a fraction of the actor's neutral aperture);
  docs/emotion_calibration.md  the table.

Run: python3 bench/emotion_calibration.py [--clips /work/shared/video/emotions]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import av
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from vitaphone.core.face.features import FEATURES, expression_features  # noqa: E402
from vitaphone.core.face.track import track_meshes  # noqa: E402

EMOTION_NAMES = {  # MEAD's file names -> vitaphone.core.motion.types.Emotion values
    "neutral": "neutral", "happy": "happy", "sad": "sad", "angry": "angry",
    "surprised": "surprised", "fear": "fear", "disgusted": "disgust", "contempt": "contempt",
}
CLIP_RE = re.compile(r"(?P<actor>[A-Z]\d+)_front_(?P<emotion>[a-z]+)_level(?P<level>\d)_\d+\.mp4")
SHOWN = ("brow_height", "inner_brow_height", "brow_gap", "eye_opening", "mouth_corner_height",
         "mouth_corner_vs_lip_centre", "mouth_corner_asym", "mouth_width", "lip_gap",
         "upper_lip_raise", "nose_wrinkle", "cheek_raise", "lip_motion_ratio")
# Mouth-shape features are taken over the clip's most closed-mouth frames (lowest 30 % lip gap):
# the actors talk throughout, and an open "ah" widens and lowers the mouth whatever the emotion.
MOUTH_SHAPE = ("mouth_corner_height", "mouth_corner_vs_lip_centre", "mouth_corner_asym",
               "mouth_width", "upper_lip_raise")
REST_QUANTILE = 30


def clip_features(path: Path) -> np.ndarray:
    """(n_frames_with_face, len(FEATURES)) per-frame features of one clip."""
    with av.open(str(path)) as container:
        frames = (f.to_ndarray(format="rgb24") for f in container.decode(video=0))
        rows = [[expression_features(m)[k] for k in FEATURES]
                for m in track_meshes(frames) if m is not None]
    return np.asarray(rows, dtype=np.float64)


def clip_summary(feats: np.ndarray) -> np.ndarray:
    """Robust per-clip value of each feature: the median over all frames, or over the
    closed-mouth frames for the MOUTH_SHAPE features."""
    gap = feats[:, FEATURES.index("lip_gap")]
    rest = gap <= np.percentile(gap, REST_QUANTILE)
    out = np.median(feats, axis=0)
    for k in MOUTH_SHAPE:
        out[FEATURES.index(k)] = np.median(feats[rest, FEATURES.index(k)])
    return out


def lip_range(feats: np.ndarray) -> float:
    gap = feats[:, FEATURES.index("lip_gap")]
    return float(np.percentile(gap, 90) - np.percentile(gap, 10))


def calibrate(clip_dir: Path) -> tuple[dict, dict]:
    """Returns (mean deltas {emotion: {feature: value}}, per-actor deltas {emotion: {feature:
    [values]}})."""
    clips: dict[str, dict[str, np.ndarray]] = defaultdict(dict)
    for path in sorted(clip_dir.glob("*.mp4")):
        m = CLIP_RE.fullmatch(path.name)
        if not m or m["emotion"] not in EMOTION_NAMES:
            continue
        feats = clip_features(path)
        print(f"{path.name}: {len(feats)} frames with a face", file=sys.stderr)
        clips[m["actor"]][EMOTION_NAMES[m["emotion"]]] = feats
    per_actor: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for actor, by_emotion in clips.items():
        neutral = by_emotion["neutral"]
        base = clip_summary(neutral)
        for emotion, feats in by_emotion.items():
            delta = clip_summary(feats) - base
            for k, v in zip(FEATURES, delta):
                per_actor[emotion][k].append(float(v))
            per_actor[emotion]["lip_motion_ratio"].append(lip_range(feats) / lip_range(neutral))
            eye = FEATURES.index("eye_opening")
            per_actor[emotion]["eye_opening_rel"].append(float(delta[eye] / base[eye]))
    means = {
        e: {k: round(float(np.mean(v)), 4) for k, v in per_actor[e].items()}
        for e in EMOTION_NAMES.values() if e in per_actor
    }
    return means, per_actor


def markdown_table(means: dict, per_actor: dict) -> str:
    n_actors = len(next(iter(per_actor.values()))["brow_height"])
    lines = [
        "# Emotion calibration on MEAD (measured)",
        "",
        f"`bench/emotion_calibration.py` tracks the 468-point mesh over every frame of the "
        f"{n_actors} actors' front-camera clips (level 3; neutral is level 1) in "
        "`shared/video/emotions/`. Each cell: mean over actors of median(emotion) - "
        "median(neutral), in inter-ocular distances (IOD, ~63 mm), with how many actors agree "
        "on the sign. Head pose is undone in 3D first; mouth-shape features (corners, width, "
        "upper lip) use the clip's 30 % most closed-mouth frames. `lip_motion_ratio` is the lip-gap range (p90 - p10) relative to neutral. "
        "Feature definitions: `vitaphone/core/face/features.py`; the numbers feed "
        "`vitaphone/core/motion/emotion_targets.json`.",
        "",
        "| emotion | " + " | ".join(SHOWN) + " |",
        "|---|" + "---:|" * len(SHOWN),
    ]
    for emotion, feats in means.items():
        if emotion == "neutral":
            continue
        cells = []
        for k in SHOWN:
            vals = np.asarray(per_actor[emotion][k])
            if k == "lip_motion_ratio":
                cells.append(f"{feats[k]:.2f}")
                continue
            agree = int(max((vals > 0).sum(), (vals < 0).sum()))
            cells.append(f"{feats[k]:+.3f} ({agree}/{len(vals)})")
        lines.append(f"| {emotion} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--clips", type=Path, default=Path("/work/shared/video/emotions"))
    parser.add_argument("--json", type=Path,
                        default=ROOT / "vitaphone/core/motion/emotion_targets.json")
    parser.add_argument("--doc", type=Path, default=ROOT / "docs/emotion_calibration.md")
    args = parser.parse_args()
    means, per_actor = calibrate(args.clips)
    args.json.write_text(json.dumps(means, indent=1) + "\n")
    args.doc.parent.mkdir(parents=True, exist_ok=True)
    table = markdown_table(means, per_actor)
    args.doc.write_text(table)
    print(table)


if __name__ == "__main__":
    main()
