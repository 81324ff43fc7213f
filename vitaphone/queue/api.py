"""The queue contract every front end uses: submit, watch progress, cancel, fetch the result.

Two backends implement `JobQueue`: arq on Redis (`VITAPHONE_REDIS_URL` set; `vitaphone worker`
processes run the jobs) and the in-process backend (the embedded default: a bounded pool inside
the process that accepted the job). SQL is the source of truth for every job: a backend only
carries job ids to whoever runs them. Status, progress and queue position are read from SQL, so
any process (a bot on another host, the CLI) sees the same answer.

    queue = await open_queue(settings, studio)      # picks the backend from settings
    submitted = await studio.submit(...)             # consent + job row, state `queued`
    await queue.enqueue(submitted.job_id)
    async for status in queue.watch(job_id):         # until a final state
        ...
    result = await queue.result(job_id)              # JobResult, or raises JobFailed
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from vitaphone.storage.states import JobState

# Stages a running job passes through, in order (core.pipeline.STAGES).
STAGES = ("portrait", "speech", "motion", "render", "finish")


@dataclass(frozen=True)
class JobStatus:
    """Where a job stands, as any process reads it from SQL.

    progress: 0..1 over the whole job (stages weighted by their usual share of the time).
    queue_position: 1 for the next job to start, None unless `queued`.
    error_code / error_message: the stored user-facing reason of a failed/rejected/cancelled job.
    """

    job_id: str
    state: JobState
    stage: str | None
    progress: float
    queue_position: int | None
    attempts: int
    error_code: str | None = None
    error_message: str | None = None
    output_sha256: str | None = None
    worker_id: str | None = None  # who runs it now (`kind:host:pid:tag`), while `running`

    @property
    def is_final(self) -> bool:
        return self.state.is_final


@dataclass(frozen=True)
class JobResult:
    """A finished job's video: its blob and provenance (fetch the bytes from the blob store)."""

    job_id: str
    output_sha256: str
    size_bytes: int
    duration_s: float
    provenance_id: int
    watermark_payload_hex: str
    manifest_id: str | None


@runtime_checkable
class JobQueue(Protocol):
    """One API for both backends."""

    async def enqueue(self, job_id: str) -> None:
        """Hand a job that SQL already has as `queued` to whoever runs jobs. Idempotent."""
        ...

    async def status(self, job_id: str) -> JobStatus: ...

    def watch(self, job_id: str, *, interval_s: float = 0.5) -> AsyncIterator[JobStatus]:
        """Yield the status whenever it changes, ending after the first final one."""
        ...

    async def cancel(self, job_id: str, *, actor: str, reason: str | None = None) -> JobStatus:
        """Cancel a queued job at once, or a running one at its next batch of frames."""
        ...

    async def result(self, job_id: str) -> JobResult:
        """The finished job's result; raises `studio.JobFailed` for failed/cancelled/rejected
        jobs (its message is the user-facing one) and LookupError while not final."""
        ...

    async def queue_length(self) -> int: ...

    async def aclose(self) -> None: ...
