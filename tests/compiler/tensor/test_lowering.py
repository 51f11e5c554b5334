"""Lowering of combined schedules: attachment chains, cache_read + cache_write, conditional
reductions, several outputs."""

from __future__ import annotations

import numpy as np
from tensor_testutil import run

from tessera.compiler import tensor as te
from tessera.compiler.codegen import build


def test_conditional_reduction():
    n = 9
    X = te.placeholder((n, n), name="X")
    k = te.reduce_axis(n, "k")
    Y = te.compute((n,), lambda i: te.sum(X[i, k], axis=k, where=k <= i), name="Y")
    x = np.random.default_rng(0).random((n, n), dtype=np.float32)
    np.testing.assert_allclose(run(te.create_schedule(Y), [X, Y], [x]), np.tril(x).sum(1),
                               rtol=1e-6)


def test_three_level_compute_at_chain():
    X = te.placeholder((20,), name="X")
    A = te.compute((20,), lambda i: X[i] + 1.0, name="A")
    B = te.compute((20,), lambda i: A[i] * 2.0, name="B")
    C = te.compute((20,), lambda i: B[i] - 3.0, name="C")
    s = te.create_schedule(C)
    o, _ = s[C].split(s[C].op.axis[0], factor=6)
    s[B].compute_at(s[C], o)
    s[A].compute_at(s[B], s[B].op.axis[0])
    x = np.random.default_rng(1).random(20, dtype=np.float32)
    np.testing.assert_allclose(run(s, [X, C], [x]), (x + 1) * 2 - 3, rtol=1e-6)


def test_cache_read_inside_cache_write_tile():
    M, N, K = 10, 12, 6
    A = te.placeholder((M, K), name="A")
    B = te.placeholder((K, N), name="B")
    r = te.reduce_axis(K, "k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, r] * B[r, j], axis=r), name="C")
    s = te.create_schedule(C)
    AL = s.cache_read(A, "local", [C])
    CL = s.cache_write(C, "local")
    _, jo, _, _ = s[C].tile(*s[C].op.axis, 4, 5)
    s[CL].compute_at(s[C], jo)
    s[AL].compute_at(s[CL], s[CL].op.reduce_axis[0])
    rng = np.random.default_rng(2)
    a, b = rng.random((M, K), dtype=np.float32), rng.random((K, N), dtype=np.float32)
    np.testing.assert_allclose(run(s, [A, B, C], [a, b]), a @ b, rtol=1e-5)


def test_two_outputs_in_one_kernel():
    X = te.placeholder((6,), name="X")
    Y1 = te.compute((6,), lambda i: X[i] + 1.0, name="Y1")
    Y2 = te.compute((6,), lambda i: Y1[i] * X[i], name="Y2")
    k = build(te.create_schedule([Y1, Y2]), [X, Y1, Y2])
    x = np.arange(6, dtype=np.float32)
    y1, y2 = np.zeros(6, np.float32), np.zeros(6, np.float32)
    k(x, y1, y2)
    np.testing.assert_array_equal(y1, x + 1)
    np.testing.assert_array_equal(y2, (x + 1) * x)


def test_nparts_larger_than_the_extent_and_fused_split_loops():
    X = te.placeholder((5, 7), name="X")
    Y = te.compute((5, 7), lambda i, j: X[i, j] * 2.0, name="Y")
    s = te.create_schedule(Y)
    io, ii = s[Y].split(s[Y].op.axis[0], nparts=8)
    f = s[Y].fuse(ii, s[Y].op.axis[1])
    _, fi = s[Y].split(f, factor=3)
    s[Y].parallel(io)
    s[Y].unroll(fi)
    x = np.random.default_rng(3).random((5, 7), dtype=np.float32)
    np.testing.assert_array_equal(run(s, [X, Y], [x]), x * 2)
