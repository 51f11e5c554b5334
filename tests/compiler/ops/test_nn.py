"""softmax and layer normalization against numpy."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_testutil import run_op

from tessera.compiler import ops
from tessera.compiler import tensor as te

shapes = st.sampled_from([(1,), (13,), (1, 1), (3, 17), (2, 5, 64), (4, 33)])


@settings(max_examples=6)
@given(shape=shapes, seed=st.integers(0, 1000))
def test_softmax_matches_numpy(shape, seed):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(shape) * 5).astype(np.float32)
    X = te.placeholder(shape, name="X")
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    np.testing.assert_allclose(run_op(ops.softmax(X), [X], [x]), e / e.sum(-1, keepdims=True),
                               rtol=1e-5, atol=1e-6)


@settings(max_examples=6)
@given(shape=shapes, seed=st.integers(0, 1000), two_axes=st.booleans())
def test_layer_norm_matches_numpy(shape, seed, two_axes):
    axis = -2 if two_axes and len(shape) >= 2 else -1
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    norm = shape[axis % len(shape):]
    g = rng.standard_normal(norm).astype(np.float32)
    b = rng.standard_normal(norm).astype(np.float32)
    X, G, B = (te.placeholder(s, name=n) for s, n in ((shape, "X"), (norm, "G"), (norm, "B")))
    axes = tuple(range(axis % len(shape), len(shape)))
    mu = x.mean(axis=axes, keepdims=True)
    var = ((x - mu) ** 2).mean(axis=axes, keepdims=True)
    ref = (x - mu) / np.sqrt(var + 1e-5) * g + b
    got = run_op(ops.layer_norm(X, G, B, axis=axis), [X, G, B], [x, g, b])
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-4)
