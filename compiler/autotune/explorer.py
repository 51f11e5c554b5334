"""The simulated-annealing explorer: proposes the next batch of candidates to measure.

Chains start from the best measured points and from random ones, and walk the knob space one
knob at a time, accepting a move when the cost model scores it higher or, with probability
``exp(delta / T)``, when it does not; the temperature falls linearly. The batch is the best
scored unvisited points, except that each slot is, with probability ``epsilon``, a random
unvisited point instead (the exploration term). Points already measured (in the database)
are never proposed again; points the space rejects score -inf.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence

import numpy as np

from tessera.compiler.autotune.space import Config, ConfigSpace

Scorer = Callable[[Sequence[Config]], np.ndarray]


def random_unvisited(space: ConfigSpace, visited: set[int], rng: random.Random,
                     tries: int = 10000) -> Config | None:
    n = len(space)
    if len(visited) >= n:
        return None
    for _ in range(tries):
        i = rng.randrange(n)
        if i not in visited:
            return space.get(i)
    rest = [i for i in range(n) if i not in visited]
    return space.get(rng.choice(rest)) if rest else None


def anneal(space: ConfigSpace, score: Scorer, visited: set[int], batch: int,
           rng: random.Random, starts: Sequence[Config] = (), n_chains: int = 8,
           n_steps: int = 8, t0: float = 1.0, epsilon: float = 0.15) -> list[Config]:
    chains = list(starts)[:n_chains // 2]
    while len(chains) < n_chains:
        c = random_unvisited(space, set(), rng)
        if c is None:
            break
        chains.append(c)
    seen: dict[int, float] = {}

    def scores(cfgs: Sequence[Config]) -> list[float]:
        todo = [c for c in cfgs if c.index not in seen]
        uniq = list({c.index: c for c in todo}.values())
        if uniq:
            for c, v in zip(uniq, score(uniq)):
                seen[c.index] = float(v)
        return [seen[c.index] for c in cfgs]

    cur = chains
    cur_s = scores(cur)
    for step in range(n_steps):
        temp = max(1e-3, t0 * (1.0 - step / max(1, n_steps)))
        nxt = [space.neighbor(c, rng) for c in cur]
        nxt_s = scores(nxt)
        for k, (a, b) in enumerate(zip(cur_s, nxt_s)):
            if b >= a or (math.isfinite(b) and rng.random() < math.exp((b - a) / temp)):
                cur[k], cur_s[k] = nxt[k], b
    ranked = sorted((i for i in seen if i not in visited and math.isfinite(seen[i])),
                    key=lambda i: (-seen[i], i))
    out: list[Config] = []
    taken = set(visited)
    pick = iter(ranked)
    while len(out) < batch:
        cfg: Config | None
        if rng.random() < epsilon:
            cfg = random_unvisited(space, taken, rng)
        else:
            idx = next(pick, None)
            while idx is not None and idx in taken:
                idx = next(pick, None)
            cfg = space.get(idx) if idx is not None else random_unvisited(space, taken, rng)
        if cfg is None:
            break
        taken.add(cfg.index)
        out.append(cfg)
    return out
