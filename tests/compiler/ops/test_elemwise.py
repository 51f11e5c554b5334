"""Elementwise and broadcast operators against numpy (float32 and int32)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_testutil import run_op

from tessera.compiler import ops
from tessera.compiler import tensor as te

shapes = st.sampled_from([(1,), (7,), (3, 17), (2, 3, 33), (1, 1), (4, 1, 5)])

UNARY = {
    "exp": (ops.exp, np.exp), "log": (ops.log, np.log), "sqrt": (ops.sqrt, np.sqrt),
    "tanh": (ops.tanh, np.tanh), "sigmoid": (ops.sigmoid, lambda x: 1 / (1 + np.exp(-x))),
    "relu": (ops.relu, lambda x: np.maximum(x, 0)), "negative": (ops.negative, np.negative),
    "abs": (ops.abs, np.abs),
    "erf": (ops.erf, np.vectorize(math.erf, otypes=[np.float32])),
    "gelu": (ops.gelu, lambda x: x * (1 + np.vectorize(math.erf)(x / np.sqrt(2))) / 2),
}


@pytest.mark.parametrize("name", sorted(UNARY))
@settings(max_examples=2)
@given(shape=shapes, seed=st.integers(0, 1000))
def test_unary_matches_numpy(name, shape, seed):
    op, ref = UNARY[name]
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    if name in ("log", "sqrt"):
        x = np.abs(x) + 0.1
    X = te.placeholder(shape, name="X")
    np.testing.assert_allclose(run_op(op(X), [X], [x]), ref(x), rtol=2e-5, atol=2e-6)


BINARY = {"add": np.add, "subtract": np.subtract, "multiply": np.multiply,
          "divide": np.divide, "maximum": np.maximum, "minimum": np.minimum}
pairs = st.sampled_from([((5,), (5,)), ((3, 1), (1, 4)), ((2, 3, 17), (17,)), ((1,), (6, 1)),
                         ((4, 1, 33), (4, 2, 1))])


@pytest.mark.parametrize("name", sorted(BINARY))
@settings(max_examples=2)
@given(shapes_=pairs, seed=st.integers(0, 1000))
def test_broadcast_binary_matches_numpy(name, shapes_, seed):
    rng = np.random.default_rng(seed)
    sa, sb = shapes_
    a = rng.standard_normal(sa).astype(np.float32)
    b = rng.standard_normal(sb).astype(np.float32) + (3.0 if name == "divide" else 0.0)
    A, B = te.placeholder(sa, name="A"), te.placeholder(sb, name="B")
    out = getattr(ops, name)(A, B)
    np.testing.assert_allclose(run_op(out, [A, B], [a, b]), BINARY[name](a, b), rtol=1e-6,
                               atol=1e-6)


def test_int32_elementwise_and_cast():
    rng = np.random.default_rng(0)
    a = rng.integers(-1000, 1000, (3, 19)).astype(np.int32)
    b = rng.integers(1, 50, (19,)).astype(np.int32)
    A, B = te.placeholder((3, 19), "int32", "A"), te.placeholder((19,), "int32", "B")
    np.testing.assert_array_equal(run_op(ops.divide(A, B), [A, B], [a, b]), a // b)
    np.testing.assert_array_equal(run_op(ops.relu(A), [A], [a]), np.maximum(a, 0))
    C = ops.cast(A, "int8")
    np.testing.assert_array_equal(run_op(C, [A], [a]), a.astype(np.int8))
    F = ops.cast(A, "float32")
    np.testing.assert_array_equal(run_op(F, [A], [a]), a.astype(np.float32))


def test_clip_and_fused_chain_inlines():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 40)).astype(np.float32)
    X = te.placeholder((5, 40), name="X")
    out = ops.clip(ops.exp(ops.negative(X)), 0.5, 2.0)
    s = ops.schedule(out)
    assert [st.attach_type for st in s.stages] == ["inline", "inline", "root"]
    np.testing.assert_allclose(run_op(out, [X], [x], s), np.clip(np.exp(-x), 0.5, 2.0),
                               rtol=1e-6)
