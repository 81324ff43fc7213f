"""The job queue: one API (`JobQueue`, in `api.py`) over two backends.

    queue = await open_queue(settings, studio)   # arq on Redis if VITAPHONE_REDIS_URL is set,
                                                  # else the in-process pool (started, resumed)
    await queue.enqueue(job_id)
    async for status in queue.watch(job_id): ...
    result = await queue.result(job_id)
    await queue.aclose()

`vitaphone worker` (queue/worker.py) runs the Redis backend's jobs. Heavy modules load lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vitaphone.queue.api import STAGES, JobQueue, JobResult, JobStatus

if TYPE_CHECKING:
    from vitaphone.config import Settings
    from vitaphone.studio import Studio


async def open_queue(settings: Settings, studio: Studio, *,
                     concurrency: int | None = None) -> JobQueue:
    """The configured backend, ready to take jobs. The in-process one starts its pool here
    (`concurrency` jobs at once, default `VITAPHONE_QUEUE__CONCURRENCY`) and resumes every job
    SQL says is `queued` or was left `running` by a process that is gone."""
    if settings.redis_url:
        from vitaphone.queue.arq_queue import ArqQueue

        return await ArqQueue.connect(settings, studio)
    from vitaphone.queue.inprocess import InProcessQueue

    return await InProcessQueue(settings, studio, concurrency=concurrency).start()


__all__ = ["STAGES", "JobQueue", "JobResult", "JobStatus", "open_queue"]
