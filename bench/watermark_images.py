"""Draw what the watermark does to a picture, before (session 1's uniform mark) and after
(masked): docs/watermark_difference.png and docs/watermark_flat_crop.png.

    python3 bench/watermark_images.py [--before-rev d734b4f]

The "before" mark is session 1's watermark.py, loaded from git at `--before-rev`.
"""

from __future__ import annotations

import sys
from pathlib import Path

# bench/ holds a queue.py that would shadow the standard library's (ThreadPoolExecutor uses it).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import argparse
import importlib.util
import subprocess
import tempfile

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.core.marking.clips import ASSETS, flat_background_portrait  # noqa: E402
from vitaphone.core.marking.watermark import embed_watermark, psnr_db  # noqa: E402

PAYLOAD = "5ca1ab1edeadbeef"


def old_embedder(rev: str):
    source = subprocess.run(["git", "show", f"{rev}:vitaphone/core/marking/watermark.py"],
                            cwd=ROOT, check=True, capture_output=True, text=True).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "watermark_before.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("watermark_before", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["watermark_before"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module.embed_watermark


def luma(rgb: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)


def amplified(source: np.ndarray, marked: np.ndarray, gain: float = 16.0) -> np.ndarray:
    """Signed luma change x gain around mid grey, as an RGB image."""
    diff = np.clip(128 + gain * (luma(marked) - luma(source)), 0, 255).astype(np.uint8)
    return cv2.cvtColor(diff, cv2.COLOR_GRAY2RGB)


def stretched(crop: np.ndarray, centre: float, gain: float = 8.0) -> np.ndarray:
    """Contrast x gain around `centre`, so a change of a grey level or two becomes visible."""
    return np.clip(128 + gain * (crop.astype(np.float32) - centre), 0, 255).astype(np.uint8)


def caption(image: np.ndarray, text: str) -> np.ndarray:
    out = np.full((image.shape[0] + 28, image.shape[1], 3), 255, np.uint8)
    out[28:] = image
    cv2.putText(out, text, (6, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    return out


def row(images: list[np.ndarray]) -> np.ndarray:
    gap = np.full((images[0].shape[0], 8, 3), 255, np.uint8)
    parts = []
    for image in images:
        parts += [image, gap]
    return np.hstack(parts[:-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before-rev", default="d734b4f")
    args = parser.parse_args()
    before = old_embedder(args.before_rev)
    flat = flat_background_portrait(512)
    paint = cv2.cvtColor(cv2.imread(str(ASSETS / "portraits" / "einstein.jpg")), cv2.COLOR_BGR2RGB)
    side = min(paint.shape[:2])
    paint = cv2.resize(paint[:side, :side], (512, 512), interpolation=cv2.INTER_AREA)
    rows = []
    for name, source in (("face on a flat backdrop", flat), ("einstein.jpg", paint)):
        old = before(source[None], PAYLOAD)[0]
        new = embed_watermark(source[None], PAYLOAD)[0]
        rows.append(row([
            caption(source, f"{name}: source"),
            caption(amplified(source, old), f"before: change x16, {psnr_db(source, old):.1f} dB"),
            caption(amplified(source, new), f"after: change x16, {psnr_db(source, new):.1f} dB"),
        ]))  # fmt: skip
    cv2.imwrite(str(ROOT / "docs" / "watermark_difference.png"),
                cv2.cvtColor(np.vstack(rows), cv2.COLOR_RGB2BGR))  # fmt: skip
    # The backdrop beside the face, 3x enlarged, contrast x8 around the backdrop's grey.
    y0, x0, size = 150, 0, 128
    old = before(flat[None], PAYLOAD)[0]
    new = embed_watermark(flat[None], PAYLOAD)[0]
    centre = float(luma(flat)[y0 : y0 + size, x0 : x0 + 40].mean())
    crops = []
    for label, image in (("source", flat), ("before", old), ("after", new)):
        crop = luma(image)[y0 : y0 + size, x0 : x0 + size]
        big = cv2.resize(stretched(crop, centre), (3 * size, 3 * size),
                         interpolation=cv2.INTER_NEAREST)  # fmt: skip
        crops.append(caption(cv2.cvtColor(big, cv2.COLOR_GRAY2RGB),
                             f"{label}: backdrop, contrast x8"))  # fmt: skip
    cv2.imwrite(str(ROOT / "docs" / "watermark_flat_crop.png"),
                cv2.cvtColor(row(crops), cv2.COLOR_RGB2BGR))  # fmt: skip
    print("wrote docs/watermark_difference.png and docs/watermark_flat_crop.png")


if __name__ == "__main__":
    main()
