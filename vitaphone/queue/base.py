"""What both backends share: everything a caller reads or asks of a job goes through SQL.

`SqlQueue` implements status, watch, cancel, result and queue length from the database, so a
bot on one host and a worker on another give the same answer. A backend adds `enqueue` (how a
job id reaches whoever runs it) and `aclose`.
"""

from __future__ import annotations

import asyncio
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING

from vitaphone.queue.api import JobResult, JobStatus
from vitaphone.storage.states import JobState

if TYPE_CHECKING:
    from vitaphone.studio import Studio


class SqlQueue(ABC):
    """The SQL half of a `JobQueue`; subclasses add `enqueue` and `aclose`."""

    def __init__(self, studio: Studio) -> None:
        self.studio = studio
        self.sessions = studio.sessions

    @abstractmethod
    async def enqueue(self, job_id: str) -> None:
        """Hand a job SQL has as `queued` to whoever runs jobs (idempotent)."""

    @abstractmethod
    async def aclose(self) -> None: ...

    async def status(self, job_id: str) -> JobStatus:
        from vitaphone.storage import leases, records

        async with self.sessions() as session:
            job = await records.get_job(session, job_id)
            position = await leases.queue_position(session, job)
        return JobStatus(
            job_id=job.id, state=job.state, stage=job.stage, progress=float(job.progress),
            queue_position=position, attempts=job.attempts, error_code=job.error_code,
            error_message=job.error_message, output_sha256=job.output_sha256,
            worker_id=job.worker_id if job.state is JobState.RUNNING else None)

    async def watch(self, job_id: str, *, interval_s: float = 0.5) -> AsyncIterator[JobStatus]:
        last = None
        while True:
            status = await self.status(job_id)
            if status != last:
                yield status
                last = status
            if status.is_final:
                return
            await asyncio.sleep(interval_s)

    async def cancel(self, job_id: str, *, actor: str, reason: str | None = None) -> JobStatus:
        from vitaphone.storage import leases

        async with self.sessions.begin() as session:
            await leases.request_cancel(session, job_id, actor=actor, reason=reason)
        self._stop_here(job_id)
        return await self.status(job_id)

    def _stop_here(self, job_id: str) -> None:
        """Stop the job at once if this process runs it (the SQL flag reaches others)."""

    async def result(self, job_id: str) -> JobResult:
        from sqlalchemy import select

        from vitaphone.storage import records
        from vitaphone.storage.models import Provenance
        from vitaphone.studio import JobFailed

        async with self.sessions() as session:
            job = await records.get_job(session, job_id)
            if job.state is JobState.DONE:
                record = (await session.execute(
                    select(Provenance).where(Provenance.job_id == job_id))).scalar_one()
        if job.state in (JobState.FAILED, JobState.CANCELLED, JobState.REJECTED):
            default = ("The job was cancelled." if job.state is JobState.CANCELLED
                       else "The job failed.")
            raise JobFailed(job.error_message or default, "",
                            code=job.error_code or job.state.value)
        if job.state is not JobState.DONE:
            raise LookupError(f"job {job_id} is {job.state.value}: no result yet")
        params = record.params or {}
        size = params.get("size_bytes")
        if size is None:
            size = await self.studio.blobs.asize(record.output_sha256)
        return JobResult(job_id=job_id, output_sha256=record.output_sha256,
                         size_bytes=int(size), duration_s=float(params.get("duration_s", 0.0)),
                         provenance_id=record.id,
                         watermark_payload_hex=record.watermark_payload_hex,
                         manifest_id=record.c2pa_manifest_id)

    async def queue_length(self) -> int:
        from vitaphone.storage import leases

        async with self.sessions() as session:
            return await leases.queue_length(session)
