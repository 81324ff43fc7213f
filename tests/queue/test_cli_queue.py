"""The CLI side of the queue: Ctrl-C and crashes during `vitaphone animate` (the video reaches
-o only with its provenance; an interrupt cancels the job and removes partial files within a
second; a crash's leftovers go on the next run), `animate --queue`, and `vitaphone jobs`."""

from __future__ import annotations

import asyncio
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from queue_helpers import ASSETS, LONG, child_env, queue_env, settings_of, wait_for

from vitaphone.storage import records
from vitaphone.storage.models import Job
from vitaphone.storage.states import JobState
from vitaphone.studio import Studio

PORTRAIT = ASSETS / "portraits" / "einstein.jpg"


def _env(tmp_path: Path) -> dict[str, str]:
    return queue_env(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'vitaphone.db'}",
                     tmp_path / "data")


def _animate(env: dict[str, str], out: Path, text: str, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "vitaphone", "animate", "--portrait", str(PORTRAIT), "--text",
         text, "--consent", "self", "--device", "cpu", "-o", str(out), *extra],
        env=child_env(env), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


async def _only_job(studio: Studio) -> Job | None:
    from sqlalchemy import select

    try:
        async with studio.sessions() as session:
            return (await session.execute(select(Job).order_by(Job.created_at.desc())
                                          .limit(1))).scalar_one_or_none()
    except Exception:  # the CLI has not created the schema yet
        return None


async def _rendering(studio: Studio, folder: Path) -> Job | None:
    job = await _only_job(studio)
    work = list(folder.glob(".vitaphone-*"))
    if job is not None and job.stage in ("render", "finish") and work:
        return job
    return None


@pytest.mark.slow
async def test_ctrl_c_cancels_the_job_and_removes_partial_files_within_a_second(
        tmp_path: Path) -> None:
    env = _env(tmp_path)
    studio = Studio(settings_of(env))
    out = tmp_path / "out" / "video.mp4"
    out.parent.mkdir()
    proc = _animate(env, out, LONG)
    try:
        job = await wait_for(lambda: _rendering(studio, out.parent), 60, "the render to start")
        proc.send_signal(signal.SIGINT)
        interrupted = time.monotonic()
        await wait_for(lambda: not list(out.parent.glob(".vitaphone-*")), 1.0,
                       "the partial files to go")
        assert time.monotonic() - interrupted <= 1.0
        output, _ = proc.communicate(timeout=30)
        assert proc.returncode == 130, output
        assert "Traceback" not in output and "cancelled" in output
        assert not out.exists() and list(out.parent.iterdir()) == []
        async with studio.sessions() as session:
            job = await records.get_job(session, job.id)
        assert job.state is JobState.CANCELLED
    finally:
        if proc.poll() is None:
            proc.kill()
        await studio.aclose()


@pytest.mark.slow
async def test_a_crashed_render_leaves_no_video_and_the_next_run_cleans_up(
        tmp_path: Path) -> None:
    env = _env(tmp_path)
    studio = Studio(settings_of(env))
    out = tmp_path / "video.mp4"
    proc = _animate(env, out, LONG)
    try:
        crashed = await wait_for(lambda: _rendering(studio, tmp_path), 60, "the render")
        proc.kill()  # SIGKILL: no handler runs
        proc.wait(10)
        assert not out.exists() and list(tmp_path.glob(".vitaphone-*"))
        again = _animate(env, tmp_path / "second.mp4", "Hi.")
        output, _ = again.communicate(timeout=120)
        assert again.returncode == 0, output
        assert not list(tmp_path.glob(".vitaphone-*")) and not out.exists()
        assert (tmp_path / "second.mp4").stat().st_size > 10_000
        async with studio.sessions() as session:
            job = await records.get_job(session, crashed.id)
        assert job.state is JobState.CANCELLED and job.error_code == "cancelled"
    finally:
        if proc.poll() is None:
            proc.kill()
        await studio.aclose()


@pytest.mark.slow
def test_animate_queue_and_jobs_commands(tmp_path: Path) -> None:
    env = _env(tmp_path)
    out = tmp_path / "queued.mp4"
    proc = _animate(env, out, "Hello there.", "--queue")
    output, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, output
    assert "Picked up by a worker" in output and out.stat().st_size > 10_000

    def cli(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "vitaphone", "jobs", *args],
                              env=child_env(env), capture_output=True, text=True, timeout=60)

    listed = cli("--state", "done")
    assert listed.returncode == 0, listed.stderr
    found = re.findall(r"\b[0-9a-f]{32}\b", listed.stdout)
    assert len(found) == 1, listed.stdout
    job_id = found[0]
    shown = cli("show", job_id)
    assert "done" in shown.stdout and "queued → running" in shown.stdout
    assert "worker inprocess:" in shown.stdout
    assert cli("--state", "failed").stdout.strip() == "No jobs."
    refused = cli("cancel", job_id)
    assert refused.returncode == 1 and "already done" in refused.stdout

    async def waiting_job() -> str:
        from queue_helpers import submit

        studio = Studio(settings_of(env))
        try:
            return await submit(studio)
        finally:
            await studio.aclose()

    queued = asyncio.run(waiting_job())
    cancelled = cli("cancel", queued, "--reason", "test")
    assert cancelled.returncode == 0 and "cancelled" in cancelled.stdout
    assert "cancelled" in cli("show", queued).stdout
    assert cli("show", "nope").returncode == 1
