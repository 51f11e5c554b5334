"""The tuning loop: propose candidates, measure them, store every result, repeat.

    db = Database("tuning.db")
    runner = LocalRunner(MeasureOptions(threads=2))
    result = tune_task(Task("matmul", (256, 256, 256, "float32")), runner, db, trials=64)

``trials`` is the number of measurements the task should have in the database when the
call returns: a run killed part way and started again with the same arguments measures only
what is missing, and never measures a point twice. The first trial of a fresh task is the
operator library's untuned schedule, so every run knows its baseline. Strategies: ``random``
(a seeded permutation of the space) and ``xgb`` (the cost model, trained on the whole
database, guiding the simulated-annealing explorer). While a task is young (fewer than
``TRANSFER_UNTIL`` measurements), ``xgb`` also proposes, for up to half of each batch, the
best configs other workloads of the same template recorded (valid here and unmeasured),
ranked by the cost model: a conv's best tiling usually suits its sibling with another fused
epilogue or a neighbouring shape, and trying it costs one trial.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tessera.compiler.autotune.cost_model import CostModel, feature_row
from tessera.compiler.autotune.database import Database, Record
from tessera.compiler.autotune.errors import TuningError
from tessera.compiler.autotune.explorer import anneal, random_unvisited
from tessera.compiler.autotune.features import feature_ir, loop_features
from tessera.compiler.autotune.hardware import hw_key
from tessera.compiler.autotune.measure import MeasureInput, Runner
from tessera.compiler.autotune.space import Config, ConfigSpace
from tessera.compiler.autotune.task import Task

log = logging.getLogger(__name__)
STRATEGIES = ("random", "xgb")
TRANSFER_UNTIL = 24  # own measurements below which other workloads' best configs are tried
_LOOP_FEATURES: dict[tuple[str, int], list[float] | None] = {}  # (workload, index), process-wide


@dataclass
class TuneResult:
    task: Task
    best_cost: float | None = None
    best_config: dict[str, Any] | None = None
    default_cost: float | None = None
    costs: list[float | None] = field(default_factory=list)  # per trial, None on error
    errors: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    measured_now: int = 0

    @property
    def trials(self) -> int:
        return len(self.costs)

    def best_so_far(self) -> list[float | None]:
        out: list[float | None] = []
        best: float | None = None
        for c in self.costs:
            if c is not None and (best is None or c < best):
                best = c
            out.append(best)
        return out

    def trials_to(self, fraction: float = 0.95, best: float | None = None) -> int | None:
        """Trials until the best so far reached ``fraction`` of ``best`` (speed ratio)."""
        target = best if best is not None else self.best_cost
        if target is None:
            return None
        for k, c in enumerate(self.best_so_far(), 1):
            if c is not None and target / c >= fraction:
                return k
        return None


Progress = Callable[[TuneResult], None]


class _Featurizer:
    """Loop-nest features of a candidate, lowered in this process (cached by index)."""

    def __init__(self, task: Task, hw: dict[str, Any]) -> None:
        self.task, self.hw = task, hw
        self.cache: dict[int, list[float] | None] = {}

    def __call__(self, cfg: Config) -> list[float] | None:
        if cfg.index not in self.cache:
            impl, space = self.task.impl, self.task.space
            feats: list[float] | None = None
            if impl.custom_measure:
                custom = impl.features(self.task.args, cfg)
                feats = feature_row(custom, self.hw) if custom is not None else None
            elif space.check(cfg) is None:
                key = (self.task.key, cfg.index)
                if key not in _LOOP_FEATURES:  # lowering a point is the costly part: once
                    try:
                        sch, tensors = impl.instantiate(self.task.args, cfg)
                        _LOOP_FEATURES[key] = loop_features(feature_ir(sch, tensors))
                    except Exception:  # noqa: BLE001 - an unbuildable point scores -inf
                        _LOOP_FEATURES[key] = None
                loop = _LOOP_FEATURES[key]
                feats = feature_row(loop, self.hw) if loop is not None else None
            self.cache[cfg.index] = feats
        return self.cache[cfg.index]


def tune_task(task: Task, runner: Runner, db: Database, trials: int,
              strategy: str = "xgb", seed: int = 0, batch_size: int = 8,
              progress: Progress | None = None, deadline: float | None = None,
              model: CostModel | None = None, default_first: bool = True) -> TuneResult:
    """Tune ``task`` until it has ``trials`` measurements (or ``deadline``, a monotonic time).
    ``default_first=False`` leaves the library's schedule to the search like any other point
    (to measure a search's own efficiency: benchmarks)."""
    if strategy not in STRATEGIES:
        raise TuningError(f"tune: strategy must be one of {list(STRATEGIES)}, not {strategy!r}")
    if trials < 1:
        raise TuningError(f"tune: trials must be at least 1, not {trials}")
    space, hw = task.space, task.impl.hardware(task.args) or runner.hw
    hk = hw_key(hw)
    default = space.from_dict(task.impl.default(task.args))
    res = TuneResult(task)
    visited: set[int] = set()
    stale = 0
    for r in db.records(task.key, task.target, hk):
        index = _index_in(space, r)
        if index is None:
            stale += 1
            continue
        visited.add(index)
        _account(res, r, index == default.index)
    if stale:
        log.warning("%s: %d recorded configs no longer fit the template's space (skipped)",
                    task, stale)
    rng = random.Random(seed)
    order = _permutation(len(space), rng) if strategy == "random" else None
    model = model or CostModel(seed=seed)
    feat = _Featurizer(task, hw)
    while res.trials < trials and len(visited) < len(space):
        if deadline is not None and time.monotonic() > deadline:
            log.info("%s: time budget reached after %d trials", task, res.trials)
            break
        want = min(batch_size, trials - res.trials)
        if default_first and default.index not in visited:
            cands = [default]
        elif order is not None:
            cands = _next_from(space, order, visited, want)
        else:
            cands = _propose(task, db, model, feat, visited, want, rng, hk)
        if not cands:
            break
        _measure(task, runner, db, cands, visited, res, hw, default.index)
        if progress is not None:
            progress(res)
    return res


def _permutation(n: int, rng: random.Random) -> list[int]:
    idx = list(range(n))
    rng.shuffle(idx)
    return idx


def _next_from(space: ConfigSpace, order: list[int], visited: set[int],
               want: int) -> list[Config]:
    out: list[Config] = []
    while order and len(out) < want:
        i = order.pop()
        if i not in visited:
            out.append(space.get(i))
    return out


def _propose(task: Task, db: Database, model: CostModel, feat: _Featurizer, visited: set[int],
             want: int, rng: random.Random, hk: str) -> list[Config]:
    space = task.space
    records = db.records()
    model.fit(records)
    if not model.trained:
        out: list[Config] = []
        taken = set(visited)
        while len(out) < want:
            c = random_unvisited(space, taken, rng)
            if c is None:
                break
            taken.add(c.index)
            out.append(c)
        return out

    def score(cfgs: Any) -> Any:
        import numpy as np

        rows = [feat(c) for c in cfgs]
        ok = [k for k, r in enumerate(rows) if r is not None]
        out_s = np.full(len(cfgs), -math.inf)
        if ok:
            out_s[ok] = model.predict([rows[k] for k in ok])
        return out_s

    measured = sorted(((float(r.cost or 0.0), index)
                       for r in db.records(task.key, task.target, hk)
                       if r.ok and (index := _index_in(space, r)) is not None),
                      key=lambda m: m[0])  # stable: equal costs keep their record order
    starts = [space.get(index) for _, index in measured[:4]]
    borrowed: list[Config] = []
    if len(measured) < TRANSFER_UNTIL:
        cands = _borrowed_configs(task, records, visited)
        if cands:
            s = score(cands)
            order = sorted(range(len(cands)), key=lambda k: -s[k])
            borrowed = [cands[k] for k in order if math.isfinite(s[k])][:max(1, want // 2)]
    taken = visited | {c.index for c in borrowed}
    return borrowed + anneal(space, score, taken, want - len(borrowed), rng, starts=starts)


def _index_in(space: ConfigSpace, r: Record) -> int | None:
    """The index of ``r``'s config in ``space`` as it is now (a record's stored index is
    the space's at the time it was written: a knob added since moves it), or None when the
    config no longer fits."""
    try:
        return space.from_dict(r.config).index
    except TuningError:
        return None


def _borrowed_configs(task: Task, records: list[Record], visited: set[int]) -> list[Config]:
    """The two best configs of every other workload of ``task``'s template (same target)
    that are legal in ``task``'s space and not yet measured here."""
    space = task.space
    prefix = task.key.split(",", 1)[0] + ","
    by_workload: dict[str, list[Record]] = {}
    for r in records:
        if r.ok and r.target == task.target and r.workload != task.key and \
                r.workload.startswith(prefix):
            by_workload.setdefault(r.workload, []).append(r)
    out: dict[int, Config] = {}
    for recs in by_workload.values():
        recs.sort(key=lambda r: float(r.cost or 0.0))
        for r in recs[:2]:
            try:
                cfg = space.from_dict(r.config)
            except TuningError:
                continue
            if cfg.index not in visited and space.check(cfg) is None:
                out[cfg.index] = cfg
    return list(out.values())


def _measure(task: Task, runner: Runner, db: Database, cands: list[Config], visited: set[int],
             res: TuneResult, hw: dict[str, Any], default_index: int) -> None:
    space = task.space
    done: list[tuple[Config, Record]] = []
    todo: list[Config] = []
    for c in cands:
        visited.add(c.index)
        reason = space.check(c)
        if reason is not None:
            done.append((c, Record(task.key, task.target, hw, c.to_dict(), c.index, None,
                                   (), "invalid", reason)))
        else:
            todo.append(c)
    results = runner.run([MeasureInput(task, c) for c in todo]) if todo else []
    for c, m in zip(todo, results):
        done.append((c, Record(task.key, task.target, hw, c.to_dict(), c.index, m.cost,
                               m.costs, m.error_kind, m.error_msg, m.features, time.time())))
    db.add_many([r for _, r in done])
    res.measured_now += len(todo)
    for c, r in done:
        _account(res, r, c.index == default_index)


def _account(res: TuneResult, r: Record, is_default: bool) -> None:
    if r.error_kind == "invalid":
        res.rejected += 1
        return
    res.costs.append(r.cost if r.ok else None)
    if not r.ok:
        res.errors[r.error_kind or "error"] = res.errors.get(r.error_kind or "error", 0) + 1
    elif res.best_cost is None or (r.cost is not None and r.cost < res.best_cost):
        res.best_cost, res.best_config = r.cost, dict(r.config)
    if res.default_cost is None and r.ok and is_default:
        res.default_cost = r.cost


def tune_tasks(tasks: list[Task], runner: Runner, db: Database, trials: int,
               strategy: str = "xgb", seed: int = 0, batch_size: int = 8,
               progress: Callable[[int, TuneResult], None] | None = None,
               deadline: float | None = None) -> list[TuneResult]:
    """Tune each task in turn (one shared cost model keeps learning across them)."""
    model = CostModel(seed=seed)
    out = []
    for k, task in enumerate(tasks):
        def cb(res: TuneResult, k: int = k) -> None:
            if progress is not None:
                progress(k, res)

        res = tune_task(task, runner, db, trials, strategy, seed, batch_size, cb, deadline,
                        model)
        cb(res)
        out.append(res)
    return out
