"""The Redis backend: arq carries job ids to `vitaphone worker` processes on any host.

Only the job id travels (`_job_id=job_id`, so enqueueing twice is a no-op while arq holds it);
inputs come from SQL and the blob store. The worker runs `render_job`; the sweeper (an arq cron
job on its own small queue, so it never waits behind renders) re-delivers what Redis lost.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from vitaphone.queue.base import SqlQueue

if TYPE_CHECKING:
    from arq.connections import ArqRedis, RedisSettings

    from vitaphone.config import Settings
    from vitaphone.studio import Studio

RENDER_FUNCTION = "render_job"


def redis_settings(url: str, *, patient: bool = True) -> RedisSettings:
    """arq's settings for `url`. `patient`: commands retry with back-off for about 15 s, so a
    Redis restart does not take a worker or a bot down; otherwise fail fast (start-up checks)."""
    from arq.connections import RedisSettings
    from redis.asyncio.retry import Retry
    from redis.backoff import ExponentialBackoff
    from redis.exceptions import ConnectionError, TimeoutError

    base = RedisSettings.from_dsn(url)
    if not patient:
        base.conn_retries, base.conn_timeout = 0, 2
        return base
    base.conn_retries, base.conn_retry_delay = 10, 1
    base.retry_on_error = [ConnectionError, TimeoutError, ConnectionRefusedError, OSError]
    base.retry = Retry(ExponentialBackoff(cap=1.0, base=0.05), retries=30)
    return base


def sweeper_queue(name: str) -> str:
    return f"{name}:maintenance"


class ArqQueue(SqlQueue):
    kind = "arq"

    def __init__(self, settings: Settings, studio: Studio, pool: ArqRedis) -> None:
        super().__init__(studio)
        self.settings, self.pool = settings, pool
        self.queue_name = settings.queue.name

    @classmethod
    async def connect(cls, settings: Settings, studio: Studio) -> ArqQueue:
        from arq.connections import create_pool

        assert settings.redis_url is not None
        pool = await create_pool(redis_settings(settings.redis_url),
                                 default_queue_name=settings.queue.name)
        return cls(settings, studio, pool)

    async def enqueue(self, job_id: str) -> None:
        await self.pool.enqueue_job(RENDER_FUNCTION, job_id, _job_id=job_id,
                                    _queue_name=self.queue_name)

    async def redeliver(self, job_id: str, force: bool) -> None:
        """Hand the job out again. `force`: its worker died holding it, so drop arq's
        in-progress mark (the entry still in the queue becomes pickable) and make sure it is
        queued."""
        from arq.constants import in_progress_key_prefix, job_key_prefix
        from arq.utils import timestamp_ms

        if force:
            await self.pool.delete(in_progress_key_prefix + job_id)
        job = await self.pool.enqueue_job(RENDER_FUNCTION, job_id, _job_id=job_id,
                                          _queue_name=self.queue_name)
        if job is None and force and await self.pool.exists(job_key_prefix + job_id):
            await self.pool.zadd(self.queue_name, {job_id: timestamp_ms()}, nx=True)

    async def known(self, job_ids: list[str]) -> set[str]:
        """Which of these job ids arq still holds (queued, deferred or running)."""
        from arq.constants import job_key_prefix

        async with self.pool.pipeline(transaction=False) as pipe:
            for job_id in job_ids:
                pipe.exists(job_key_prefix + job_id)
            found = await pipe.execute()
        return {job_id for job_id, n in zip(job_ids, found, strict=True) if n}

    async def redis_length(self) -> int:
        return int(await self.pool.zcard(self.queue_name))

    async def aclose(self) -> None:
        await self.pool.aclose()
