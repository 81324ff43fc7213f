"""A `vitaphone worker` process: arq workers on Redis that render job ids, sharing one set of
warm engines, with heartbeats in SQL and the sweeper as an arq cron job.

    start-up: reach SQL and Redis (one line and exit 1 if not) -> split the cores between the
              K concurrent jobs -> warm the engines with a tiny render -> register in `workers`
    serve:    arq worker on `<queue>` (K jobs at once, pipelines on threads) + arq worker on
              `<queue>:maintenance` (the sweeper cron) + a 1 s worker heartbeat
    SIGTERM:  stop taking jobs; running ones get `drain_s` to finish, then go back to the queue
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from vitaphone.config import Settings, mask_url

log = logging.getLogger("vitaphone.worker")
WORKER_BEAT_S = 1.0
HEALTH_CHECK_S = 5


class StartupError(Exception):
    """Why a worker cannot start, in one line."""


@dataclass(frozen=True)
class WorkerOptions:
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    concurrency: int | None = None  # default: settings.queue.concurrency
    warm: bool = True


def apply_device(settings: Settings, device: str) -> Settings:
    """`cuda:N` pins this process to GPU N (CUDA_VISIBLE_DEVICES, before torch loads)."""
    if device.startswith("cuda:"):
        index = device.split(":", 1)[1]
        if not index.isdigit():
            raise StartupError(f"--device {device}: expected cuda:N with N a GPU number")
        os.environ["CUDA_VISIBLE_DEVICES"] = index
        device = "cuda"
    if device not in ("auto", "cpu", "cuda"):
        raise StartupError(f"--device {device}: use cpu, cuda, cuda:N or auto")
    return settings.model_copy(update={"device": device})


async def check_reachable(settings: Settings, *, redis: bool = True) -> None:
    """Raise StartupError (one line) unless SQL (at the newest schema) and Redis answer."""
    from sqlalchemy import text

    from vitaphone.storage.engine import create_engine
    from vitaphone.storage.migrate import head_revision

    shown = mask_url(settings.database_url)
    engine = create_engine(settings.database_url)
    try:
        async with asyncio.timeout(10):
            async with engine.connect() as connection:
                await connection.execute(text("SELECT 1"))
                revision = (await connection.execute(
                    text("SELECT version_num FROM alembic_version"))).scalar_one_or_none()
    except Exception as exc:  # noqa: BLE001 - any failure to connect is the one line
        raise StartupError(f"cannot reach the database at {shown}: {_first_line(exc)}") from None
    finally:
        await engine.dispose()
    if revision != head_revision():
        raise StartupError(f"the database at {shown} is at schema {revision or 'none'}, not "
                           f"{head_revision()}: run `vitaphone db upgrade`")
    if not redis:
        return
    if settings.redis_url is None:
        raise StartupError("VITAPHONE_REDIS_URL is not set: a worker takes jobs from Redis "
                           "(without it, jobs run inside the process that accepts them)")
    from arq.connections import create_pool

    from vitaphone.queue.arq_queue import redis_settings

    try:
        async with asyncio.timeout(5):
            pool = await create_pool(redis_settings(settings.redis_url, patient=False))
            await pool.aclose()
    except Exception as exc:  # noqa: BLE001
        raise StartupError(f"cannot reach Redis at {mask_url(settings.redis_url)}: "
                           f"{_first_line(exc)}") from None


def _first_line(exc: BaseException) -> str:
    text = mask_url(str(exc)).strip().splitlines()
    return f"{type(exc).__name__}: {text[0][:200]}" if text else type(exc).__name__


def warm_engines(settings: Settings, concurrency: int) -> float:
    """Split the cores between jobs, then load every engine with a tiny render (no SQL, no
    blobs): the first real job pays no start-up. Returns the seconds it took."""
    from importlib.resources import files

    from vitaphone.core.host_threads import configure_host_threads
    from vitaphone.core.marking.c2pa_credentials import load_or_create_credentials
    from vitaphone.core.pipeline import AnimateInputs, AnimateOptions, Marking, animate

    started = time.perf_counter()
    from vitaphone.core.render.renderer import pick_device

    configure_host_threads(concurrency, device=pick_device(settings.device).type)
    portrait = files("vitaphone.assets").joinpath("einstein.jpg").read_bytes()
    credentials = load_or_create_credentials(
        settings.data_dir / "c2pa", cert_path=settings.c2pa_cert_path,
        key_path=settings.c2pa_key_path)
    with tempfile.TemporaryDirectory(prefix="vitaphone-warm-") as folder:
        animate(AnimateInputs(portrait=portrait, text="Hello."),
                AnimateOptions(device=settings.device),
                Marking("0" * 16, credentials, "public_domain_historical"),
                Path(folder) / "warm.mp4")
    return time.perf_counter() - started


async def serve(settings: Settings, options: WorkerOptions) -> None:
    """Run until SIGTERM/SIGINT. Raises StartupError before taking any job."""
    from arq.connections import create_pool
    from arq.cron import cron
    from arq.worker import Retry, Worker, func

    from vitaphone.queue.arq_queue import (
        RENDER_FUNCTION,
        ArqQueue,
        redis_settings,
        sweeper_queue,
    )
    from vitaphone.queue.runner import JobRunner, size_thread_pool
    from vitaphone.queue.sweeper import sweep
    from vitaphone.storage import leases
    from vitaphone.studio import Studio

    queue = settings.queue
    concurrency = options.concurrency or queue.concurrency
    await check_reachable(settings)
    size_thread_pool(concurrency)
    if options.warm:
        seconds = await asyncio.to_thread(warm_engines, settings, concurrency)
        log.info("engines warm in %.1f s (device %s, %d job(s) at once)", seconds,
                 settings.device, concurrency)
    studio = Studio(settings)
    worker_id = leases.new_worker_id("arq")
    runner = JobRunner(studio, worker_id, queue, settings.data_dir / "work")
    async with studio.sessions.begin() as session:
        await leases.register_worker(session, worker_id, device=settings.device,
                                     concurrency=concurrency)
    client = await ArqQueue.connect(settings, studio)

    async def render_job(ctx: dict[str, Any], job_id: str) -> str:
        outcome = await runner.run(job_id)
        log.info("job %s: %s", job_id, outcome.ending)
        if outcome.ending == "retry":
            raise Retry(defer=outcome.retry_in_s)
        return outcome.ending

    async def sweep_job(ctx: dict[str, Any]) -> None:
        await sweep(studio.sessions, queue, requeue=client.redeliver, known=client.known)

    render = Worker(
        functions=[func(render_job, name=RENDER_FUNCTION, max_tries=1_000_000,
                        keep_result=0, timeout=queue.job_timeout_s)],
        queue_name=queue.name, redis_pool=await create_pool(redis_settings(settings.redis_url)),
        max_jobs=concurrency, poll_delay=queue.poll_s, job_completion_wait=queue.drain_s,
        keep_result=0, health_check_interval=HEALTH_CHECK_S, retry_jobs=True,
        handle_signals=True)
    every = sorted({s % 60 for s in range(0, 60, min(queue.sweep_s, 60))})
    sweeper = Worker(
        functions=[], cron_jobs=[cron(sweep_job, name="vitaphone-sweeper", second=set(every),
                                      run_at_startup=True, unique=True, timeout=120)],
        queue_name=sweeper_queue(queue.name),
        redis_pool=await create_pool(redis_settings(settings.redis_url)),
        max_jobs=1, poll_delay=0.5, keep_result=0, handle_signals=False)
    stopping = asyncio.Event()
    beats = asyncio.create_task(_beat(studio, worker_id, stopping))
    sweeping = asyncio.create_task(sweeper.async_run())
    log.info("worker %s on queue %r: %d job(s) at once", worker_id, queue.name, concurrency)
    try:
        with contextlib.suppress(asyncio.CancelledError):
            await render.async_run()
    finally:
        await render.close()  # waits for the cancelled jobs to put themselves back
        stopping.set()  # a beat ends between transactions, never inside one
        await beats
        with contextlib.suppress(Exception):
            async with studio.sessions.begin() as session:
                await leases.worker_stopped(session, worker_id)
        sweeping.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sweeping
        # close() gathers the sweeper's tasks: a sweep cut short by the shutdown raises
        # CancelledError there, which must not turn a graceful stop into exit code 1.
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await sweeper.close()
        await client.aclose()
        await studio.aclose()
        log.info("worker %s stopped", worker_id)


async def _beat(studio: Any, worker_id: str, stopping: asyncio.Event) -> None:
    from vitaphone.storage import leases

    while not stopping.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stopping.wait(), WORKER_BEAT_S)
        if stopping.is_set():
            return
        try:
            async with studio.sessions.begin() as session:
                await leases.worker_beat(session, worker_id)
        except Exception as exc:  # noqa: BLE001 - the database may come back
            log.warning("worker heartbeat not recorded: %s", exc)


async def health(settings: Settings) -> tuple[bool, str]:
    """arq's health-check key for the queue (set by a live worker every few seconds)."""
    from arq.connections import create_pool

    from vitaphone.queue.arq_queue import redis_settings

    assert settings.redis_url is not None
    pool = await create_pool(redis_settings(settings.redis_url, patient=False))
    try:
        data = await pool.get(settings.queue.name + ":health-check")
    finally:
        await pool.aclose()
    if data is None:
        return False, f"no worker has reported on queue {settings.queue.name!r} lately"
    return True, data.decode() if isinstance(data, bytes) else str(data)


def run_forever(settings: Settings, options: WorkerOptions) -> None:
    """Blocking entry point; SIGTERM ends it gracefully once serving (arq's handlers)."""
    asyncio.run(serve(settings, options))


__all__ = ["StartupError", "WorkerOptions", "apply_device", "check_reachable",
           "health", "run_forever", "serve", "warm_engines"]
