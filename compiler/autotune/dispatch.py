"""The best known schedule at compile time.

    kernel = build_best(task, db)            # the fastest recorded schedule, compiled
    with apply_history_best("tuning.db"):    # or make it the default for builds in scope
        cfg = best_config(task)

Without a record for the task on this hardware (or with one the space no longer accepts),
the operator library's default schedule is used, so a build never fails for want of tuning.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tessera.compiler.autotune.database import Database
from tessera.compiler.autotune.errors import TuningError
from tessera.compiler.autotune.hardware import cpu_descriptor, hw_key
from tessera.compiler.autotune.space import Config
from tessera.compiler.autotune.task import Task

log = logging.getLogger(__name__)
_CURRENT: list[Database] = []


@contextlib.contextmanager
def apply_history_best(db: Database | str | Path) -> Iterator[Database]:
    """Make ``db`` the database that ``best_config``/``build_best`` consult in this scope."""
    database = db if isinstance(db, Database) else Database(db)
    _CURRENT.append(database)
    try:
        yield database
    finally:
        _CURRENT.pop()
        if database is not db:
            database.close()


def best_config(task: Task, db: Database | None = None,
                hw: dict[str, Any] | None = None) -> Config:
    """The best recorded config of ``task`` on ``hw`` (this CPU by default), else the default."""
    space = task.space
    database = db or (_CURRENT[-1] if _CURRENT else None)
    if database is not None:
        desc = hw
        if desc is None:
            threads = cpu_descriptor(1)["cores"]
            desc = cpu_descriptor(min(2, threads))
        rec = database.best(task.key, task.target, hw_key(desc))
        if rec is None:
            rec = database.best(task.key, task.target)  # any hardware: better than nothing
        if rec is not None:
            try:
                cfg = space.from_dict(rec.config)
                if space.check(cfg) is None:
                    return cfg
            except TuningError as err:
                log.warning("%s: recorded schedule no longer fits the space (%s)", task, err)
    return space.from_dict(task.impl.default(task.args))


def build_best(task: Task, db: Database | None = None, hw: dict[str, Any] | None = None,
               threads: int | None = None) -> Any:
    """Compile ``task`` with its best known schedule: a ``CpuKernel`` taking the template's
    arrays (inputs, then output)."""
    from tessera.compiler.codegen import build

    cfg = best_config(task, db, hw)
    sch, tensors = task.impl.instantiate(task.args, cfg)
    kernel = build(sch, tensors)
    if threads is not None:
        kernel.num_threads = threads
    return kernel
