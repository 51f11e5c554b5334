"""The learned cost model: XGBoost ranking over loop-nest and hardware features.

It trains on *every* successful record in the database (all workloads, all hardware), grouped
by (workload, hardware) with the ``rank:pairwise`` objective: inside a group, a record's label
is its speed relative to the group's best (``best_cost / cost``), so only the order within a
workload matters and workloads of any size train one model together. That is how a new task
starts from what the database already knows, and why the model keeps learning as records
arrive.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import numpy as np

from tessera.compiler.autotune.database import Record
from tessera.compiler.autotune.features import N_LOOP_FEATURES
from tessera.compiler.autotune.hardware import HW_FEATURES, hw_features

log = logging.getLogger(__name__)
N_FEATURES = N_LOOP_FEATURES + HW_FEATURES


def feature_row(loop: Sequence[float], hw: dict[str, Any]) -> list[float]:
    return [*loop, *hw_features(hw)]


class CostModel:
    """``fit(records)`` then ``predict(rows)``: higher scores mean faster candidates."""

    def __init__(self, seed: int = 0, rounds: int = 60, min_records: int = 8) -> None:
        self.seed = seed
        self.rounds = rounds
        self.min_records = min_records
        self._booster: Any = None
        self.trained_on = 0

    @property
    def trained(self) -> bool:
        return self._booster is not None

    def fit(self, records: Sequence[Record]) -> int:
        """Train on the successful records that carry features; returns how many it used."""
        import xgboost as xgb

        groups: dict[tuple[str, str, str], list[Record]] = {}
        for r in records:
            if r.ok and r.features is not None and len(r.features) == N_LOOP_FEATURES:
                groups.setdefault((r.workload, r.target, r.hw_key), []).append(r)
        rows: list[list[float]] = []
        labels: list[float] = []
        sizes: list[int] = []
        for recs in groups.values():
            if len(recs) < 2:
                continue
            best = min(float(r.cost or 0.0) for r in recs)
            for r in recs:
                rows.append(feature_row(r.features or (), r.hw))
                labels.append(best / float(r.cost or best))
            sizes.append(len(recs))
        if len(rows) < self.min_records:
            self._booster = None
            self.trained_on = 0
            return 0
        dm = xgb.DMatrix(np.asarray(rows, np.float32), label=np.asarray(labels, np.float32))
        dm.set_group(sizes)
        params = {"objective": "rank:pairwise", "eta": 0.2, "max_depth": 6,
                  "min_child_weight": 1, "subsample": 1.0, "seed": self.seed, "nthread": 1,
                  "verbosity": 0}
        self._booster = xgb.train(params, dm, num_boost_round=self.rounds)
        self.trained_on = len(rows)
        log.debug("cost model trained on %d records in %d groups", len(rows), len(sizes))
        return len(rows)

    def predict(self, rows: Sequence[Sequence[float]]) -> np.ndarray:
        import xgboost as xgb

        if self._booster is None or not rows:
            return np.zeros(len(rows))
        return np.asarray(self._booster.predict(xgb.DMatrix(np.asarray(rows, np.float32))))
