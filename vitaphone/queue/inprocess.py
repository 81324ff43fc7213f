"""The in-process backend, the embedded default: a bounded pool of jobs inside the process that
accepted them (a bot, or `vitaphone animate --queue` without Redis).

Job ids wait in an asyncio queue; `concurrency` consumer tasks each run one job at a time, with
the pipeline on a thread so the event loop keeps answering. The sweeper runs at start (which
resumes every job SQL says is `queued`, and re-queues those a crashed process left `running`)
and then every `sweep_s` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from vitaphone.queue.base import SqlQueue
from vitaphone.queue.runner import JobRunner, size_thread_pool
from vitaphone.queue.sweeper import sweep
from vitaphone.storage import leases
from vitaphone.workspace import StopReason

if TYPE_CHECKING:
    from vitaphone.config import Settings
    from vitaphone.studio import Studio

log = logging.getLogger(__name__)
WORKER_BEAT_S = 1.0


class InProcessQueue(SqlQueue):
    kind = "inprocess"

    def __init__(self, settings: Settings, studio: Studio, *, concurrency: int | None = None,
                 work_root: Path | None = None) -> None:
        super().__init__(studio)
        self.settings = settings
        self.concurrency = concurrency or settings.queue.concurrency
        self.worker_id = leases.new_worker_id(self.kind)
        self.runner = JobRunner(studio, self.worker_id, settings.queue,
                                work_root or settings.data_dir / "work")
        self._pending: asyncio.Queue[str] = asyncio.Queue()
        self._known: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._closing = asyncio.Event()
        self._maintenance: asyncio.Task[None] | None = None

    async def start(self) -> InProcessQueue:
        size_thread_pool(self.concurrency)
        async with self.sessions.begin() as session:
            await leases.register_worker(session, self.worker_id, device=self.settings.device,
                                         concurrency=self.concurrency)
        await self.sweep()  # resume what a previous process left behind
        self._tasks = [asyncio.create_task(self._consume(), name=f"vitaphone-job-{i}")
                       for i in range(self.concurrency)]
        self._maintenance = asyncio.create_task(self._maintain(), name="vitaphone-sweeper")
        return self

    async def enqueue(self, job_id: str) -> None:
        if job_id not in self._known:
            self._known.add(job_id)
            self._pending.put_nowait(job_id)

    async def sweep(self):
        async def requeue(job_id: str, _force: bool) -> None:
            await self.enqueue(job_id)

        async def known(ids: list[str]) -> set[str]:
            return self._known.intersection(ids)

        return await sweep(self.sessions, self.settings.queue, requeue=requeue, known=known)

    def _stop_here(self, job_id: str) -> None:
        self.runner.stop(job_id, StopReason.CANCEL)

    async def _consume(self) -> None:
        while True:
            job_id = await self._pending.get()
            try:
                outcome = await self.runner.run(job_id)
            except Exception:  # noqa: BLE001 - one bad job must not stop the pool
                log.exception("job %s: runner crashed", job_id)
                self._known.discard(job_id)
                continue
            self._known.discard(job_id)
            if outcome.ending == "retry" and outcome.retry_in_s is not None:
                self._known.add(job_id)  # still ours: the sweeper must not hand it out twice
                asyncio.get_running_loop().call_later(outcome.retry_in_s, self._retry, job_id)

    def _retry(self, job_id: str) -> None:
        self._pending.put_nowait(job_id)  # still in _known since the failed run

    async def _maintain(self) -> None:
        loop = asyncio.get_running_loop()
        next_sweep = loop.time() + self.settings.queue.sweep_s
        while not self._closing.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), WORKER_BEAT_S)
            if self._closing.is_set():
                return
            try:
                async with self.sessions.begin() as session:
                    await leases.worker_beat(session, self.worker_id)
                if loop.time() >= next_sweep:
                    next_sweep = loop.time() + self.settings.queue.sweep_s
                    await self.sweep()
            except Exception as exc:  # noqa: BLE001 - the database may come back
                log.warning("in-process queue: maintenance skipped: %s", exc)

    async def aclose(self) -> None:
        """Stop: running jobs go back to the queue (a later start resumes them)."""
        self._closing.set()  # the sweeper ends between transactions, never inside one
        if self._maintenance is not None:
            await asyncio.shield(self._maintenance)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        with contextlib.suppress(Exception):
            async with self.sessions.begin() as session:
                await leases.worker_stopped(session, self.worker_id)
