"""Bot targets, measured through the real python-telegram-bot against the fake Bot API server.

    python3 bench/bots.py [--runs 3]

  first reply     photo + quote sent -> the consent question arrives (download, decode, face)
                  target <= 1 s
  bad photo       a photo without a face -> the refusal arrives; target <= 3 s
  consent->posted a ~10 s quote: Confirm pressed -> the video is posted, on the embedded default
                  (in-process queue, CPU); target <= 10 s
  RSS             the bot process after answering a request, before any render (what a bots-only
                  host holds; run in a fresh interpreter); target <= 150 MB

Prints one line per measurement (median of --runs) and a JSON summary.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "bots"))
PORTRAIT = ROOT / "tests" / "assets" / "portraits" / "einstein.jpg"
TEN_SECOND_QUOTE = ("Imagination is more important than knowledge. For knowledge is limited to "
                    "all we now know and understand, while imagination embraces the entire world.")


def _blank_jpeg() -> bytes:
    import io

    import numpy as np
    from PIL import Image

    ramp = np.linspace(120, 230, 320, dtype=np.uint8)[:, None].repeat(240, axis=1)
    buf = io.BytesIO()
    Image.fromarray(np.stack([ramp // 2, ramp - 40, ramp], axis=-1)).save(buf, "JPEG")
    return buf.getvalue()


async def _session(runs: int) -> dict[str, list[float]]:
    from conftest import close_stack, open_stack, start_telegram, stop_telegram
    from fake_telegram import FakeTelegram

    times: dict[str, list[float]] = {"first_reply_s": [], "bad_photo_s": [],
                                     "consent_to_posted_s": [], "video_s": []}
    fake = await FakeTelegram().start()
    stack = await open_stack(device="cpu")
    app = await start_telegram(stack, fake)
    try:
        for run in range(runs):
            uid = 1000 + run
            user, chat = fake.user(uid), fake.chat(uid)
            t0 = time.perf_counter()
            fake.push(fake.message(user, chat, photo=PORTRAIT.read_bytes(),
                                   caption=TEN_SECOND_QUOTE))
            ask = await fake.wait_for_text(uid, "who is in the portrait?", 30)
            times["first_reply_s"].append(time.perf_counter() - t0)
            fake.press(user, ask, "A public-domain")
            fake.press(user, await fake.wait_for_text(uid, "You agree:"), "I understand")
            ready = await fake.wait_for_text(uid, "Make the video?")
            t0 = time.perf_counter()
            fake.press(user, ready, "Confirm")
            video = await fake.wait_for(lambda: next(
                (m for m in fake.sent_to(uid) if m.video), None), 300, "the video")
            times["consent_to_posted_s"].append(time.perf_counter() - t0)
            times["video_s"].append(_duration(video.video))

            t0 = time.perf_counter()
            bad_uid = 5000 + run
            fake.push(fake.message(fake.user(bad_uid), fake.chat(bad_uid), photo=_blank_jpeg(),
                                   caption="Hello."))
            await fake.wait_for_text(bad_uid, "No face", 30)
            times["bad_photo_s"].append(time.perf_counter() - t0)
    finally:
        await stop_telegram(app)
        await close_stack(stack)
        await fake.close()
    return times


def _duration(data: bytes) -> float:
    import av

    with tempfile.NamedTemporaryFile(suffix=".mp4") as tmp:
        tmp.write(data)
        tmp.flush()
        with av.open(tmp.name) as container:
            return float(container.duration or 0) / 1e6


_RSS_SCRIPT = """
import asyncio, sys, time
sys.path.insert(0, sys.argv[1])
async def main():
    from conftest import close_stack, open_stack, start_telegram, stop_telegram, PORTRAIT
    from fake_telegram import FakeTelegram
    fake = await FakeTelegram().start()
    stack = await open_stack(device="cpu")
    app = await start_telegram(stack, fake)
    user, chat = fake.user(42), fake.chat(42)
    fake.push(fake.message(user, chat, photo=PORTRAIT.read_bytes(), caption="Hello there."))
    await fake.wait_for_text(42, "who is in the portrait?", 30)
    rss = [l for l in open("/proc/self/status") if l.startswith("VmRSS")][0].split()[1]
    torch = any(m.split(".")[0] == "torch" for m in sys.modules)
    print(int(rss) / 1024, torch)
    await stop_telegram(app); await close_stack(stack); await fake.close()
asyncio.run(main())
"""


def _rss_mb() -> tuple[float, bool]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("VITAPHONE_")}
    with tempfile.TemporaryDirectory() as tmp:
        env["VITAPHONE_DATA_DIR"] = tmp
        env["VITAPHONE_ENV_FILE"] = str(Path(tmp) / "absent.env")
        out = subprocess.run([sys.executable, "-c", _RSS_SCRIPT, str(ROOT / "tests" / "bots")],
                             capture_output=True, text=True, env=env, cwd=ROOT, timeout=300)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    rss, torch = out.stdout.split()[-2:]
    return float(rss), torch == "True"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        for key in [k for k in os.environ if k.startswith("VITAPHONE_")]:
            del os.environ[key]
        os.environ["VITAPHONE_DATA_DIR"] = tmp
        os.environ["VITAPHONE_ENV_FILE"] = str(Path(tmp) / "absent.env")
        times = asyncio.run(_session(args.runs))
    rss, torch = _rss_mb()
    targets = {"first_reply_s": 1.0, "bad_photo_s": 3.0, "consent_to_posted_s": 10.0}
    summary = {k: round(statistics.median(v), 2) for k, v in times.items()}
    summary.update(rss_mb=round(rss, 1), torch_imported=torch)
    for key, target in targets.items():
        ok = "ok" if summary[key] <= target else "MISSED"
        print(f"{key:22s} {summary[key]:6.2f} s   target <= {target:g} s  {ok}   runs: "
              + ", ".join(f"{t:.2f}" for t in times[key]))
    print(f"{'video length':22s} {summary['video_s']:6.2f} s")
    print(f"{'bot RSS':22s} {rss:6.1f} MB  target <= 150 MB  "
          f"{'ok' if rss <= 150 else 'MISSED'}  (torch imported: {torch})")
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
