"""pipeline.overlap: render (producer) and finish (consumer) run side by side; a failure on
either side comes back as the original exception, promptly, never as a hang."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest

from tests.core.marking.clips import ASSETS, PAYLOAD, as_frames, ken_burns
from vitaphone.core.marking import c2pa_credentials as cc
from vitaphone.core.marking.marks import start_finish
from vitaphone.core.pipeline import overlap

TIMEOUT_S = 60.0


def _within_timeout(call: Callable[[], object]) -> BaseException | None:
    """Run `call` on a thread; fail the test if it has not returned in TIMEOUT_S (a hang).
    Returns the exception it raised (None if it returned)."""
    outcome: list[BaseException | None] = []

    def run() -> None:
        try:
            call()
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001 - handed to the test thread
            outcome.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(TIMEOUT_S)
    assert not thread.is_alive(), "overlap hung"
    return outcome[0]


@pytest.fixture(scope="module")
def clip() -> np.ndarray:
    return ken_burns(ASSETS / "portraits" / "einstein.jpg", 40, size=128)


def test_batches_pass_every_stage_in_order(clip: np.ndarray) -> None:
    first: list[int] = []
    second: list[tuple[int, int]] = []
    handed: list[int] = []

    def mark(batch: np.ndarray) -> None:
        first.append(len(first))
        batch[:, 0, 0, 0] = len(first)  # in place, as the watermark does

    overlap(
        (clip[i : i + 6].copy() for i in range(0, len(clip), 6)),
        mark,
        lambda batch: second.append((int(batch[0, 0, 0, 0]), len(batch))),
        on_handed=lambda batch: handed.append(len(batch)),
    )
    assert [n for n, _ in second] == list(range(1, 8))  # stage 2 saw stage 1's work, in order
    assert sum(size for _, size in second) == sum(handed) == len(clip)


def test_an_encoder_error_stops_the_render_and_is_raised(clip: np.ndarray, tmp_path: Path) -> None:
    """The finisher's encoder refuses a batch of the wrong size: the producer (endless here,
    as a render that would not stop) is stopped within a few batches and the encoder's own
    ValueError reaches the caller; nothing is left at the output path."""
    credentials = cc.load_or_create_credentials(tmp_path / "c2pa")
    produced = 0

    def render() -> Iterator[np.ndarray]:
        nonlocal produced
        yield clip[:8].copy()
        while True:
            produced += 1
            yield np.zeros((8, 64, 64, 3), np.uint8)  # wrong size: the encoder raises

    def run() -> None:
        with start_finish(
            as_frames(clip).format,
            None,
            16000,
            tmp_path / "out" / "video.mp4",
            assertion=cc.ProvenanceAssertion(PAYLOAD, "self"),
            credentials=credentials,
            version="test",
        ) as finish:
            overlap(render(), finish.mark, finish.encode)  # as the pipeline runs it
            finish.close()

    error = _within_timeout(run)
    assert isinstance(error, ValueError) and "batch must be (b, 128, 128, 3)" in str(error)
    # Stopped at its next batch: at most what fits in flight (encoding 1, queued 2 + 2, marking
    # 1, being handed 1) and the one it makes before it sees the failure.
    assert produced <= 8
    assert list((tmp_path / "out").iterdir()) == []


def test_a_render_error_is_raised_and_cancels_queued_work(clip: np.ndarray) -> None:
    consumed: list[int] = []
    release = threading.Event()

    def consume(batch: np.ndarray) -> None:
        release.wait(TIMEOUT_S)  # slow consumer: batches pile up in the queue
        consumed.append(len(batch))

    def render() -> Iterator[np.ndarray]:
        yield clip[:4]
        yield clip[4:8]
        yield clip[8:12]
        threading.Timer(0.5, release.set).start()  # the worker resumes after the failure
        raise RuntimeError("CUDA out of memory (simulated render failure)")

    error = _within_timeout(lambda: overlap(render(), consume))
    assert isinstance(error, RuntimeError) and "out of memory" in str(error)
    assert consumed == [4]  # the batch in hand was finished; the queued ones were dropped


def test_a_consumer_error_while_the_producer_is_blocked_does_not_deadlock(
    clip: np.ndarray,
) -> None:
    """The worker fails while the producer waits on a full queue: the worker keeps draining,
    so the producer wakes, stops, and the worker's exception is raised."""

    def consume(batch: np.ndarray) -> None:
        raise OSError("disk full")

    error = _within_timeout(
        lambda: overlap((clip[i : i + 1] for i in range(len(clip))), consume, depth=1)
    )
    assert isinstance(error, OSError) and str(error) == "disk full"
