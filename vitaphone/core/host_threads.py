"""How many threads each library may use when one process runs several jobs at once.

A worker with K jobs in flight on C cores gives each job's libraries about C / K threads: x264
frame threads, OpenCV's pool and torch's intra-op pool would otherwise each size themselves to
the whole machine, K times over, and spend the cores on switching and spinning instead of work.
Call once at process start-up, before the first job. Several worker processes on one host
should each be pinned to their own cores (`taskset -c 0-3 vitaphone worker ...`): the split
uses this process's CPU affinity, not the machine's core count.
"""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class HostThreads:
    cores: int
    concurrent_jobs: int
    per_job: int


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, not the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def configure_host_threads(concurrent_jobs: int, cores: int | None = None, *,
                           device: str = "cpu") -> HostThreads:
    """Split `cores` (default: usable_cores()) between `concurrent_jobs` jobs of this process.

    x264 gets the job's share of the cores. OpenCV and BLAS run single-threaded: its work here is small
    images inside our own thread pools, where its pool only adds hand-offs. torch gets the share
    on the CPU renderer and one thread when rendering on CUDA (the GPU does that work; idle
    OpenMP threads spin, which on a 16-core host measured 13.5 CPU-s per clip instead of 3)."""
    import cv2
    import torch
    from threadpoolctl import threadpool_limits

    from vitaphone.core.media.encode import set_encoder_threads

    if concurrent_jobs < 1:
        raise ValueError(f"concurrent_jobs must be >= 1, got {concurrent_jobs}")
    cores = cores or usable_cores()
    per_job = max(1, cores // concurrent_jobs)
    # Always explicit: x264's own default counts the machine's cores, not this process's share.
    set_encoder_threads(per_job)
    cv2.setNumThreads(1)
    # BLAS (the watermark's small solves): its threads busy-wait between calls, and it sizes
    # itself to the machine, not to this process's share of it.
    threadpool_limits(limits=1, user_api="blas")
    torch.set_num_threads(1 if device.startswith("cuda") else per_job)
    return HostThreads(cores, concurrent_jobs, per_job)
