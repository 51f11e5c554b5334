"""Helpers for the tensor-expression tests: small workloads, lowering with the verifier
after every pass, and running against numpy."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from tessera.compiler import tensor as te
from tessera.compiler.codegen import build


def matmul(m: int = 12, n: int = 10, k: int = 7):
    A = te.placeholder((m, k), name="A")
    B = te.placeholder((k, n), name="B")
    r = te.reduce_axis(k, "k")
    C = te.compute((m, n), lambda i, j: te.sum(A[i, r] * B[r, j], axis=r), name="C")
    return A, B, C


def lower_checked(s: te.Schedule, args: Sequence[te.Tensor]) -> te.PrimFunc:
    trace: list[tuple[str, te.PrimFunc]] = []
    f = te.lower(s, args, trace=trace)
    for _, g in trace:
        te.verify(g)
    return f


def run(s: te.Schedule, args: Sequence[te.Tensor], arrays: Sequence[np.ndarray]) -> np.ndarray:
    f = lower_checked(s, args)
    out = args[-1]
    res = np.full(out.shape, np.nan, dtype=out.dtype) if out.dtype.startswith("float") else \
        np.zeros(out.shape, out.dtype)
    build(f, args)(*arrays, res)
    return res


def check_matmul(s: te.Schedule, A: te.Tensor, B: te.Tensor, C: te.Tensor, seed: int = 0) -> str:
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(A.shape).astype(np.float32)
    b = rng.standard_normal(B.shape).astype(np.float32)
    np.testing.assert_allclose(run(s, [A, B, C], [a, b]), a @ b, rtol=1e-5, atol=1e-5)
    return str(lower_checked(s, [A, B, C]))
