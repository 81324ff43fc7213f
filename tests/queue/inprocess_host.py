"""A process hosting the in-process queue (as a bot would): opens it (which resumes what SQL
says is queued or left running), enqueues the job ids given, and exits once all are final."""

from __future__ import annotations

import asyncio
import sys


async def main(job_ids: list[str]) -> None:
    from vitaphone.config import load_settings
    from vitaphone.queue import open_queue
    from vitaphone.studio import Studio

    settings = load_settings()
    studio = Studio(settings)
    queue = await open_queue(settings, studio)
    try:
        for job_id in job_ids:
            await queue.enqueue(job_id)
        for job_id in job_ids:
            async for status in queue.watch(job_id, interval_s=0.2):
                print(job_id, status.state.value, status.stage, flush=True)
    finally:
        await queue.aclose()
        await studio.aclose()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1:]))
