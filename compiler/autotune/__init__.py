"""tessera.compiler.autotune: schedule search with a learned cost model that keeps learning.

    from tessera.compiler.autotune import (Database, LocalRunner, MeasureOptions, Task,
                                           tune_task)
    db = Database("tuning.db")                       # SQLite, every measurement ever taken
    runner = LocalRunner(MeasureOptions(threads=2))  # spawned processes, timeouts
    res = tune_task(Task("matmul", (256, 256, 256, "float32")), runner, db, trials=64,
                    strategy="xgb", seed=0)
    kernel = build_best(task, db, runner.hw)         # best known schedule, compiled

Tasks come from a model with ``extract_tasks("model.onnx")``; measurements run on a Dask
cluster with ``DaskRunner("tcp://scheduler:8786")``. CLI: ``tessera tune MODEL.onnx``.
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
