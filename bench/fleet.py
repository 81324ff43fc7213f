"""Throughput of one worker host: clips per minute and host CPU-seconds per clip.

A host runs P worker processes with K jobs in flight each (`vitaphone worker --concurrency K`);
every job renders on the device and marks, encodes and signs on the host's cores. This times
that steady state on cached inputs (speech and face meshes made by `bench/speed.py prepare`), so
it runs on the GPU machine, which has no TTS or face-model runtime:

    python3 bench/speed.py prepare --out out/bench-cache          # here
    python3 bench/fleet.py --cache out/bench-cache --device cuda \
        --sweep 1x1,1x2,1x4,2x4,4x4,8x2 --clips 48               # on the GPU host

PxK: P processes, K concurrent jobs each. Each job is the product's path
(`pipeline.render_and_finish`: render batches here, marks and encode on worker threads, sign).
CPU-seconds are getrusage of every process (user + system, all threads), so they include x264,
the watermark pool, torch's host threads and Python. The first clip of every job slot is a
warm-up and is not counted.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import resource
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _speed():
    """bench/speed.py, loaded by path (bench/ is not a package)."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("bench_speed", ROOT / "bench" / "speed.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module


def _process(cache: str, device: str, max_side: int, slots: int, clips: int, preset: str,
             cores: list[int], gpu: int | None, ready, start, counter, results) -> None:
    """One worker process: `slots` threads each render clips until the shared counter runs out.
    Pinned to `cores` (and to one GPU), as docs/operations.md says to run workers on a host."""
    os.sched_setaffinity(0, cores)
    if gpu is not None:  # before torch initialises CUDA
        os.environ["CUDA_VISIBLE_DEVICES"] = str(gpu)
    import torch

    speed = _speed()
    PORTRAITS, _load = speed.PORTRAITS, speed._load  # noqa: N806
    from vitaphone.core.marking.c2pa_credentials import SigningCredentials, create_chain
    from vitaphone.core.motion.options import MotionOptions
    from vitaphone.core.motion.track import plan_motion
    from vitaphone.core.render.types import RenderOptions
    from vitaphone.core.host_threads import configure_host_threads

    configure_host_threads(slots, device=device)
    root, chain, key = create_chain()
    credentials = SigningCredentials(chain, key, root)
    jobs = []
    for name in PORTRAITS:
        portrait, mesh, speech = _load(Path(cache), name)
        track = plan_motion(speech, MotionOptions(emotion="happy", intensity=0.6))
        jobs.append((portrait, mesh, track, speech))
    options = RenderOptions(device=device, max_side=max_side)
    out_dir = Path(tempfile.gettempdir()) / f"vitaphone-fleet-{os.getpid()}"
    out_dir.mkdir(exist_ok=True)

    steps: dict[str, float] = {}

    def one(slot: int, i: int) -> None:
        portrait, mesh, track, speech = jobs[i % len(jobs)]
        seconds = _finish(portrait, mesh, track, speech, options, credentials,
                          out_dir / f"slot{slot}.mp4", preset)
        for key, value in seconds.items():
            steps[key] = steps.get(key, 0.0) + value

    for slot in range(slots):  # warm-up: CUDA kernels, allocator, x264 start-up
        one(slot, slot)
    if device == "cuda":
        torch.cuda.synchronize()
    with ready.get_lock():
        ready.value += 1
    start.wait()
    usage0 = resource.getrusage(resource.RUSAGE_SELF)
    steps.clear()
    done = 0
    lock = threading.Lock()

    def loop(slot: int) -> None:
        nonlocal done
        while True:
            with counter.get_lock():
                if counter.value >= clips:
                    return
                counter.value += 1
                i = counter.value
            one(slot, i)
            with lock:
                done += 1

    threads = [threading.Thread(target=loop, args=(s,)) for s in range(slots)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    usage1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (usage1.ru_utime - usage0.ru_utime) + (usage1.ru_stime - usage0.ru_stime)
    results.put({"pid": os.getpid(), "done": done, "cpu": cpu, "end": time.time(),
                 "steps": steps})


def _finish(portrait, mesh, track, speech, options, credentials, out: Path,
            preset: str) -> dict:
    from vitaphone.core.marking.c2pa_credentials import ProvenanceAssertion
    from vitaphone.core.marking.marks import FinishOptions, start_finish
    from vitaphone.core.pipeline import render_and_finish
    from vitaphone.core.render.renderer import render_batches

    stream = render_batches(portrait, mesh, track, options)
    with start_finish(stream.format, speech.samples, speech.sample_rate_hz, out,
                      assertion=ProvenanceAssertion("0123456789abcdef", "self"),
                      credentials=credentials, version="bench",
                      options=FinishOptions(preset=preset)) as finish:
        _, seconds = render_and_finish(stream, finish, lambda stage, fraction: None)
    return seconds


def measure(cache: Path, device: str, max_side: int, processes: int, slots: int,
            clips: int, preset: str = "veryfast", gpus: int = 1) -> dict:
    ctx = mp.get_context("spawn")
    start = ctx.Event()
    counter, ready = ctx.Value("i", 0), ctx.Value("i", 0)
    results = ctx.Queue()
    cores = sorted(os.sched_getaffinity(0))
    share = max(1, len(cores) // processes)
    procs = [ctx.Process(target=_process, args=(
        str(cache), device, max_side, slots, clips, preset,
        cores[(i * share) % len(cores):(i * share) % len(cores) + share],
        # Process i on GPU i * gpus // processes: each GPU gets a contiguous block of cores.
        (i * gpus // processes) if device == "cuda" else None,
        ready, start, counter, results)) for i in range(processes)]
    for p in procs:
        p.start()
    while ready.value < processes:  # every process warms up before the clock starts
        if not all(p.is_alive() for p in procs):
            raise SystemExit("a worker process died while warming up")
        time.sleep(0.1)
    t0 = time.time()
    start.set()
    rows = [results.get() for _ in procs]
    for p in procs:
        p.join()
    wall = max(r["end"] for r in rows) - t0
    done = sum(r["done"] for r in rows)
    cpu = sum(r["cpu"] for r in rows)
    steps: dict[str, float] = {}
    for r in rows:
        for key, value in r["steps"].items():
            steps[key] = steps.get(key, 0.0) + value / max(done, 1)
    return {"preset": preset, "gpus": gpus, "steps_s_per_clip": {k: round(v, 3) for k, v in sorted(steps.items())},"device": device, "processes": processes, "slots": slots,
            "concurrency": processes * slots, "clips": done, "wall_s": round(wall, 2),
            "clips_per_min": round(60 * done / wall, 1),
            "cpu_s_per_clip": round(cpu / max(done, 1), 2),
            "cores_busy": round(cpu / wall, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path("out/bench-cache"))
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--max-side", type=int, default=512)
    parser.add_argument("--sweep", default="1x1", help="comma-separated PxK")
    parser.add_argument("--clips", type=int, default=8, help="timed clips per configuration")
    parser.add_argument("--gpus", type=int, default=1, help="GPUs on the host (CUDA only)")
    parser.add_argument("--preset", default="veryfast", help="x264 preset (the product's: veryfast)")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    rows = []
    print(f"{'PxK':>6} {'conc':>5} {'clips':>5} {'wall s':>7} {'clips/min':>9} "
          f"{'CPU s/clip':>10} {'cores busy':>10}", flush=True)
    for spec in args.sweep.split(","):
        p, k = (int(v) for v in spec.lower().split("x"))
        row = measure(args.cache, args.device, args.max_side, p, k, args.clips, args.preset,
                      args.gpus)
        rows.append(row)
        print(f"{spec:>6} {row['concurrency']:>5} {row['clips']:>5} {row['wall_s']:>7} "
              f"{row['clips_per_min']:>9} {row['cpu_s_per_clip']:>10} {row['cores_busy']:>10}",
              flush=True)
        print("        busy s per clip: " + ", ".join(
            f"{k} {v}" for k, v in row["steps_s_per_clip"].items()), flush=True)
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))


if __name__ == "__main__":
    main()
