"""Accelerator tuning reaches ``compile(target="vta")``: the ``vta_dense`` template, the tasks
``extract_tasks`` names agree with the layers ``compile_vta`` builds (im2col'd stem included),
and a tuning database's best schedules are the ones the built kernels carry."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import tessera.compiler as tc
from tessera.compiler import compile
from tessera.compiler.autotune import Database, LocalRunner, MeasureOptions, Task, tune_task
from tessera.compiler.autotune.extract import extract_tasks, task_of_layer
from tessera.compiler.autotune.tuner import tune_tasks
from tessera.compiler.partition.kernels import layer_workload
from tessera.hw.config import HwConfig
from tessera.runtime.accel_exec import kernel_from_bytes

DIGITS = os.path.join(os.path.dirname(tc.__file__), "models", "digits_cnn.onnx")
RNG = np.random.default_rng(0)
CALIB = [{"x": RNG.random((1, 1, 8, 8)).astype(np.float32)} for _ in range(4)]
X = RNG.random((1, 1, 8, 8)).astype(np.float32)


@pytest.fixture(scope="module")
def runner() -> Any:
    r = LocalRunner(MeasureOptions(timeout_s=120.0, threads=1))
    yield r
    r.close()


def _accel_steps(model: Any) -> list[dict[str, Any]]:
    return [s for s in model.module.plan["steps"] if s["strategy"] == "vta"]


def test_vta_dense_tuning_on_fsim(tmp_path: Path, runner: Any) -> None:
    task = Task("vta_dense", (16, 48, 64, "small", "fsim"), "vta")
    assert [k.name for k in task.space.knobs] == ["tile_n", "tile_oc", "tile_h", "tile_w",
                                                  "tile_ic", "vthreads"]
    with Database(tmp_path / "d.db") as db:
        res = tune_task(task, runner, db, trials=6, strategy="random", seed=0, batch_size=3)
        ok = [r for r in db.records(task.key, "vta") if r.ok]
    assert res.trials == 6 and not res.errors, res.errors
    assert all(r.cost == int(r.cost) and r.cost > 0 for r in ok)  # cycles
    assert res.default_cost is not None and res.best_cost is not None
    assert res.best_cost <= res.default_cost
    assert len({r.cost for r in ok}) > 1  # the knobs change the cycle count


def test_extracted_vta_tasks_are_the_layers_compile_builds() -> None:
    cfg = HwConfig.small()
    model = compile(DIGITS, target="vta", calibration=CALIB, cfg=cfg)
    by_name = {n.name: n for n in model.graph.nodes}
    built = [task_of_layer(layer_workload(by_name[s["master"]], model.graph), "small", "fsim")
             for s in _accel_steps(model)]
    tasks = [w.task for w in extract_tasks(DIGITS, "vta", hw_config="small")]
    assert built == tasks
    assert tasks[0].args[:9] == (1, 9, 8, 8, 16, 1, 1, 1, 0)  # the stem, as im2col builds it
    assert tasks[2].template == "vta_dense"


def test_compile_vta_uses_the_tuned_schedules(tmp_path: Path, runner: Any) -> None:
    tasks = [w.task for w in extract_tasks(DIGITS, "vta", hw_config="small")]
    with Database(tmp_path / "v.db") as db:
        tune_tasks(tasks, runner, db, 4, "random", 1, 4)
        best = {t.key: db.best(t.key, "vta") for t in tasks}
    cfg = HwConfig.small()
    tuned = compile(DIGITS, target="vta", calibration=CALIB, cfg=cfg,
                    tuning_db=tmp_path / "v.db")
    plain = compile(DIGITS, target="vta", calibration=CALIB, cfg=cfg)
    steps = _accel_steps(tuned)
    assert [s["tuning"]["workload"] for s in steps] == [t.key for t in tasks]
    for step in steps:
        rec = best[step["tuning"]["workload"]]
        assert rec is not None and step["tuning"]["config"] == rec.config
        kernel = kernel_from_bytes(tuned.module.code[step["kernel"]])
        assert kernel.meta["schedule"] == rec.config
    assert all("tuning" not in s for s in _accel_steps(plain))
    np.testing.assert_array_equal(tuned.run({"x": X})[0], plain.run({"x": X})[0])
