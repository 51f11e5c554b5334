"""Binding a parallel run's threads to distinct CPUs.

A parallel kernel runs on the calling thread and the pool's workers (``launcher.py``). Left
to the scheduler, a worker woken after an idle spell (it sleeps on a futex after a few
microseconds of spinning) is often placed on the calling thread's CPU: the caller then
claims every chunk and the kernel runs at 1-thread speed. On the 2-vCPU machines this
project runs on that happened in about two of three probes taken after a 1 s pause, and for
seconds at a time (a 3x3 conv at 2 threads: 1.0 ms or 2.0 ms); binding the caller to one
CPU and the worker to the other mostly removed it (3 of 30 probes, against 20 of 30).

``bound(threads)`` does that for the length of a run, the way TVM's thread pool binds its
workers: worker ``i`` to the ``i+1``-th CPU of the calling thread's allowed set (kept
across runs), the calling thread to the first one, and the calling thread's own set given
back at the end. ``TESSERA_BIND_THREADS=0`` turns it off (several processes sharing few
CPUs would be bound to the same ones). Only one run binds at a time: a run that starts while
another thread's bound run is going leaves its thread free (bound too, both callers would
share the first CPU; the pool serves one launch at a time and runs the other's serially).
A thread created inside a bound block inherits the caller's one-CPU set (Linux copies the
creating thread's mask): the pool's workers are started before the caller is bound.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Iterator

ENV = "TESSERA_BIND_THREADS"
_BOUND: dict[int, int] = {}  # worker tid -> the CPU it is bound to
_RUN = threading.Lock()  # held by the one bound run in progress


def enabled() -> bool:
    return os.environ.get(ENV, "1") != "0" and hasattr(os, "sched_setaffinity")


def _workers(threads: int) -> list[int]:
    """The tids of the ``threads - 1`` workers, started if need be (they record their ids
    as they start: wait a moment for them)."""
    from tessera.runtime.cpu.launcher import pool_threads

    want = threads - 1
    tids = pool_threads()
    if len(tids) < want:  # a launch of nothing starts them (not on every run: it wakes them)
        tids = pool_threads(threads)
    deadline = time.monotonic() + 0.05
    while len(tids) < want and time.monotonic() < deadline:
        time.sleep(0.001)
        tids = pool_threads()
    return tids[:want]


@contextlib.contextmanager
def bound(threads: int) -> Iterator[None]:
    """Within the block, the calling thread and ``threads - 1`` pool workers run on
    distinct CPUs (when the calling thread may use at least two, and binding is on)."""
    if threads <= 1 or not enabled():
        yield
        return
    mine = os.sched_getaffinity(0)
    if len(mine) < 2 or not _RUN.acquire(blocking=False):
        yield
        return
    try:
        _bind_workers(threads, sorted(mine))
        os.sched_setaffinity(0, {min(mine)})
        yield
    finally:
        os.sched_setaffinity(0, mine)
        _RUN.release()


def _bind_workers(threads: int, cpus: list[int]) -> None:
    for k, tid in enumerate(_workers(threads)):
        cpu = cpus[(k + 1) % len(cpus)]
        if _BOUND.get(tid) != cpu:
            try:
                os.sched_setaffinity(tid, {cpu})
                _BOUND[tid] = cpu
            except OSError:  # the thread is gone (a forked child) or not ours to move
                _BOUND.pop(tid, None)
