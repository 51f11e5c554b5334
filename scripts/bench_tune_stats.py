"""How many trials a search needed, from ``TuneResult`` curves (``bench_tune``'s statistics).

``runs`` maps a search name (random, xgb, xgb_transfer) to its results, one per seed (None
for a seed not run); every count is against the best any search of any seed found.
"""

from __future__ import annotations

import math

import numpy as np

from tessera.compiler.autotune.tuner import TuneResult


def trials_to_95(results: dict[str, TuneResult | None]) -> dict[str, int | None]:
    """One result per search: trials to 95% of the best any of them found."""
    per_seed = trials_to_seeds({k: [r] for k, r in results.items()}, 0.95)
    return {k: v[0] for k, v in per_seed.items()}


def overall_best(runs: dict[str, list[TuneResult | None]]) -> float | None:
    return min((r.best_cost for rs in runs.values() for r in rs if r and r.best_cost),
               default=None)


def trials_to_seeds(runs: dict[str, list[TuneResult | None]],
                    fraction: float) -> dict[str, list[int | None]]:
    """Per search, per seed: trials to ``fraction`` of the best any search of any seed
    found."""
    best = overall_best(runs)
    return {k: [(r.trials_to(fraction, best) if r is not None else None) for r in rs]
            for k, rs in runs.items()}


def quality_at(runs: dict[str, list[TuneResult | None]], trial: int) -> dict[str, float]:
    """Per search, the median over seeds of (overall best / best so far) after ``trial``
    trials: where a search stands early, less sensitive than a threshold to a band of
    near-best points that timing noise moves across it."""
    best = overall_best(runs) or 0.0
    out: dict[str, float] = {}
    for k, rs in runs.items():
        vals = []
        for r in rs:
            curve = r.best_so_far() if r is not None else []
            at = curve[min(trial, len(curve)) - 1] if curve else None
            vals.append(best / at if at else 0.0)
        out[k] = round(float(np.median(vals)), 3) if vals else 0.0
    return out


def median_of(per_seed: dict[str, list[int | None]]) -> dict[str, float | None]:
    """The median over seeds; a seed that never reached 95% counts as more than any that
    did (it sorts last), and the median is None when half or more never reached it."""
    out: dict[str, float | None] = {}
    for k, v in per_seed.items():
        if not v:
            out[k] = None
            continue
        keyed = sorted(v, key=lambda x: math.inf if x is None else x)
        mid = len(keyed) // 2
        pair = keyed[mid - 1:mid + 1] if len(keyed) % 2 == 0 else [keyed[mid]]
        out[k] = None if None in pair else float(np.median(pair))
    return out
