"""Logging, configured once per process: a log file in the data folder, warnings on stderr.

The file (`<data dir>/logs/vitaphone.log`, owner-only, rotated at 5 MB) gets INFO and up with
full tracebacks; stderr gets WARNING and up as one line each, never a traceback: a person reads
stderr, an operator reads the file. `internal_error(exc)` logs an unexpected exception under a
short reference and returns the sentence users see: "Something went wrong (ref 3f9a1c2e)." The
CLI, the worker and the bots call `configure_logging(settings.data_dir)` at start-up.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import secrets
from pathlib import Path

LOG_NAME = "vitaphone.log"
_MAX_BYTES = 5 * 2**20
_BACKUPS = 3
_MARK = "_vitaphone_handler"
log = logging.getLogger("vitaphone")


class _Stderr(logging.StreamHandler):
    """Writes to whatever sys.stderr is at the time (test runners swap it)."""

    def __init__(self) -> None:
        super().__init__()

    @property
    def stream(self):  # type: ignore[override]
        import sys

        return sys.stderr

    @stream.setter
    def stream(self, value) -> None:
        pass


def _not_shown_already(record: logging.LogRecord) -> bool:
    """Internal errors are shown to the user as "Something went wrong (ref …)" already."""
    return not getattr(record, "shown_to_user", False)


class _OneLine(logging.Formatter):
    """`warning: message` with no traceback (that goes to the file)."""

    def format(self, record: logging.LogRecord) -> str:
        return f"{record.levelname.lower()}: {record.getMessage()}"


def _owner_only_file(path: Path) -> None:
    """`<data dir>/logs/<file>`: the data dir, the logs folder and the file owner-only."""
    for folder in (path.parent.parent, path.parent):
        folder.mkdir(parents=True, exist_ok=True, mode=0o700)
        if folder.stat().st_mode & 0o077:
            os.chmod(folder, 0o700)
    os.close(os.open(path, os.O_CREAT | os.O_APPEND | os.O_WRONLY, 0o600))
    os.chmod(path, 0o600)


def configure_logging(data_dir: Path | None, *, stderr_level: int = logging.WARNING) -> Path | None:
    """Install the file and stderr handlers on the root logger, once; returns the log file.

    data_dir None (settings could not be read): stderr only. A later call with another data dir
    moves the file there; otherwise it changes nothing.
    """
    root = logging.getLogger()
    ours = {getattr(h, _MARK) for h in root.handlers if hasattr(h, _MARK)}
    if "stderr" not in ours:
        err = _Stderr()
        err.addFilter(_not_shown_already)
        err.setLevel(stderr_level)
        err.setFormatter(_OneLine())
        setattr(err, _MARK, "stderr")
        root.addHandler(err)
    path = log_file()
    wanted = Path(data_dir) / "logs" / LOG_NAME if data_dir is not None else None
    if wanted is not None and path != wanted:  # first time, or another data dir (tests)
        for handler in [h for h in root.handlers if getattr(h, _MARK, None) == "file"]:
            root.removeHandler(handler)
            handler.close()
        path = wanted
        try:
            _owner_only_file(path)
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8")
        except OSError as exc:  # a read-only data dir must not stop the program
            log.warning("cannot write the log file %s: %s", path, exc.strerror)
            return None
        handler.setLevel(logging.INFO)
        handler.setFormatter(logging.Formatter(
            "%(asctime)s %(levelname)s %(name)s [%(process)d]: %(message)s"))
        setattr(handler, _MARK, "file")
        root.addHandler(handler)
    if root.level == logging.NOTSET or root.level > logging.INFO:
        root.setLevel(logging.INFO)
    return path


def log_file() -> Path | None:
    """The log file configured in this process, if any."""
    for handler in logging.getLogger().handlers:
        if getattr(handler, _MARK, None) == "file":
            return Path(handler.baseFilename)  # type: ignore[attr-defined]
    return None


def internal_error(exc: BaseException, what: str = "unexpected error") -> str:
    """Log `exc` with its traceback under a fresh reference; the sentence to show the user."""
    ref = secrets.token_hex(4)
    log.error("%s (ref %s): %s: %s", what, ref, type(exc).__name__, exc,
              exc_info=(type(exc), exc, exc.__traceback__), extra={"shown_to_user": True})
    return f"Something went wrong (ref {ref})."
