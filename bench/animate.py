"""Judge talking-portrait videos with an independent face model (dlib), and print a table.

Metrics (issue 4, item 7), per video:
  lip sync    per-frame inner-lip opening (dlib 60-67, IOD units) vs the speech energy envelope
              (band 100-4000 Hz, RMS in dB per 40 ms frame): Pearson r at lag 0, the best r
              within +-5 frames and its lag (+ = the mouth moves after the sound);
  bilabials   share of p/b/m phones whose middle frame shows closed lips: gap < 0.03 IOD, and
              (b_rel) gap <= the source portrait's own reading + 0.02 IOD, since dlib reads some
              painted closed mouths as 0.07 IOD open (the Qing emperor);
  identity    dlib ResNet embedding distance to the source portrait (or the first frame),
              mean and max over frames (same person < 0.6; target <= 0.35);
  emotion     brow height, eye opening, mouth-corner height (+ corner asymmetry) medians;
              against the same portrait's neutral video when one is in the batch;
  stability   mean absolute change of grey level between consecutive frames outside the head
              (a generous region around dlib's 68 points with the neck, and the forehead and
              hair above the brows, where the 68 points stop; JSON also has the face-only number);
  speed       seconds of wall time per second of video, per stage (from the renderer's JSON).

Usage
  python3 bench/animate.py --real                                 # reference rows (real videos)
  python3 bench/animate.py --video out.mp4 --timings t.json --portrait p.jpg [--speed s.json]
  python3 bench/animate.py --render [--portraits DIR] [--emotions happy,sad] [--device cpu]
      renders every portrait x emotion through vitaphone.core.pipeline, then judges them;
      the clips, <stem>.phones.json and <stem>.speed.json stay in --out;
  python3 bench/animate.py --judge-dir DIR [--portraits DIR]
      judges clips rendered earlier (e.g. on a GPU host) by --render: <portrait>_<emotion>.mp4.
`evaluate_video(mp4, timings_json, portrait_path)` is the library entry point.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

import av
import cv2
import numpy as np
from scipy.signal import butter, sosfiltfilt

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import face_judge as judge  # noqa: E402

SHARED = Path("/work/shared")
MAX_LAG = 5
CLOSED_GAP_IOD = 0.03  # ~2 mm: dlib puts the inner lips on one line when the mouth is shut
REL_TOLERANCE_IOD = 0.02
BILABIALS = {"P", "B", "M"}
REST_QUANTILE = 30  # mouth-shape features use the 30 % most closed-mouth frames
EMOTIONS = ("neutral", "happy", "sad", "angry", "surprised", "fear", "disgust", "contempt")
# Expected direction vs neutral (FACS prototypes, confirmed on MEAD in docs/emotion_calibration.md
# where the actors agreed): +1 up/more, -1 down/less. Contempt: one-sided corner (|asym| grows).
EXPECTED: dict[str, dict[str, int]] = {
    "happy": {"mouth_corner_height": +1},
    "sad": {"mouth_corner_height": -1, "eye_opening": -1},
    "angry": {"brow_height": -1},
    "surprised": {"brow_height": +1, "eye_opening": +1},
    "fear": {"brow_height": +1, "eye_opening": +1},
    "disgust": {"brow_height": -1},
    "contempt": {"abs_mouth_corner_asym": +1},
}


# --- reading ---------------------------------------------------------------------------------
def read_audio(path: Path, rate_hz: int = 16000) -> np.ndarray | None:
    """Mono float32 samples at `rate_hz`, or None when the file has no audio."""
    with av.open(str(path)) as container:
        if not container.streams.audio:
            return None
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate_hz)
        chunks = []
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    return np.concatenate(chunks).astype(np.float32) if chunks else None


def energy_envelope(samples: np.ndarray, rate_hz: int, fps: float, n_frames: int) -> np.ndarray:
    """Speech energy per video frame: RMS of the 100-4000 Hz band over each frame's 1/fps
    window, in dB, floored 40 dB below the loudest frame (silence reads flat, not as noise)."""
    band = sosfiltfilt(butter(4, [100, 4000], btype="band", fs=rate_hz, output="sos"), samples)
    hop = rate_hz / fps
    env = np.empty(n_frames)
    for i in range(n_frames):
        seg = band[int(i * hop): int((i + 1) * hop)]
        env[i] = math.sqrt(float(np.mean(seg ** 2))) if len(seg) else 0.0
    db = 20 * np.log10(env + 1e-9)
    return np.maximum(db, db.max() - 40.0)


def read_phones(timings_json: Path | None) -> list[tuple[str, float, float]]:
    """Phones from {"phones": [{"phone", "start_s", "end_s"} | [phone, start, end]]} or a bare
    list of either."""
    if timings_json is None:
        return []
    raw = json.loads(Path(timings_json).read_text())
    items = raw.get("phones", []) if isinstance(raw, dict) else raw
    out = []
    for item in items:
        if isinstance(item, dict):
            out.append((str(item["phone"]).upper(), float(item["start_s"]), float(item["end_s"])))
        else:
            out.append((str(item[0]).upper(), float(item[1]), float(item[2])))
    return out


def read_speed(speed_json: Path | None, duration_s: float) -> dict[str, float]:
    """Seconds per second of video per stage from {"seconds": {stage: s}} or {stage: s}."""
    if speed_json is None:
        return {}
    raw = json.loads(Path(speed_json).read_text())
    seconds = raw.get("seconds", raw)
    return {k: float(v) / duration_s for k, v in seconds.items() if isinstance(v, (int, float))}


# --- metrics ---------------------------------------------------------------------------------
def lagged_correlation(mouth: np.ndarray, env: np.ndarray) -> tuple[float, float, int]:
    """(r at lag 0, best r, best lag) with r(lag) = corr(mouth[t + lag], env[t])."""
    def corr(lag: int) -> float:
        a = mouth[lag:] if lag >= 0 else mouth[:lag]
        b = env[: len(env) - lag] if lag >= 0 else env[-lag:]
        n = min(len(a), len(b))
        a, b = a[:n], b[:n]
        ok = ~(np.isnan(a) | np.isnan(b))
        if ok.sum() < 10 or np.std(a[ok]) == 0 or np.std(b[ok]) == 0:
            return float("nan")
        return float(np.corrcoef(a[ok], b[ok])[0, 1])

    rs = {lag: corr(lag) for lag in range(-MAX_LAG, MAX_LAG + 1)}
    best = max(rs, key=lambda k: -np.inf if math.isnan(rs[k]) else rs[k])
    return rs[0], rs[best], best


def bilabial_closure(phones: list[tuple[str, float, float]], mouth: np.ndarray, fps: float,
                     closed_below: float = CLOSED_GAP_IOD) -> tuple[float | None, int]:
    """Share of p/b/m phones whose middle frame has a lip gap under `closed_below` (IOD); and
    how many were judged."""
    judged = closed = 0
    for phone, start, end in phones:
        if phone not in BILABIALS:
            continue
        i = int((start + end) / 2 * fps)
        if 0 <= i < len(mouth) and not math.isnan(mouth[i]):
            judged += 1
            closed += int(mouth[i] < closed_below)
    return (closed / judged if judged else None), judged


def judge_portrait(portrait_path: Path) -> tuple[np.ndarray | None, float | None]:
    """The source portrait's identity embedding and its own lip gap (IOD), as dlib reads them."""
    from PIL import Image, ImageOps

    rgb = np.asarray(ImageOps.exif_transpose(Image.open(portrait_path)).convert("RGB"))
    box = judge.detect_box(rgb, upsample=1)
    if box is None:
        return None, None
    face = judge.read_face(rgb, box, embed=True)
    return face.embedding, judge.mouth_opening(face.points)


