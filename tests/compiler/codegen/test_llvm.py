"""LLVM code generation: dtypes, intrinsics, vectors, the kernel cache, host features."""

from __future__ import annotations

import math

import numpy as np
import pytest

from tessera.compiler import tensor as te
from tessera.compiler.codegen import build, codegen_llvm
from tessera.compiler.errors import CompileError, UnsupportedError


def _elementwise(dtype: str, fn, n: int = 37, vectorize: bool = True):
    X = te.placeholder((n,), dtype, "X")
    Y = te.compute((n,), lambda i: fn(X[i]), name="Y")
    s = te.create_schedule(Y)
    if vectorize:
        _, inner = s[Y].split(s[Y].op.axis[0], factor=8)
        s[Y].vectorize(inner)
    return build(s, [X, Y]), Y


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int16", "int32", "int64", "float32",
                                   "float64"])
def test_arithmetic_in_every_dtype(dtype):
    kernel, Y = _elementwise(dtype, lambda v: v * 3 + v // 2 if not dtype.startswith("float")
                             else v * 3.0 + v / 2.0)
    rng = np.random.default_rng(0)
    x = rng.integers(-40, 40, 37).astype(dtype) if not dtype.startswith("float") else \
        rng.standard_normal(37).astype(dtype)
    if dtype == "uint8":
        x = np.abs(x.astype(np.int16)).astype(np.uint8)
    y = np.zeros(37, Y.dtype)
    kernel(x, y)
    want = x * 3 + x // 2 if not dtype.startswith("float") else x * 3 + x / 2
    np.testing.assert_allclose(y, want.astype(dtype), rtol=1e-6)


