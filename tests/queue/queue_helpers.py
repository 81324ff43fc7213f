"""Shared by the queue tests: settings, jobs to submit, worker processes, a private Redis."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from vitaphone.config import Settings, load_settings
from vitaphone.consent import ConsentBasis
from vitaphone.core.pipeline import AnimateInputs, AnimateOptions
from vitaphone.studio import Requester, Studio

ASSETS = Path(__file__).parent.parent / "assets"
PORTRAIT = (ASSETS / "portraits" / "einstein.jpg").read_bytes()
SHORT = "Hi."
# About 14 s of speech: a render of several seconds on this CPU, time to act mid-job.
LONG = ("Imagination is more important than knowledge. Knowledge is limited, while imagination "
        "embraces the entire world, stimulating progress and giving birth to evolution. It is, "
        "strictly speaking, a real factor in scientific research.")
REPO = Path(__file__).resolve().parents[2]


def queue_env(database_url: str, data_dir: Path, redis_url: str | None = None,
              queue_name: str | None = None, **queue: object) -> dict[str, str]:
    """VITAPHONE_* variables for a test's processes (and for load_settings in the test)."""
    env = {"VITAPHONE_DATABASE_URL": database_url, "VITAPHONE_DATA_DIR": str(data_dir),
           "VITAPHONE_DEVICE": "cpu", "VITAPHONE_QUEUE__NAME": queue_name or
           f"vitaphone-test-{secrets.token_hex(4)}", "VITAPHONE_QUEUE__SWEEP_S": "1",
           "VITAPHONE_QUEUE__LEASE_S": "4", "VITAPHONE_QUEUE__RETRY_BASE_S": "0.2",
           "VITAPHONE_QUEUE__DRAIN_S": "5"}
    if redis_url:
        env["VITAPHONE_REDIS_URL"] = redis_url
    env.update({f"VITAPHONE_QUEUE__{k.upper()}": str(v) for k, v in queue.items()})
    return env


def settings_of(env: dict[str, str]) -> Settings:
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        return load_settings(env_file=None)
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


async def submit(studio: Studio, text: str = SHORT, portrait: bytes = PORTRAIT,
                 user: str | None = None) -> str:
    submitted = await studio.submit(
        AnimateInputs(portrait=portrait, portrait_name="einstein.jpg", text=text),
        AnimateOptions(device="cpu"), ConsentBasis.PUBLIC_DOMAIN_HISTORICAL,
        Requester(platform="cli", user_id=user or f"tester-{secrets.token_hex(4)}"))
    return submitted.job_id


def child_env(env: dict[str, str]) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("VITAPHONE_")
            or k.startswith("VITAPHONE_TEST_")}
    base["VITAPHONE_ENV_FILE"] = "/nonexistent.env"
    base["PYTHONPATH"] = str(REPO)
    return {**base, **env}


def start_worker(env: dict[str, str], *args: str, log: Path | None = None) -> subprocess.Popen:
    """A real `vitaphone worker` process (stdout+stderr to `log`)."""
    out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen([sys.executable, "-m", "vitaphone", "worker", "--device", "cpu",
                             *args], env=child_env(env), stdout=out, stderr=subprocess.STDOUT,
                            cwd=REPO)


def stop(proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
    if proc.poll() is None:
        proc.send_signal(sig)
    try:
        return proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(5)


async def wait_for(predicate, timeout: float, what: str, interval: float = 0.1):
    """Await `predicate()` (sync or async) until truthy; its value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if asyncio.iscoroutine(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")
        await asyncio.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class PrivateRedis:
    """A redis-server of our own on a free port: tests may restart or flush it."""

    def __init__(self, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> PrivateRedis:
        binary = shutil.which("redis-server")
        assert binary, "redis-server is not installed (apt-get install redis-server)"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.proc = subprocess.Popen(
            [binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.folder)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        import redis

        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis(port=self.port, socket_connect_timeout=0.5).ping()
                return self
            except Exception:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None

    def flushall(self) -> None:
        import redis

        redis.Redis(port=self.port).flushall()


# --- fixtures (imported by the test modules) --------------------------------------------------
@pytest.fixture()
def pg_env(migrated_postgres_url: str, tmp_path: Path, redis_url: str) -> dict[str, str]:
    """Settings for PostgreSQL + the shared Redis (a queue name of this test's own)."""
    return queue_env(migrated_postgres_url, tmp_path / "data", redis_url)


@pytest.fixture()
async def pg_studio(pg_env: dict[str, str]) -> AsyncIterator[Studio]:
    studio = Studio(settings_of(pg_env))
    yield studio
    await studio.aclose()


@pytest.fixture()
def private_redis(tmp_path: Path) -> Iterator[PrivateRedis]:
    server = PrivateRedis(tmp_path / "redis").start()
    yield server
    server.stop()
