"""Tuned schedules reach ``compile()``: the digits model tuned into a database, compiled with
and without it; the plan names the config each tunable group was built with, and the outputs
still match onnxruntime."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime as ort
import pytest

import tessera.compiler as tc
from tessera.compiler import compile
from tessera.compiler.autotune import Database, LocalRunner, MeasureOptions, Record
from tessera.compiler.autotune.extract import extract_tasks
from tessera.compiler.autotune.hardware import cpu_descriptor, hw_key
from tessera.compiler.autotune.tuner import tune_tasks
from tessera.compiler.errors import CompileError

DIGITS = os.path.join(os.path.dirname(tc.__file__), "models", "digits_cnn.onnx")
X = np.random.default_rng(0).standard_normal((1, 1, 8, 8)).astype(np.float32)


def _tuning(model: Any) -> dict[str, dict[str, Any]]:
    """The ``tuning`` entry of each compiled node of a compiled model's plan."""
    return {name: spec["tuning"] for step in model.module.plan["steps"]
            for name, spec in step.get("compiled", {}).items() if "tuning" in spec}


def _check_against_onnxruntime(model: Any) -> None:
    want = ort.InferenceSession(DIGITS, providers=["CPUExecutionProvider"]).run(None, {"x": X})
    np.testing.assert_allclose(model.run({"x": X})[0], want[0], rtol=1e-4, atol=1e-4)


@pytest.fixture(scope="module")
def tuned_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("tuned") / "digits.db"
    runner = LocalRunner(MeasureOptions(threads=1, timeout_s=30.0))
    try:
        with Database(path) as db:
            tune_tasks([w.task for w in extract_tasks(DIGITS)], runner, db, 4, "random", 0, 4)
    finally:
        runner.close()
    return path


def test_compile_builds_the_dense_layer_with_the_best_recorded_config(tuned_db: Path) -> None:
    task = next(w.task for w in extract_tasks(DIGITS) if w.task.template == "matmul")
    with Database(tuned_db) as db:
        best = db.best(task.key, task.target)
    assert best is not None and best.ok
    tuned = compile(DIGITS, kernels="compiled", tuning_db=tuned_db)
    fc = _tuning(tuned)["fc"]
    assert fc["workload"] == task.key and fc["source"] == "tuning database"
    assert fc["config"] == best.config and fc["cost"] == pytest.approx(best.cost)
    _check_against_onnxruntime(tuned)
    plain = compile(DIGITS, kernels="compiled")
    assert _tuning(plain)["fc"] == {"workload": task.key, "target": "llvm", "source": "default",
                                    "config": task.impl.default(task.args), "cost": None}
    _check_against_onnxruntime(plain)


def test_a_recorded_non_default_point_is_the_one_that_runs(tmp_path: Path) -> None:
    """The fastest record wins even where it is far from the default (here a Gemm with
    transB=1 built through the matmul template's dense variant), and computes the same."""
    task = next(w.task for w in extract_tasks(DIGITS) if w.task.template == "matmul")
    space = task.space
    point = {"mr": 1, "nv": 1, "lanes": space.knobs[2].values[0], "order": "io,jo", "ku": 4,
             "par": "none", "pack": "ahead"}
    cfg = space.from_dict(point)
    assert space.check(cfg) is None and point != task.impl.default(task.args)
    default = space.from_dict(task.impl.default(task.args))
    hw = cpu_descriptor(2)
    with Database(tmp_path / "f.db") as db:
        db.add_many([Record(task.key, "llvm", hw, default.to_dict(), default.index, 2e-6,
                            (2e-6,)),
                     Record(task.key, "llvm", hw, point, cfg.index, 1e-6, (1e-6,))])
        assert db.best(task.key, "llvm", hw_key(hw)).config == point
    model = compile(DIGITS, kernels="compiled", tuning_db=tmp_path / "f.db")
    assert _tuning(model)["fc"]["config"] == point
    _check_against_onnxruntime(model)


def test_compile_rejects_a_missing_tuning_database(tmp_path: Path) -> None:
    missing = tmp_path / "nope.db"
    with pytest.raises(CompileError) as err:
        compile(DIGITS, tuning_db=missing)
    assert str(err.value) == (f"tuning_db: {missing} must be a tuning database file written "
                              f"by `tessera tune`, not a missing file")
    assert not missing.exists()


def test_cli_tune_then_compile_with_the_database(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    from tessera.compiler.cli import main

    db = tmp_path / "cli.db"
    assert main(["tune", DIGITS, "--trials", "2", "--db", str(db), "--threads", "1",
                 "--strategy", "random", "--batch", "2", "--timeout", "20"]) == 0
    err = capsys.readouterr().err
    assert f"use it: tessera compile {DIGITS} --tuning-db {db}" in " ".join(err.split())
    out = tmp_path / "d.tsr"
    assert main(["compile", DIGITS, "--kernels", "compiled", "--tuning-db", str(db), "-o",
                 str(out)]) == 0
    assert f"operators built with schedules from {db}" in " ".join(capsys.readouterr().out
                                                                   .split())
    assert out.stat().st_size > 0
    assert main(["compile", DIGITS, "--tuning-db", str(tmp_path / "none.db")]) == 1
    assert "must be a tuning database file written by `tessera tune`" in " ".join(
        capsys.readouterr().err.split())
