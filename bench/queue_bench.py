"""The job queue end to end: overhead (submit -> a worker starts the job) and throughput.

    python3 bench/queue_bench.py overhead --backend inprocess --jobs 40
    python3 bench/queue_bench.py overhead --backend redis --jobs 40          # starts a worker
    python3 bench/queue_bench.py throughput --backend redis --workers 1,2 --clip-s 10 --clips 6
    # on a GPU host (no Redis there: the in-process pool, K jobs at once in one process)
    python3 bench/queue_bench.py throughput --backend inprocess --device cuda --concurrency 1,2,4,8,16 \
        --clips 64 --clip-s 15 --max-side 512

Every job is the product's whole path: a job row in SQL, the queue, `Studio.run` (TTS, face,
motion, render, marks, encode, sign), the blob store and the provenance row. Overhead is timed
from just before `enqueue` to the job's `queued -> running` claim in SQL, one job at a time on
an idle worker. Throughput submits all clips at once and times the first enqueue to the last
`done`; host CPU-seconds are user+system of every process doing jobs (the workers, or this
process for the in-process pool), all threads included. One warm-up clip per worker slot is not
counted. Needs the media extra, flite/espeak-ng and, for `--backend redis`, a Redis server
(`--redis-url`); the database defaults to a fresh SQLite file (`--database-url` for PostgreSQL).
"""

from __future__ import annotations

import sys
from pathlib import Path


import argparse
import asyncio
import os
import resource
import secrets
import statistics
import subprocess
import tempfile
import time
from datetime import UTC, datetime

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PORTRAIT = ROOT / "tests" / "assets" / "portraits" / "woman_in_black_standing.jpg"  # 512 x 512
PASSAGE = (
    "Our age is proud of the progress it has made in the development of the mind. The search "
    "and striving for truth and knowledge is one of the highest of our qualities, though often "
    "the pride is most loudly voiced by those who strive the least. And certainly we should "
    "take care not to make the intellect our god; it has, of course, powerful muscles, but no "
    "personality. It cannot lead, it can only serve; and it is not fastidious in its choice."
).split()
WORDS_PER_S = 3.4  # the default base voice, measured: 26 words gave 7.6 s


def quote_for(clip_s: float) -> str:
    words = max(1, round(clip_s * WORDS_PER_S))
    return " ".join((PASSAGE * 4)[:words]).rstrip(",;") + "."


def bench_env(args: argparse.Namespace, data_dir: Path) -> dict[str, str]:
    env = {"VITAPHONE_DATA_DIR": str(data_dir), "VITAPHONE_DEVICE": args.device,
           "VITAPHONE_DATABASE_URL": args.database_url
           or f"sqlite+aiosqlite:///{data_dir / 'vitaphone.db'}",
           "VITAPHONE_QUEUE__NAME": f"vitaphone-bench-{secrets.token_hex(3)}",
           "VITAPHONE_LIMITS__MAX_QUOTE_CHARS": "2000",
           "VITAPHONE_LIMITS__USER_JOBS_PER_HOUR": "100000",
           "VITAPHONE_LIMITS__CHAT_JOBS_PER_HOUR": "100000",
           "VITAPHONE_ENV_FILE": "/nonexistent.env"}
    if args.backend == "redis":
        env["VITAPHONE_REDIS_URL"] = args.redis_url
    return env


async def _setup(env: dict[str, str]):
    os.environ.update(env)
    from vitaphone.config import load_settings
    from vitaphone.storage.migrate import upgrade_database_async
    from vitaphone.studio import Studio

    settings = load_settings(env_file=None)
    await upgrade_database_async(settings.database_url)
    return settings, Studio(settings)


async def _submit(studio, text: str, max_side: int, device: str) -> str:
    from vitaphone.consent import ConsentBasis
    from vitaphone.core.pipeline import AnimateInputs, AnimateOptions
    from vitaphone.studio import Requester

    submitted = await studio.submit(
        AnimateInputs(portrait=PORTRAIT.read_bytes(), portrait_name=PORTRAIT.name, text=text),
        AnimateOptions(device=device, max_side=max_side), ConsentBasis.PUBLIC_DOMAIN_HISTORICAL,
        Requester(platform="cli", user_id=f"bench-{secrets.token_hex(4)}"))
    return submitted.job_id


