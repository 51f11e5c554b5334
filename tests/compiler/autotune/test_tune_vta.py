"""Tuning the accelerator: knobs from the vta target, cycles from a real device run, outputs
checked against the int8 reference, buffer-overflowing points rejected with the reason."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera.compiler.autotune import Database, LocalRunner, MeasureOptions, Task, tune_task
from tessera.compiler.autotune.dispatch import best_config
from tessera.compiler.autotune.hardware import hw_key

ARGS = (1, 32, 8, 8, 32, 3, 3, 1, 1, "small")


@pytest.fixture(scope="module")
def runner() -> LocalRunner:
    r = LocalRunner(MeasureOptions(timeout_s=120.0, threads=1))
    yield r
    r.close()


def test_vta_tuning_on_fsim(tmp_path: Path, runner: LocalRunner) -> None:
    task = Task("vta_conv2d", (*ARGS, "fsim"), "vta")
    assert [k.name for k in task.space.knobs] == ["tile_n", "tile_oc", "tile_h", "tile_w",
                                                  "tile_ic", "vthreads"]
    with Database(tmp_path / "v.db") as db:
        res = tune_task(task, runner, db, trials=6, strategy="xgb", seed=0, batch_size=3)
        recs = db.records(task.key, "vta")
        ok = [r for r in recs if r.ok]
        assert res.trials == 6 and not res.errors
        assert all(r.cost == int(r.cost) and r.cost > 0 for r in ok)  # cycles
        assert res.best_cost is not None and res.default_cost is not None
        assert res.best_cost <= res.default_cost
        assert ok[0].hw["kind"] == "vta" and ok[0].hw["device"] == "fsim"
        for r in recs:
            if r.error_kind == "invalid":
                assert "the schedule overflows" in r.error_msg
        best = best_config(task, db, ok[0].hw)
        assert db.best(task.key, "vta", hw_key(ok[0].hw)).config == best.to_dict()


@pytest.mark.slow
@pytest.mark.verilator
def test_vta_cycles_on_rtl_fast_match_a_real_run(tmp_path: Path, runner: LocalRunner) -> None:
    task = Task("vta_conv2d", (*ARGS, "rtl-fast"), "vta")
    with Database(tmp_path / "r.db") as db:
        res = tune_task(task, runner, db, trials=2, strategy="random", seed=0)
    assert res.trials == 2 and not res.errors and res.best_cost and res.best_cost > 0