def evaluate_video(mp4_path: str | Path, timings_json: str | Path | None = None,
                   portrait_path: str | Path | None = None, *, speed_json: str | Path | None = None,
                   identity_stride: int = 1) -> dict:
    """Every metric of one video (see the module doc). Identity is measured against
    `portrait_path`, or against the video's first frame when no portrait is given."""
    mp4_path = Path(mp4_path)
    reference, portrait_gap = judge_portrait(Path(portrait_path)) if portrait_path else (None, None)
    mouth, feats, ids, still = [], [], [], []
    prev_gray = prev_hull = prev_points = None
    with av.open(str(mp4_path)) as container:
        stream = container.streams.video[0]
        fps = float(stream.average_rate or 25)
        for i, frame in enumerate(container.decode(video=0)):
            rgb = frame.to_ndarray(format="rgb24")
            box = judge.detect_box(rgb)
            if box is None and prev_points is not None:
                box = judge.box_from_points(prev_points)
            face = judge.read_face(rgb, box, embed=i % identity_stride == 0) if box else None
            gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.int16)
            if face is None:
                mouth.append(np.nan)
                prev_gray, prev_points = gray, None
                continue
            mouth.append(judge.mouth_opening(face.points))
            feats.append(judge.expression(face.points) | {"gap": mouth[-1]})
            if face.embedding is not None:
                if reference is None:
                    reference = face.embedding
                ids.append(float(np.linalg.norm(face.embedding - reference)))
            hull = (judge.head_hull(face.points), judge.head_hull(face.points, hair=False))
            if prev_gray is not None and prev_hull is not None:
                change = np.abs(gray - prev_gray)
                row = []
                for now, before in zip(hull, prev_hull):
                    mask = np.ones(gray.shape, np.uint8)
                    # One call per polygon: fillPoly fills several contours by parity, so two
                    # overlapping hulls in one call leave their common area (the head) unmasked.
                    for polygon in (now, before):
                        cv2.fillPoly(mask, [polygon], 0)
                    row.append(float(change[mask > 0].mean()))
                still.append(row)
            prev_gray, prev_hull, prev_points = gray, hull, face.points
    n = len(mouth)
    mouth_arr = np.asarray(mouth, dtype=np.float64)
    duration_s = n / fps
    result: dict = {"video": mp4_path.name, "frames": n, "fps": fps, "duration_s": duration_s,
                    "face_frames": int(np.isfinite(mouth_arr).sum())}
    samples = read_audio(mp4_path)
    if samples is not None and n > 2 * MAX_LAG:
        env = energy_envelope(samples, 16000, fps, n)
        result["sync_r0"], result["sync_r"], result["sync_lag"] = lagged_correlation(mouth_arr, env)
    phones = read_phones(Path(timings_json) if timings_json else None)
    closed, judged = bilabial_closure(phones, mouth_arr, fps)
    result["bilabial_closed"], result["bilabials"] = closed, judged
    if portrait_gap is not None:
        result["portrait_lip_gap"] = portrait_gap
        result["bilabial_closed_rel"], _ = bilabial_closure(
            phones, mouth_arr, fps, max(CLOSED_GAP_IOD, portrait_gap + REL_TOLERANCE_IOD))
    if ids:
        result["id_mean"], result["id_max"] = float(np.mean(ids)), float(np.max(ids))
    if still:  # with the hair counted as head, and (for reference) the 68-point face only
        result["stability"], result["stability_face_only"] = np.mean(still, axis=0).tolist()
    result["features"] = summarise_features(feats)
    result["speed"] = read_speed(Path(speed_json) if speed_json else None, duration_s)
    return result


