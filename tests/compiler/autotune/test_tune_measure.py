"""Measurement in separate processes: crashing, hanging, wrong and unbuildable candidates are
recorded as errors and the run goes on (the pool is made afresh after a worker dies)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera.compiler.autotune import (
    Database,
    LocalRunner,
    MeasureInput,
    MeasureOptions,
    Task,
    tune_task,
)

TASK = Task("faulty_add", (256,))


@pytest.fixture(scope="module")
def runner() -> LocalRunner:
    r = LocalRunner(MeasureOptions(timeout_s=3.0, threads=1, repeat=3))
    yield r
    r.close()


def test_each_fault_is_recorded_and_the_run_goes_on(runner: LocalRunner) -> None:
    space = TASK.space
    faults = ["none", "abort", "hang", "wrong", "raise", "none"]
    res = runner.run([MeasureInput(TASK, space.from_dict({"fault": f, "vec": 4}))
                      for f in faults])
    kinds = [r.error_kind for r in res]
    assert kinds == [None, "crash", "timeout", "wrong", "build", None]
    assert res[0].cost is not None and res[0].cost > 0 and res[-1].cost is not None
    assert res[2].error_msg == "did not finish within 3 s"
    assert res[3].error_msg.startswith("output differs from the untuned operator's: max abs "
                                       "error 1")
    assert res[4].error_msg == ("ScheduleError: faulty_add: fault 'raise' must fail the build, "
                                "as it did")
    assert res[0].features is not None and len(res[0].features) > 0
    assert runner.restarts == 2  # after the crash and after the hang


def test_crash_in_a_parallel_chunk_is_attributed(tmp_path: Path) -> None:
    r = LocalRunner(MeasureOptions(timeout_s=5.0, threads=1, repeat=2), n_parallel=2)
    try:
        space = TASK.space
        res = r.run([MeasureInput(TASK, space.from_dict({"fault": f, "vec": 1}))
                     for f in ("abort", "none")])
    finally:
        r.close()
    assert [x.error_kind for x in res] == ["crash", None]


def test_tuning_over_faulty_space_records_everything(tmp_path: Path,
                                                     runner: LocalRunner) -> None:
    with Database(tmp_path / "f.db") as db:
        res = tune_task(TASK, runner, db, trials=len(TASK.space), strategy="random", seed=0)
        recs = db.records(TASK.key)
    assert res.trials == 15 == len(recs)
    assert res.errors == {"crash": 3, "timeout": 3, "wrong": 3, "build": 3}
    assert res.best_config is not None and res.best_config["fault"] == "none"
    assert sorted(r.config_index for r in recs) == list(range(15))
