"""matmul / dense against numpy, including odd sizes (primes, 1) and int8."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_testutil import run_op as run

from tessera.compiler import ops
from tessera.compiler import tensor as te

dims = st.sampled_from([1, 2, 3, 7, 13, 16, 17, 31, 33, 64])


@settings(max_examples=8)
@given(m=dims, n=dims, k=dims, seed=st.integers(0, 2**16))
def test_matmul_matches_numpy(m, n, k, seed):
    rng = np.random.default_rng(seed)
    A = te.placeholder((m, k), name="A")
    B = te.placeholder((k, n), name="B")
    C = ops.matmul(A, B)
    a, b = rng.standard_normal((m, k), np.float32), rng.standard_normal((k, n), np.float32)
    np.testing.assert_allclose(run(C, [A, B], [a, b]), a @ b, rtol=1e-4, atol=1e-4)


@settings(max_examples=5)
@given(m=dims, n=dims, k=dims, seed=st.integers(0, 2**16))
def test_dense_with_bias_matches_numpy(m, n, k, seed):
    rng = np.random.default_rng(seed)
    X = te.placeholder((m, k), name="X")
    W = te.placeholder((n, k), name="W")
    b = te.placeholder((n,), name="b")
    out = ops.dense(X, W, b)
    x, w, bias = (rng.standard_normal(s, np.float32) for s in ((m, k), (n, k), (n,)))
    np.testing.assert_allclose(run(out, [X, W, b], [x, w, bias]), x @ w.T + bias,
                               rtol=1e-4, atol=1e-4)


def test_int8_matmul_accumulates_in_int32():
    rng = np.random.default_rng(0)
    A = te.placeholder((5, 37), "int8", name="A")
    B = te.placeholder((37, 19), "int8", name="B")
    C = ops.matmul(A, B)
    assert C.dtype == "int32"
    a = rng.integers(-128, 128, (5, 37)).astype(np.int8)
    b = rng.integers(-128, 128, (37, 19)).astype(np.int8)
    np.testing.assert_array_equal(run(C, [A, B], [a, b]), a.astype(np.int32) @ b.astype(np.int32))


def test_matmul_kernel_is_fma_vectorized():
    from tessera.compiler.codegen import build

    A = te.placeholder((64, 64), name="A")
    B = te.placeholder((64, 64), name="B")
    C = ops.matmul(A, B)
    kernel = build(ops.schedule_matmul(C), [A, B, C], keep_asm=True)
    reg = "zmm" if kernel.target.vector_bits == 512 else "ymm"
    fmas = [ln for ln in kernel.asm.splitlines() if "vfmadd" in ln and reg in ln]
    assert len(fmas) >= 8


def test_odd_shape_matmul_has_no_guards_and_vector_tails():
    A = te.placeholder((13, 8), name="A")
    B = te.placeholder((8, 40), name="B")
    C = ops.matmul(A, B)
    text = str(te.lower(ops.schedule_matmul(C), [A, B, C]))
    assert "if " not in text  # loop partition split every tail off the steady state
    serial = [ln for ln in text.splitlines() if "# serial" in ln]
    assert all(ln.strip().startswith(("for k in", "for kk in")) for ln in serial)


def test_avx2_shaped_micro_kernel_is_correct_too():
    rng = np.random.default_rng(5)
    A = te.placeholder((25, 19), name="A")
    B = te.placeholder((19, 37), name="B")
    C = ops.matmul(A, B, config=ops.MatmulConfig(mr=6, nr=16, lanes=8))
    a, b = rng.standard_normal((25, 19), np.float32), rng.standard_normal((19, 37), np.float32)
    np.testing.assert_allclose(run(C, [A, B], [a, b]), a @ b, rtol=1e-4, atol=1e-4)
