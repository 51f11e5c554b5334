"""Measurements on a Dask LocalCluster: results equal in kind to the local runner's, faults
recorded, records stored."""

from __future__ import annotations

from pathlib import Path

import pytest

from tessera.compiler.autotune import Database, MeasureOptions, Task, tune_task

distributed = pytest.importorskip("distributed")


def test_tuning_through_a_local_cluster(tmp_path: Path) -> None:
    from tessera.compiler.autotune.dask_runner import DaskRunner

    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        runner = DaskRunner(client, MeasureOptions(timeout_s=3.0, threads=1, repeat=2))
        task = Task("faulty_add", (128,))
        space = task.space
        from tessera.compiler.autotune import MeasureInput

        res = runner.run([MeasureInput(task, space.from_dict({"fault": f, "vec": 4}))
                          for f in ("none", "abort", "wrong")])
        assert [r.error_kind for r in res] == [None, "crash", "wrong"]
        assert runner.hw["kind"] == "cpu"
        with Database(tmp_path / "d.db") as db:
            mm = Task("matmul", (8, 16, 8, "float32"))
            out = tune_task(mm, runner, db, trials=3, strategy="random", seed=0)
            assert out.trials == 3 and not out.errors and out.best_cost is not None
            assert len(db.records(mm.key)) >= 3
        runner.close()


def test_unreachable_scheduler_is_a_clear_error() -> None:
    from tessera.compiler.autotune import TuningError
    from tessera.compiler.autotune.dask_runner import DaskRunner

    with pytest.raises(TuningError, match=r"^tune: the Dask scheduler at 'tcp://127.0.0.1:9' "
                                          r"must be reachable"):
        DaskRunner("tcp://127.0.0.1:9", MeasureOptions(), connect_timeout_s=2)