def summarise_features(feats: list[dict[str, float]]) -> dict[str, float]:
    """Medians over frames; mouth-corner features over the most closed-mouth frames, since an
    open vowel lowers the corners whatever the emotion."""
    if not feats:
        return {}
    gap = np.array([f["gap"] for f in feats])
    rest = gap <= np.percentile(gap, REST_QUANTILE)
    out = {}
    for k in ("brow_height", "eye_opening", "mouth_corner_height", "mouth_corner_asym"):
        v = np.array([f[k] for f in feats])
        out[k] = float(np.median(v[rest] if k.startswith("mouth") else v))
    return out


# --- emotion directions ----------------------------------------------------------------------
def emotion_directions(results: list[dict]) -> dict[str, tuple[int, int]]:
    """For each emotion: (portraits where every expected feature moved the expected way vs that
    portrait's neutral video, portraits judged). Rows need 'portrait' and 'emotion' keys."""
    neutral = {r["portrait"]: r["features"] for r in results
               if r.get("emotion") == "neutral" and r.get("features")}
    tally: dict[str, list[int]] = {}
    for r in results:
        e, base = r.get("emotion"), neutral.get(r.get("portrait"))
        if e not in EXPECTED or base is None or not r.get("features"):
            continue
        deltas = {k: r["features"][k] - base[k] for k in base}
        deltas["abs_mouth_corner_asym"] = (abs(r["features"]["mouth_corner_asym"])
                                           - abs(base["mouth_corner_asym"]))
        r["deltas"] = deltas
        ok = all(np.sign(deltas[k]) == sign for k, sign in EXPECTED[e].items())
        counts = tally.setdefault(e, [0, 0])
        counts[0] += int(ok)
        counts[1] += 1
    return {e: (c[0], c[1]) for e, c in tally.items()}


