"""The best known schedule at compile time.

    kernel = build_best(task, db)            # the fastest recorded schedule, compiled
    with apply_history_best("tuning.db"):    # or make it the default for builds in scope
        cfg = best_config(task)
        choice = choose(task)                # the config and where it came from

Without a record for the task on this hardware (or with one the space no longer accepts),
the operator library's default schedule is used, so a build never fails for want of tuning.
``compile(model, tuning_db=...)`` opens ``apply_history_best`` around its build, and the
compiler's builders record ``choose(task).describe()`` in the plan, so what ran is visible.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass
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


def current() -> Database | None:
    """The database of the innermost ``apply_history_best`` scope, or None."""
    return _CURRENT[-1] if _CURRENT else None


@dataclass(frozen=True)
class Choice:
    """The config a build uses for ``task``, and whether a database record chose it."""

    task: Task
    config: Config
    tuned: bool  # True: the best record's config; False: the library default
    cost: float | None = None  # the record's measured cost (seconds, or cycles on vta)

    def describe(self) -> dict[str, Any]:
        """JSON for the execution plan: workload key, config, source and recorded cost."""
        return {"workload": self.task.key, "target": self.task.target,
                "config": self.config.to_dict(),
                "source": "tuning database" if self.tuned else "default", "cost": self.cost}


def choose(task: Task, db: Database | None = None,
           hw: dict[str, Any] | None = None) -> Choice:
    """The best recorded config of ``task`` on ``hw`` (the template's hardware, else this CPU
    at up to 2 threads), any hardware's best when this one has none, else the default."""
    space = task.space
    database = db or current()
    if database is not None:
        desc = hw or task.impl.hardware(task.args)
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
                    log.info("%s: tuned config %s (recorded cost %s)", task, cfg.to_dict(),
                             rec.cost)
                    return Choice(task, cfg, True, rec.cost)
            except TuningError as err:
                log.warning("%s: recorded schedule no longer fits the space (%s)", task, err)
    return Choice(task, space.from_dict(task.impl.default(task.args)), False)


def best_config(task: Task, db: Database | None = None,
                hw: dict[str, Any] | None = None) -> Config:
    """The best recorded config of ``task`` on ``hw`` (this CPU by default), else the default."""
    return choose(task, db, hw).config


def build_best(task: Task, db: Database | None = None, hw: dict[str, Any] | None = None,
               threads: int | None = None, name: str = "main", choice: Choice | None = None,
               **options: Any) -> Any:
    """Compile ``task`` with its best known schedule (or ``choice``'s config): a ``CpuKernel``
    named ``name`` taking the template's arrays (inputs, then output). ``options`` go to the
    template's ``instantiate`` (matmul: ``trans_b``)."""
    from tessera.compiler.codegen import build

    cfg = (choice or choose(task, db, hw)).config
    sch, tensors = task.impl.instantiate(task.args, cfg, **options)
    kernel = build(sch, tensors, name=name)
    if threads is not None:
        kernel.num_threads = threads
    return kernel
