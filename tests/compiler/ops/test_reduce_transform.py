"""Reductions, transpose, pad and concat against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_testutil import run_op

from tessera.compiler import ops
from tessera.compiler import tensor as te

KINDS = {"sum": (ops.reduce_sum, np.sum), "max": (ops.reduce_max, np.max),
         "min": (ops.reduce_min, np.min), "mean": (ops.mean, np.mean)}


@pytest.mark.parametrize("kind", sorted(KINDS))
@settings(max_examples=3)
@given(shape=st.sampled_from([(1,), (7,), (3, 17), (2, 3, 5), (3, 100), (70,)]),
       keep=st.booleans(),
       seed=st.integers(0, 1000), data=st.data())
def test_reduce_matches_numpy(kind, shape, keep, seed, data):
    axis = data.draw(st.sampled_from([None, -1, 0] + ([(0, 2)] if len(shape) == 3 else [])))
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    X = te.placeholder(shape, name="X")
    op, ref = KINDS[kind]
    out = op(X, axis=axis, keepdims=keep)
    want = np.asarray(ref(x, axis=axis, keepdims=keep), np.float32).reshape(out.shape)
    np.testing.assert_allclose(run_op(out, [X], [x]), want, rtol=1e-5, atol=1e-5)


def test_long_rows_reduce_in_vector_lanes():
    x = np.random.default_rng(7).standard_normal((5, 200)).astype(np.float32)
    X = te.placeholder((5, 200), name="X")
    out = ops.reduce_max(X, axis=-1)
    s = ops.schedule(out)
    assert [st.name for st in s.stages] == ["max.rf", "max"]
    assert "max.rf[ramp(0, 1, " in str(te.lower(s, [X, out]))
    np.testing.assert_array_equal(run_op(out, [X], [x], s), x.max(-1))


def test_int32_sum():
    x = np.arange(-20, 15, dtype=np.int32).reshape(5, 7)
    X = te.placeholder((5, 7), "int32", "X")
    np.testing.assert_array_equal(run_op(ops.reduce_sum(X, axis=1), [X], [x]), x.sum(1))


@settings(max_examples=5)
@given(shape=st.sampled_from([(3, 17), (2, 3, 5), (1, 4, 1, 33)]), seed=st.integers(0, 100),
       data=st.data())
def test_transpose_matches_numpy(shape, seed, data):
    perm = data.draw(st.permutations(range(len(shape))))
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    X = te.placeholder(shape, name="X")
    np.testing.assert_array_equal(run_op(ops.transpose(X, perm), [X], [x]), x.transpose(perm))


@settings(max_examples=5)
@given(shape=st.sampled_from([(1,), (5, 3), (2, 3, 17)]), seed=st.integers(0, 100),
       data=st.data())
def test_pad_matches_numpy(shape, seed, data):
    before = data.draw(st.lists(st.integers(0, 2), min_size=len(shape), max_size=len(shape)))
    after = data.draw(st.lists(st.integers(0, 2), min_size=len(shape), max_size=len(shape)))
    x = np.random.default_rng(seed).standard_normal(shape).astype(np.float32)
    X = te.placeholder(shape, name="X")
    out = ops.pad(X, before, after, value=1.5)
    np.testing.assert_array_equal(run_op(out, [X], [x]),
                                  np.pad(x, list(zip(before, after)), constant_values=1.5))


@settings(max_examples=5)
@given(sizes=st.lists(st.sampled_from([1, 2, 5, 16]), min_size=1, max_size=3),
       axis=st.sampled_from([0, 1, -1]), seed=st.integers(0, 100))
def test_concat_matches_numpy(sizes, axis, seed):
    rng = np.random.default_rng(seed)
    shapes = [tuple(n if d == axis % 2 else 3 for d in range(2)) for n in sizes]
    xs = [rng.standard_normal(s).astype(np.float32) for s in shapes]
    Xs = [te.placeholder(s, name=f"X{i}") for i, s in enumerate(shapes)]
    out = ops.concat(Xs, axis)
    np.testing.assert_array_equal(run_op(out, Xs, xs), np.concatenate(xs, axis))
