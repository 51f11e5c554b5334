"""Binding a run's threads: the caller and the pool's workers on distinct CPUs, the
caller's own CPU set given back, and the switch that turns it off."""

from __future__ import annotations

import os

import pytest

from tessera.runtime.cpu import affinity
from tessera.runtime.cpu.launcher import pool_threads

CPUS = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else []
needs_two = pytest.mark.skipif(len(CPUS) < 2, reason="binding needs at least two CPUs")


@needs_two
def test_caller_and_worker_get_distinct_cpus_and_the_caller_its_set_back() -> None:
    before = os.sched_getaffinity(0)
    with affinity.bound(2):
        mine = os.sched_getaffinity(0)
        workers = pool_threads()
        assert mine == {CPUS[0]}
        assert workers and os.sched_getaffinity(workers[0]) == {CPUS[1]}
    assert os.sched_getaffinity(0) == before


@needs_two
def test_switched_off_nothing_moves(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(affinity.ENV, "0")
    before = os.sched_getaffinity(0)
    with affinity.bound(2):
        assert os.sched_getaffinity(0) == before


def test_one_thread_is_left_alone() -> None:
    before = os.sched_getaffinity(0)
    with affinity.bound(1):
        assert os.sched_getaffinity(0) == before


@needs_two
def test_a_bound_run_computes_the_same() -> None:
    import numpy as np

    from tessera.compiler import ops
    from tessera.compiler import tensor as te
    from tessera.compiler.codegen import build

    a = te.placeholder((64, 96), "float32", "A")
    b = te.placeholder((96, 80), "float32", "B")
    c = ops.matmul(a, b)
    kernel = build(ops.schedule_matmul(c), [a, b, c])
    kernel.num_threads = 2
    rng = np.random.default_rng(0)
    x, y = rng.standard_normal((64, 96), np.float32), rng.standard_normal((96, 80), np.float32)
    out = np.zeros((64, 80), np.float32)
    with affinity.bound(2):
        kernel(x, y, out)
    np.testing.assert_allclose(out, x @ y, rtol=1e-4, atol=1e-4)


@needs_two
def test_one_run_binds_at_a_time() -> None:
    """A run started while another thread's bound run is going leaves its thread free."""
    import threading

    seen: list[set[int]] = []
    go, done = threading.Event(), threading.Event()

    def other() -> None:
        go.wait()
        with affinity.bound(2):
            seen.append(os.sched_getaffinity(0))
        done.set()

    before = os.sched_getaffinity(0)
    t = threading.Thread(target=other)  # made outside the bound run: it has the full set
    t.start()
    with affinity.bound(2):
        go.set()
        assert done.wait(10)
        assert os.sched_getaffinity(0) == {CPUS[0]}
    t.join()
    assert seen == [before]
    with affinity.bound(2):  # and binds again once the first is over
        assert os.sched_getaffinity(0) == {CPUS[0]}
