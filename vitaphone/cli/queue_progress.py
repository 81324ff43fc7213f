"""`vitaphone animate --queue`: hand the job to the configured queue and wait, with rich
progress bars for the queue position and each stage; Ctrl-C cancels the job."""

from __future__ import annotations

import asyncio
import os
import tempfile
import time
from pathlib import Path

_WAITING = "Waiting in the queue"
_LABELS = {
    "portrait": "Finding the face", "speech": "Making speech", "motion": "Planning motion",
    "render": "Rendering frames", "finish": "Label, watermark, encode, sign",
}


async def submit_and_wait(settings, studio, job_id: str, out: Path, console):
    """Enqueue `job_id`, show its progress until it ends, copy the video to `out` (atomically).
    Returns a `studio.Rendered`; raises JobFailed with the stored reason."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    from vitaphone.queue import open_queue
    from vitaphone.storage.leases import STAGE_SPANS
    from vitaphone.storage.states import JobState
    from vitaphone.studio import Rendered

    started = time.perf_counter()
    queue = await open_queue(settings, studio)
    try:
        await queue.enqueue(job_id)
        with Progress(TextColumn("{task.description:<30}"), BarColumn(), TimeElapsedColumn(),
                      console=console, transient=False) as bar:
            waiting = bar.add_task(_WAITING, total=1.0)
            tasks = {s: bar.add_task(label, total=1.0, start=False)
                     for s, label in _LABELS.items()}
            try:
                async for status in queue.watch(job_id, interval_s=0.25):
                    if status.state is JobState.QUEUED:
                        bar.update(waiting, description=f"Queued: position "
                                                        f"{status.queue_position}")
                    elif status.state in (JobState.RUNNING, JobState.DONE):
                        bar.update(waiting, description="Picked up by a worker", completed=1.0)
                        _show_stages(bar, tasks, status, STAGE_SPANS)
            except asyncio.CancelledError:  # Ctrl-C: the job is ours, cancel it
                await asyncio.shield(queue.cancel(job_id, actor="cli", reason="interrupted"))
                raise
        result = await queue.result(job_id)
        await asyncio.to_thread(_copy_out, studio.blobs, result.output_sha256, out)
    finally:
        await queue.aclose()
    wall = time.perf_counter() - started
    return Rendered(job_id, out, result.output_sha256, result.watermark_payload_hex,
                    result.manifest_id or "", result.provenance_id, result.duration_s,
                    result.size_bytes, {"queue+render": wall}, ())


def _show_stages(bar, tasks, status, spans) -> None:
    done = status.state.value == "done"
    for stage, task in tasks.items():
        start, share = spans[stage]
        fraction = 1.0 if done else (status.progress - start) / share if share else 0.0
        fraction = min(1.0, max(0.0, fraction))
        if fraction > 0 or stage == status.stage:
            bar.start_task(task)
        bar.update(task, completed=fraction)


def _copy_out(blobs, sha256: str, out: Path) -> None:
    """The blob to `out` through a temporary file in the same folder (never half a video)."""
    fd, tmp = tempfile.mkstemp(prefix=".vitaphone-out-", dir=out.parent)
    os.close(fd)
    try:
        blobs.fetch_to(sha256, tmp)
        os.replace(tmp, out)
    finally:
        Path(tmp).unlink(missing_ok=True)
