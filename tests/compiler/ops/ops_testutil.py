"""Shared helpers for the operator tests: build an operator with its default schedule and
run it on numpy arrays."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tessera.compiler import ops
from tessera.compiler import tensor as te
from tessera.compiler.codegen import build


def run_op(out: te.Tensor, inputs: Sequence[te.Tensor], arrays: Sequence[np.ndarray],
           sch: te.Schedule | None = None) -> np.ndarray:
    s = sch or ops.schedule(out)
    trace: list[tuple[str, te.PrimFunc]] = []
    f = te.lower(s, list(inputs) + [out], trace=trace)
    for _, g in trace:  # the verifier after every lowering pass
        te.verify(g)
    kernel = build(f, list(inputs) + [out])
    res = np.full(out.shape, np.nan if out.dtype.startswith("float") else 0, dtype=out.dtype)
    kernel(*[np.ascontiguousarray(a) for a in arrays], res)
    return res


def rand(rng: np.random.Generator, shape: Sequence[int], dtype: str = "float32") -> np.ndarray:
    if dtype.startswith("float"):
        return rng.standard_normal(tuple(shape)).astype(dtype)
    return rng.integers(-50, 50, size=tuple(shape)).astype(dtype)
