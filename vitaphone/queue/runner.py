"""Run one job id as a worker: claim it, render it through `Studio.run`, and decide what its
end means for the queue (done, failed for good, cancelled, retry later, or not ours to run).

Both backends call `JobRunner.run`; the same job id may arrive more than once (at-least-once
delivery), and only the delivery that claims the job in SQL renders it.
"""

from __future__ import annotations

import errno
import logging
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from vitaphone.storage.states import JobState
from vitaphone.workspace import RunControl, StopReason

if TYPE_CHECKING:
    from vitaphone.config import QueueSettings
    from vitaphone.studio import Studio

log = logging.getLogger(__name__)

Ending = Literal["done", "failed", "cancelled", "retry", "skipped", "lost"]

# Exception class names (anywhere in the MRO) that mean "try again later", not "this job is bad".
_TRANSIENT_NAMES = frozenset({
    "OperationalError", "InterfaceError", "DisconnectionError", "ConcurrentJobUpdate",
    "ConnectionError", "TimeoutError", "RedisError", "OutOfMemoryError",  # torch.cuda's OOM
    "PostgresConnectionError", "ConnectionDoesNotExistError", "CannotConnectNowError",
    "TooManyConnectionsError", "BlobStoreUnavailable",
})
_TRANSIENT_ERRNOS = frozenset({errno.ECONNREFUSED, errno.ECONNRESET, errno.ETIMEDOUT,
                               errno.EHOSTUNREACH, errno.ENETUNREACH, errno.EPIPE})


def size_thread_pool(concurrency: int) -> None:
    """Give the running loop's default executor room for `concurrency` renders (each holds a
    thread for its whole run) plus the short blob, fingerprint and intake calls beside them:
    asyncio's default (cores + 4) would make those wait behind renders at high concurrency."""
    import asyncio
    from concurrent.futures import ThreadPoolExecutor

    asyncio.get_running_loop().set_default_executor(
        ThreadPoolExecutor(max_workers=concurrency + 8, thread_name_prefix="vitaphone"))


def is_transient(exc: BaseException) -> bool:
    """Lost database or Redis connections, a GPU out of memory: worth retrying later."""
    if {cls.__name__ for cls in type(exc).__mro__} & _TRANSIENT_NAMES:
        return True
    if getattr(exc, "connection_invalidated", False):  # sqlalchemy DBAPIError
        return True
    if isinstance(exc, OSError) and exc.errno in _TRANSIENT_ERRNOS:
        return True
    cause = exc.__cause__ or exc.__context__
    return cause is not None and cause is not exc and is_transient(cause)


@dataclass(frozen=True)
class Outcome:
    job_id: str
    ending: Ending
    retry_in_s: float | None = None
    message: str | None = None


class JobRunner:
    """Runs job ids for one worker process (or in-process pool)."""

    def __init__(self, studio: Studio, worker_id: str, queue: QueueSettings,
                 work_root: Path) -> None:
        self.studio, self.worker_id, self.queue = studio, worker_id, queue
        self.work_root = Path(work_root)
        self._controls: dict[str, RunControl] = {}

    @property
    def running(self) -> tuple[str, ...]:
        return tuple(self._controls)

    def stop(self, job_id: str, reason: StopReason = StopReason.CANCEL) -> bool:
        """Stop a job this process runs at its next batch of frames; False if not here."""
        control = self._controls.get(job_id)
        if control is not None:
            control.stop(reason)
        return control is not None

    async def run(self, job_id: str) -> Outcome:
        from vitaphone.studio import JobFailed, JobLost, NotClaimable

        control = RunControl()
        self._controls[job_id] = control
        self.work_root.mkdir(parents=True, exist_ok=True)
        out = self.work_root / f"{job_id}.mp4"
        try:
            await self.studio.run(job_id, out, worker_id=self.worker_id, control=control,
                                  on_interrupt="requeue", record_errors=False)
        except NotClaimable as exc:
            log.info("job %s skipped: %s", job_id, exc)
            return Outcome(job_id, "skipped")
        except JobLost:
            log.warning("job %s was taken from this worker mid-run; dropped our copy", job_id)
            return Outcome(job_id, "lost")
        except JobFailed as exc:
            ending: Ending = "cancelled" if exc.code == "cancelled" else "failed"
            return Outcome(job_id, ending, message=str(exc))
        except Exception as exc:  # noqa: BLE001 - every other error is decided below
            return await self._after_error(job_id, exc)
        finally:
            self._controls.pop(job_id, None)
            out.unlink(missing_ok=True)  # the video is in the blob store
        return Outcome(job_id, "done")

    async def _after_error(self, job_id: str, exc: Exception) -> Outcome:
        """Cancel requested: cancelled. Transient: back to the queue with back-off, until
        `max_attempts`. Else: failed."""
        from vitaphone.storage import leases, records

        try:
            async with self.studio.sessions.begin() as session:
                job = await records.get_job(session, job_id)
                attempts = job.attempts
                if job.cancel_requested_at is not None:  # the cancel may have caused it
                    log.info("job %s stopped by %s after a cancel request", job_id,
                             type(exc).__name__)
                    await leases.release(session, job_id, self.worker_id, JobState.CANCELLED,
                                         note=f"{type(exc).__name__} after a cancel request")
                    return Outcome(job_id, "cancelled", message=job.error_message)
                if is_transient(exc) and attempts < self.queue.max_attempts:
                    delay = self.queue.retry_base_s * 2 ** max(0, attempts - 1)
                    note = f"transient {type(exc).__name__}; retry in {delay:g} s"
                    log.warning("job %s: %s: %s", job_id, note, exc)
                    await leases.release(session, job_id, self.worker_id, JobState.QUEUED,
                                         note=note)
                    return Outcome(job_id, "retry", retry_in_s=delay)
                ref = secrets.token_hex(4)
                log.error("job %s failed after %d attempt(s) (ref %s)", job_id, attempts, ref,
                          exc_info=exc)
                message = f"Something went wrong (ref {ref})."
                await leases.release(session, job_id, self.worker_id, JobState.FAILED,
                                     note=f"{type(exc).__name__}", error_code="internal",
                                     error_message=message)
                return Outcome(job_id, "failed", message=message)
        except Exception as db_exc:  # noqa: BLE001 - the database itself is gone
            log.warning("job %s: could not record %s (%s); the sweeper re-queues it once its "
                        "heartbeat is stale", job_id, type(exc).__name__, db_exc)
            return Outcome(job_id, "retry", retry_in_s=self.queue.lease_s)
