"""The parallel probe's waiting rules (speedups scripted), and one real probe."""

from __future__ import annotations

import math

import pytest

from tessera.compiler.ops import parallel_probe
from tessera.compiler.ops.parallel_probe import ParallelProbe


def scripted(values: list[float]) -> ParallelProbe:
    probe = ParallelProbe(2)
    seq = iter(values)

    def speedup() -> float:
        probe.stats["probes"] += 1
        return next(seq)

    probe.speedup = speedup  # type: ignore[method-assign]
    return probe


def test_one_thread_never_probes() -> None:
    probe = ParallelProbe(1)
    assert probe.wait() == 0.0 and probe.healthy()
    assert probe.stats == {"probes": 0, "degraded": 0, "waited_s": 0.0, "gave_up": 0}


def test_waits_through_a_degraded_phase() -> None:
    probe = scripted([1.0, 1.1, 1.9])
    probe.wait(max_wait_s=5.0, step_s=0.0)
    assert probe.stats["probes"] == 3 and probe.stats["degraded"] == 2
    assert probe.stats["gave_up"] == 0


def test_gives_up_then_only_looks_until_healthy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(parallel_probe, "GIVE_UP_AFTER", 2)
    probe = scripted([1.0, 1.0, 1.0, 1.95, 1.0])
    for _ in range(2):  # two waits that run out (max_wait_s=0: one probe each)
        probe.wait(max_wait_s=0.0, step_s=0.0)
    assert probe.stats["gave_up"] == 2
    assert probe.wait(max_wait_s=9.0) == 0.0  # only looks: degraded, no waiting
    assert probe.wait(max_wait_s=9.0) == 0.0  # looks: healthy again
    assert probe.stats == {"probes": 4, "degraded": 2, "waited_s": 0.0, "gave_up": 2}
    probe.wait(max_wait_s=0.0, step_s=0.0)  # waiting resumed: runs out again
    assert probe.stats["gave_up"] == 3 and probe.stats["probes"] == 5


def test_a_real_probe_measures_a_speedup() -> None:
    s = ParallelProbe(2).speedup()
    assert math.isfinite(s) and s > 0