# --- the table -------------------------------------------------------------------------------
def _fmt(v, spec: str) -> str:
    """format(v, spec), or a right-aligned '-' of the same width when there is no value."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return "-".rjust(int("".join(c for c in spec.split(".")[0] if c.isdigit()) or 1))
    return format(v, spec)


def print_table(results: list[dict]) -> None:
    stages = sorted({k for r in results for k in r.get("speed", {}) if "." not in k})
    directions = emotion_directions(results)  # also attaches each row's "deltas"
    head = (f"{'video':<44} {'r0':>5} {'r':>5} {'lag':>4} {'bilab':>5} {'b_rel':>5} {'n':>3} "
            f"{'id_mean':>7} "
            f"{'id_max':>6} {'still':>6} {'dbrow':>6} {'deye':>6} {'dcorner':>7}"
            + "".join(f" {s[:8]:>8}" for s in stages))
    print(head)
    print("-" * len(head))
    for r in results:
        d = r.get("deltas", {})
        bil, rel = r.get("bilabial_closed"), r.get("bilabial_closed_rel")
        bil_s = (f"{_fmt(None if bil is None else 100 * bil, '5.0f')} "
                 f"{_fmt(None if rel is None else 100 * rel, '5.0f')} {r.get('bilabials', 0):>3}")
        print(f"{r['video'][:44]:<44} {_fmt(r.get('sync_r0'), '5.2f')} {_fmt(r.get('sync_r'), '5.2f')}"
              f" {_fmt(r.get('sync_lag'), '4d')} {bil_s} {_fmt(r.get('id_mean'), '7.3f')}"
              f" {_fmt(r.get('id_max'), '6.3f')} {_fmt(r.get('stability'), '6.2f')}"
              f" {_fmt(d.get('brow_height'), '+6.3f')} {_fmt(d.get('eye_opening'), '+6.3f')}"
              f" {_fmt(d.get('mouth_corner_height'), '+7.3f')}"
              + "".join(f" {_fmt(r.get('speed', {}).get(s), '8.3f')}" for s in stages))
    if directions:
        print("\nemotion moved as expected vs neutral (portraits):")
        for e, (ok, n) in directions.items():
            want = ", ".join(f"{k} {'+' if s > 0 else '-'}" for k, s in EXPECTED[e].items())
            print(f"  {e:<10} {ok}/{n}  ({want})")
    print("\nr0/r/lag: lip opening vs speech energy (lag + = mouth after sound); bilab / b_rel: % "
          "of the n p/b/m phones with closed lips (absolute / relative to the portrait); id: dlib distance to the portrait; still: grey levels/frame outside the "
          "head; d*: change vs the portrait's neutral video, IOD units; stage columns: s per s "
          "of video")


# --- rendering through the pipeline ----------------------------------------------------------
SHORT_QUOTE = ("Our age is proud of the progress it has made in men's intellectual "
               "development.")
FULL_QUOTE = SHORT_QUOTE + (" The search and striving for truth and knowledge is one of the "
                            "highest of men's qualities.")


def render_and_evaluate(portrait: Path, emotion: str, text: str, out_dir: Path, device: str,
                        intensity: float) -> dict:
    """Render one clip with vitaphone.core.pipeline, save its phone timings and stage times next
    to it, and judge it."""
    from vitaphone.core.marking.c2pa_credentials import load_or_create_credentials
    from vitaphone.core.pipeline import AnimateInputs, AnimateOptions, Marking, animate

    marking = Marking(watermark_payload_hex="0123456789abcdef",
                      credentials=load_or_create_credentials(out_dir / "c2pa"),
                      consent_basis="public-domain portrait (evaluation)")
    stem = f"{portrait.stem}_{emotion}"
    mp4 = out_dir / f"{stem}.mp4"
    result = animate(AnimateInputs(portrait=portrait.read_bytes(), portrait_name=portrait.name,
                                   text=text),
                     AnimateOptions(emotion=emotion, intensity=intensity, seed=0, device=device),
                     marking, mp4)
    timings, speed = out_dir / f"{stem}.phones.json", out_dir / f"{stem}.speed.json"
    timings.write_text(json.dumps({"phones": [
        {"phone": p.phone, "start_s": p.start_s, "end_s": p.end_s} for p in result.speech.phones]}))
    speed.write_text(json.dumps({"seconds": result.seconds, "duration_s": result.duration_s}))
    row = evaluate_video(mp4, timings, portrait, speed_json=speed)
    return row | {"portrait": portrait.stem, "emotion": emotion}


def judge_rendered(folder: Path, portraits_dir: Path) -> list[dict]:
    """Judge every <portrait>_<emotion>.mp4 in `folder` with its .phones.json / .speed.json,
    against the portrait of that stem in `portraits_dir`."""
    portraits = {p.stem: p for p in portraits_dir.iterdir()}
    rows = []
    for mp4 in sorted(folder.glob("*.mp4")):
        stem, _, emotion = mp4.stem.rpartition("_")
        if emotion not in EMOTIONS or stem not in portraits:
            continue
        print(f"judging {mp4.name} ...", file=sys.stderr)
        timings, speed = mp4.with_suffix(".phones.json"), mp4.with_suffix(".speed.json")
        row = evaluate_video(mp4, timings if timings.exists() else None, portraits[stem],
                             speed_json=speed if speed.exists() else None)
        rows.append(row | {"portrait": stem, "emotion": emotion})
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description="Judge talking-portrait videos with dlib.")
    ap.add_argument("--video", type=Path, help="one MP4 to judge")
    ap.add_argument("--timings", type=Path, help="phone timings JSON for --video")
    ap.add_argument("--portrait", type=Path, help="source portrait of --video (identity)")
    ap.add_argument("--speed", type=Path, help="stage times JSON for --video")
    ap.add_argument("--real", action="store_true", help="reference rows on shared real videos")
    ap.add_argument("--render", action="store_true", help="render portraits x emotions, judge")
    ap.add_argument("--judge-dir", type=Path, help="judge the clips --render left in a folder")
    ap.add_argument("--portraits", type=Path, default=SHARED / "portraits")
    ap.add_argument("--emotions", default=",".join(EMOTIONS))
    ap.add_argument("--quote", choices=("short", "full"), default="short")
    ap.add_argument("--intensity", type=float, default=0.8)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--out", type=Path, default=Path("/tmp/vitaphone-bench"))
    ap.add_argument("--json", type=Path, help="also write all rows here")
    args = ap.parse_args()

    rows: list[dict] = []
    if args.real:
        for mp4 in sorted((SHARED / "video").glob("real_talking_*.mp4")):
            rows.append(evaluate_video(mp4) | {"video": f"REAL {mp4.name}"})
    if args.video:
        rows.append(evaluate_video(args.video, args.timings, args.portrait, speed_json=args.speed))
    if args.render:
        args.out.mkdir(parents=True, exist_ok=True)
        text = FULL_QUOTE if args.quote == "full" else SHORT_QUOTE
        portraits = sorted(p for p in args.portraits.iterdir() if p.suffix.lower() in
                           (".jpg", ".jpeg", ".png", ".webp"))
        for portrait in portraits:
            for emotion in args.emotions.split(","):
                print(f"rendering {portrait.name} {emotion} ...", file=sys.stderr)
                rows.append(render_and_evaluate(portrait, emotion, text, args.out, args.device,
                                                args.intensity))
    if args.judge_dir:
        rows.extend(judge_rendered(args.judge_dir, args.portraits))
    if not rows:
        ap.error("nothing to judge: give --real, --video, --render or --judge-dir")
    print_table(rows)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))


if __name__ == "__main__":
    main()