def test_floor_division_and_modulo_follow_python():
    X = te.placeholder((8,), "int32", "X")
    Y = te.compute((8,), lambda i: X[i] // 3 * 10 + X[i] % 3, name="Y")
    k = build(te.create_schedule(Y), [X, Y])
    x = np.array([-7, -6, -1, 0, 1, 5, 6, 7], np.int32)
    y = np.zeros(8, np.int32)
    k(x, y)
    np.testing.assert_array_equal(y, x // 3 * 10 + x % 3)


@pytest.mark.parametrize("name", ["exp", "log", "sqrt", "tanh", "erf", "sigmoid", "fabs"])
@pytest.mark.parametrize("vectorize", [False, True])
def test_math_intrinsics(name, vectorize):
    fn = getattr(te, name)
    kernel, _ = _elementwise("float32", fn, vectorize=vectorize)
    x = np.linspace(0.1, 3.0, 37, dtype=np.float32)
    y = np.zeros(37, np.float32)
    kernel(x, y)
    ref = {"exp": np.exp, "log": np.log, "sqrt": np.sqrt, "tanh": np.tanh, "fabs": np.abs,
           "erf": np.vectorize(math.erf), "sigmoid": lambda v: 1 / (1 + np.exp(-v))}[name]
    np.testing.assert_allclose(y, ref(x), rtol=2e-6)


def test_gather_when_the_index_is_not_linear():
    X = te.placeholder((64,), "float32", "X")
    Y = te.compute((16,), lambda i: X[(i * i) % 64], name="Y")
    s = te.create_schedule(Y)
    s[Y].vectorize(s[Y].op.axis[0])
    f = te.lower(s, [X, Y])
    assert "ramp(" in str(f)
    x = np.arange(64, dtype=np.float32)
    y = np.zeros(16, np.float32)
    build(f, [X, Y])(x, y)
    np.testing.assert_array_equal(y, x[(np.arange(16) ** 2) % 64])


def test_ir_has_noalias_fmuladd_and_vectors():
    A = te.placeholder((4, 16), name="A")
    B = te.placeholder((16,), name="B")
    C = te.compute((4, 16), lambda i, j: A[i, j] * B[j] + 1.0, name="C")
    s = te.create_schedule(C)
    s[C].vectorize(s[C].op.axis[1])
    text = codegen_llvm(te.lower(s, [A, B, C]))
    assert 'ptr noalias %"A"' in text
    assert "llvm.fmuladd.v16f32" in text


def test_kernel_cache_compiles_a_structure_once():
    from tessera.compiler.codegen.build import STATS

    def make():
        X = te.placeholder((10,), name="X")
        Y = te.compute((10,), lambda i: X[i] + 41.5, name="Y")
        return build(te.create_schedule(Y), [X, Y])

    first = make()
    hits = STATS["hits"]
    assert make() is first
    assert STATS["hits"] == hits + 1


def test_build_errors():
    X = te.placeholder((3,), name="X")
    Y = te.compute((3,), lambda i: X[i], name="Y")
    s = te.create_schedule(Y)
    with pytest.raises(UnsupportedError, match=r"^build: target must be 'llvm', not 'cuda'$"):
        build(s, [X, Y], target="cuda")
    with pytest.raises(CompileError, match=r"^build: args must be given with a schedule"):
        build(s)
    with pytest.raises(CompileError, match=r"^lower: tensor X is read but must be in args"):
        build(s, [Y])


def test_large_global_intermediate_goes_to_the_heap():
    n = 40000  # 160 KB: above the stack limit
    X = te.placeholder((n,), name="X")
    T = te.compute((n,), lambda i: X[i] * 2.0, name="T")
    Y = te.compute((n,), lambda i: T[n - 1 - i] + 1.0, name="Y")
    s = te.create_schedule(Y)
    k = build(s, [X, Y])
    assert "aligned_alloc" in k.llvm_ir
    x = np.arange(n, dtype=np.float32)
    y = np.zeros(n, np.float32)
    k(x, y)
    np.testing.assert_array_equal(y, x[::-1] * 2 + 1)


@pytest.mark.parametrize("vectorize", [False, True])
def test_bool_tensors_are_bytes_in_memory(vectorize):
    X = te.placeholder((20,), name="X")
    Y = te.compute((20,), lambda i: X[i] > 0.5, name="Y")
    Z = te.compute((20,), lambda i: te.select(Y[i], X[i], te.const(0.0)), name="Z")
    s = te.create_schedule([Y, Z])
    if vectorize:
        for t in (Y, Z):
            _, inner = s[t].split(s[t].op.axis[0], factor=8)
            s[t].vectorize(inner)
    k = build(s, [X, Y, Z])
    x = np.random.default_rng(0).random(20, dtype=np.float32)
    y, z = np.zeros(20, bool), np.zeros(20, np.float32)
    k(x, y, z)
    assert y.view(np.uint8).max() <= 1
    np.testing.assert_array_equal(y, x > 0.5)
    np.testing.assert_array_equal(z, np.where(x > 0.5, x, 0))


def test_handwritten_loop_ir_with_let_if_else_and_evaluate():
    from tessera.compiler.tensor import expr as E
    from tessera.compiler.tensor import stmt as S

    buf = S.Buffer("Y", "float32", (8,))
    i, t = E.Var("int32", "i"), E.Var("int32", "t")
    body = S.LetStmt(t, i * 3, S.seq(
        S.Evaluate(E.exp(E.Const("float32", 0.0))),
        S.IfThenElse(E.cmp("<", i, 4),
                     S.BufferStore(buf, E.cast("float32", t), (i,)),
                     S.BufferStore(buf, E.Const("float32", -1.0), (i,)))))
    f = S.PrimFunc("hand", (buf,), S.For(i, E.const(0), E.const(8), "serial", body))
    te.verify(f)
    y = np.zeros(8, np.float32)
    build(f)(y)
    np.testing.assert_array_equal(y, [0, 3, 6, 9, -1, -1, -1, -1])


@pytest.mark.parametrize("dtype", ["float32", "int8", "float64"])
@pytest.mark.parametrize("stride", [2, 3, 4, 5])
def test_constant_stride_vector_loads(dtype, stride):
    """Strides up to MAX_LOAD_STRIDE load the span once and shuffle; wider ones gather lanes;
    both read exactly the strided elements (a short last vector included)."""
    from tessera.compiler.codegen.llvm_expr import MAX_LOAD_STRIDE

    n = 21
    X = te.placeholder((n * stride,), dtype, "X")
    Y = te.compute((n,), lambda i: X[i * stride] + X[i * stride + stride - 1], name="Y")
    s = te.create_schedule(Y)
    _, inner = s[Y].split(s[Y].op.axis[0], factor=8)
    s[Y].vectorize(inner)
    kernel = build(s, [X, Y])
    assert (f"load <{7 * stride + 1} x" in kernel.llvm_ir) == (stride <= MAX_LOAD_STRIDE)
    x = (np.arange(n * stride) % 50).astype(dtype)
    y = np.zeros(n, dtype)
    kernel(x, y)
    np.testing.assert_array_equal(y, x[::stride] + x[stride - 1::stride])