async def _wait_done(queue, job_ids: list[str], poll_s: float = 0.02) -> None:
    """Until every job is `done` (one query per poll, so waiting costs this process little)."""
    from sqlalchemy import select

    from vitaphone.storage.models import Job

    pending = set(job_ids)
    while pending:
        async with queue.sessions() as session:
            rows = (await session.execute(select(Job.id, Job.state, Job.error_message)
                                          .where(Job.id.in_(pending)))).all()
        for job_id, state, error in rows:
            if state.is_final:
                if state.value != "done":
                    raise SystemExit(f"job {job_id} ended {state.value}: {error}")
                pending.discard(job_id)
        await asyncio.sleep(poll_s)


async def _claimed_at(studio, job_id: str) -> datetime:
    from vitaphone.storage import records
    from vitaphone.storage.states import JobState

    async with studio.sessions() as session:
        for t in await records.job_transitions(session, job_id):
            if t.from_state is JobState.QUEUED and t.to_state is JobState.RUNNING:
                return t.at
    raise LookupError(job_id)


def _proc_cpu_s(pid: int) -> float:
    """user + system seconds of a live process, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _self_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Fleet:
    """Whoever runs the jobs: the in-process pool here, or `vitaphone worker` processes."""

    def __init__(self, args, env, settings, studio, workers: int, concurrency: int) -> None:
        self.args, self.env, self.settings, self.studio = args, env, settings, studio
        self.workers, self.concurrency = workers, concurrency
        self.procs: list[subprocess.Popen] = []
        self.queue = None

    async def __aenter__(self) -> Fleet:
        from vitaphone.queue.worker import warm_engines

        if self.args.backend == "inprocess":
            from vitaphone.queue.inprocess import InProcessQueue

            await asyncio.to_thread(warm_engines, self.settings, self.concurrency)
            self.queue = await InProcessQueue(self.settings, self.studio,
                                              concurrency=self.concurrency).start()
            return self
        from vitaphone.queue.arq_queue import ArqQueue
        from vitaphone.storage import leases

        cores = os.sched_getaffinity(0)
        per = sorted(cores)
        for i in range(self.workers):
            # Pin each worker to its share of the cores (docs/operations.md).
            mine = per[i * len(per) // self.workers:(i + 1) * len(per) // self.workers] or per
            self.procs.append(subprocess.Popen(
                ["taskset", "-c", ",".join(map(str, mine)), sys.executable, "-m", "vitaphone",
                 "worker", "--device", self.args.device, "--concurrency",
                 str(self.concurrency)], env={**os.environ, **self.env},
                stdout=subprocess.DEVNULL, stderr=open(self.args.log, "ab")))  # noqa: SIM115
        self.queue = await ArqQueue.connect(self.settings, self.studio)
        deadline = time.monotonic() + 180
        while True:  # workers register after warming their engines
            async with self.studio.sessions() as session:
                live = await leases.live_workers(session, within_s=10)
            if len([w for w in live if w.kind == "arq"]) >= self.workers:
                return self
            if time.monotonic() > deadline or any(p.poll() is not None for p in self.procs):
                raise SystemExit(f"workers did not start; see {self.args.log}")
            await asyncio.sleep(0.2)

    def cpu_s(self) -> float:
        if self.args.backend == "inprocess":
            return _self_cpu_s()
        return sum(_proc_cpu_s(p.pid) for p in self.procs) + _self_cpu_s()

    async def __aexit__(self, *exc) -> None:
        for proc in self.procs:
            proc.terminate()
        for proc in self.procs:
            proc.wait(60)
        await self.queue.aclose()


async def overhead(args) -> None:
    data_dir = Path(tempfile.mkdtemp(prefix="vitaphone-bench-"))
    env = bench_env(args, data_dir)
    settings, studio = await _setup(env)
    async with Fleet(args, env, settings, studio, 1, 1) as fleet:
        delays_ms = []
        for i in range(args.jobs + 1):
            job_id = await _submit(studio, "Hi.", args.max_side, args.device)
            await asyncio.sleep(0.05)  # an idle worker, as when a request arrives
            sent = datetime.now(UTC)
            await fleet.queue.enqueue(job_id)
            await _wait_done(fleet.queue, [job_id])
            if i:  # the first one warms the path
                delays_ms.append((await _claimed_at(studio, job_id) - sent).total_seconds() * 1e3)
    await studio.aclose()
    delays_ms.sort()
    p95 = delays_ms[min(len(delays_ms) - 1, int(round(0.95 * len(delays_ms))) - 1)]
    print(f"| backend | jobs | median ms | p95 ms | max ms |\n|---|---|---|---|---|\n"
          f"| {args.backend} | {len(delays_ms)} | {statistics.median(delays_ms):.1f} | "
          f"{p95:.1f} | {delays_ms[-1]:.1f} |")


async def throughput(args) -> None:
    rows = []
    text = quote_for(args.clip_s)
    for workers in args.workers:
        for concurrency in args.concurrency:
            data_dir = Path(tempfile.mkdtemp(prefix="vitaphone-bench-"))
            env = bench_env(args, data_dir)
            settings, studio = await _setup(env)
            slots = workers * concurrency
            async with Fleet(args, env, settings, studio, workers, concurrency) as fleet:
                warm = [await _submit(studio, text, args.max_side, args.device)
                        for _ in range(slots)]
                for job_id in warm:
                    await fleet.queue.enqueue(job_id)
                await _wait_done(fleet.queue, warm, poll_s=0.2)
                job_ids = [await _submit(studio, text, args.max_side, args.device)
                           for _ in range(args.clips)]
                cpu0, t0 = fleet.cpu_s(), time.perf_counter()
                for job_id in job_ids:
                    await fleet.queue.enqueue(job_id)
                await _wait_done(fleet.queue, job_ids, poll_s=0.2)
                wall, cpu = time.perf_counter() - t0, fleet.cpu_s() - cpu0
                result = await fleet.queue.result(job_ids[0])
            await studio.aclose()
            rows.append((workers, concurrency, result.duration_s, wall, args.clips / wall * 60,
                         cpu / args.clips, args.clips * result.duration_s / wall))
            print(f"  {workers} worker(s) x {concurrency}: {rows[-1][4]:.1f} clips/min",
                  file=sys.stderr)
    print(f"\n{args.backend} backend, device {args.device}, clips of {rows[0][2]:.1f} s at "
          f"max side {args.max_side} px, {args.clips} clips per row, "
          f"{len(os.sched_getaffinity(0))} cores\n")
    print("| workers | jobs at once each | wall s | clips/min | host CPU-s/clip | x real time |")
    print("|---|---|---|---|---|---|")
    for workers, concurrency, _d, wall, per_min, cpu, realtime in rows:
        print(f"| {workers} | {concurrency} | {wall:.1f} | {per_min:.1f} | {cpu:.2f} | "
              f"{realtime:.2f} |")


def _ints(text: str) -> list[int]:
    return [int(x) for x in text.split(",") if x.strip()]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", choices=["overhead", "throughput"])
    parser.add_argument("--backend", choices=["inprocess", "redis"], default="inprocess")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or auto")
    parser.add_argument("--jobs", type=int, default=40, help="overhead: jobs timed")
    parser.add_argument("--clips", type=int, default=6, help="throughput: clips per row")
    parser.add_argument("--clip-s", type=float, default=10.0, help="throughput: clip length")
    parser.add_argument("--max-side", type=int, default=512, help="output's longer side, px")
    parser.add_argument("--workers", type=_ints, default=[1],
                        help="worker processes, e.g. 1,2 (redis backend)")
    parser.add_argument("--concurrency", type=_ints, default=[1],
                        help="jobs at once per worker or pool, e.g. 1,2,4,8,16")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/0")
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--log", default=str(Path(tempfile.gettempdir()) / "vitaphone-bench.log"))
    args = parser.parse_args()
    if args.backend == "inprocess" and args.workers != [1]:
        parser.error("--workers is for --backend redis (the in-process pool is one process)")
    asyncio.run(overhead(args) if args.what == "overhead" else throughput(args))


if __name__ == "__main__":
    main()
