"""Working folders of renders in progress, and the handle that stops a render between batches.

A render writes into `<folder>/.vitaphone-<job_id>/` beside its destination (same file system,
so the finished video is moved into place atomically, and only after its provenance row is
committed). The folder holds our pid, so a later run can tell a crashed render's leftovers from
a render still going on, and remove them.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
from enum import StrEnum
from pathlib import Path

WORK_PREFIX = ".vitaphone-"
_OWNER = "owner"


def open_work_dir(parent: Path, job_id: str) -> Path:
    """`parent/.vitaphone-<job_id>/`, emptied first: a re-run overwrites its own partial output."""
    path = Path(parent) / f"{WORK_PREFIX}{job_id}"
    remove_work_dir(path)
    path.mkdir(parents=True)
    (path / _OWNER).write_text(f"{socket.gethostname()} {os.getpid()}\n")
    return path


def remove_work_dir(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _owner_gone(path: Path) -> bool:
    try:
        host, pid = (path / _OWNER).read_text().split()
    except (OSError, ValueError):
        return True  # a folder without a readable owner is nobody's
    if host != socket.gethostname():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except (PermissionError, ValueError):
        return False
    return False


def clean_stale_work_dirs(parent: Path) -> list[str]:
    """Remove the `.vitaphone-*` folders in `parent` whose process is gone; their job ids."""
    removed = []
    try:
        candidates = [p for p in Path(parent).iterdir()
                      if p.name.startswith(WORK_PREFIX) and p.is_dir()]
    except OSError:
        return []
    for path in candidates:
        if _owner_gone(path):
            remove_work_dir(path)
            removed.append(path.name.removeprefix(WORK_PREFIX))
    return removed


class StopReason(StrEnum):
    CANCEL = "cancel"  # a user or admin cancelled the job
    LOST = "lost"  # the job is no longer ours (the sweeper gave it to another worker)
    INTERRUPT = "interrupt"  # Ctrl-C, SIGTERM past the drain time: our task was cancelled


class RenderStopped(Exception):
    """Raised inside the render thread at its next progress report after `RunControl.stop`."""

    def __init__(self, reason: StopReason) -> None:
        super().__init__(f"render stopped: {reason.value}")
        self.reason = reason


class RunControl:
    """Shared by the event loop and the render thread: the latest progress, and a stop flag the
    render thread checks at every progress report (the pipeline reports every batch of frames)."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self.reason: StopReason | None = None
        self.stage: str | None = None
        self.fraction = 0.0

    def stop(self, reason: StopReason) -> None:
        if not self._stop.is_set():
            self.reason = reason
            self._stop.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    def report(self, stage: str, fraction: float) -> None:
        """Called from the render thread; raises RenderStopped once a stop was asked for."""
        if self._stop.is_set():
            raise RenderStopped(self.reason or StopReason.INTERRUPT)
        self.stage, self.fraction = stage, fraction
