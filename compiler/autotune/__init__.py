"""tessera.compiler.autotune: schedule search with a learned cost model that keeps learning.

    from tessera.compiler.autotune import (Database, LocalRunner, MeasureOptions, Task,
                                           tune_task)
    db = Database("tuning.db")                       # SQLite, every measurement ever taken
    runner = LocalRunner(MeasureOptions(threads=2))  # spawned processes, timeouts
    res = tune_task(Task("matmul", (256, 256, 256, "float32")), runner, db, trials=64,
                    strategy="xgb", seed=0)

    from tessera.compiler.autotune.dispatch import build_best, apply_history_best
    kernel = build_best(task, db, runner.hw)         # the best known schedule, compiled
    m = tessera.compiler.compile("model.onnx", tuning_db="tuning.db")  # ... for every group

Modules: ``space`` (knobs, configs, legality reasons), ``templates`` (matmul, conv2d_nchw,
conv2d_nchwc -- the convs with their fused epilogue --, vta_conv2d, vta_dense, and faulty_add
for testing the machinery), ``extract`` (``extract_tasks(model, target, layout="auto")``: one
weighted task per distinct fused-operator workload of the graph ``compile`` builds;
``task_of_group``, the one function naming a group's task, which ``compile`` also uses),
``measure`` (process pool with timeouts), ``dask_runner``
(``DaskRunner("tcp://scheduler:8786")``), ``features`` (loop-nest features), ``cost_model``
(XGBoost, rank:pairwise), ``explorer`` (simulated annealing), ``database`` (SQLite),
``tuner`` (``tune_task``, ``tune_tasks``), ``dispatch`` (the best schedule at compile
time), ``plot``. CLI: ``tessera tune MODEL.onnx``.
"""

from tessera.compiler.autotune.cost_model import CostModel
from tessera.compiler.autotune.database import Database, Record
from tessera.compiler.autotune.errors import TuningDatabaseError, TuningError
from tessera.compiler.autotune.measure import (
    LocalRunner,
    MeasureInput,
    MeasureOptions,
    MeasureResult,
    Runner,
)
from tessera.compiler.autotune.space import Config, ConfigSpace, Knob
from tessera.compiler.autotune.task import Task
from tessera.compiler.autotune.tuner import TuneResult, tune_task

__all__ = [
    "Config", "ConfigSpace", "CostModel", "Database", "Knob", "LocalRunner", "MeasureInput",
    "MeasureOptions", "MeasureResult", "Record", "Runner", "Task", "TuneResult",
    "TuningDatabaseError", "TuningError", "tune_task",
]
