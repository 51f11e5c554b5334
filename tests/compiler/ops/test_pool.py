"""max / avg / global pooling against numpy."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_testutil import run_op

from tessera.compiler import ops
from tessera.compiler import tensor as te


def pool_ref(x: np.ndarray, k: int, s: int, p: int, kind: str) -> np.ndarray:
    fill = -np.inf if kind == "max" else np.nan
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), constant_values=fill)
    win = np.lib.stride_tricks.sliding_window_view(xp, (k, k), axis=(2, 3))[:, :, ::s, ::s]
    oh = (x.shape[2] + 2 * p - k) // s + 1
    ow = (x.shape[3] + 2 * p - k) // s + 1
    win = win[:, :, :oh, :ow]
    return win.max(axis=(4, 5)) if kind == "max" else np.nanmean(win, axis=(4, 5))


@settings(max_examples=6)
@given(c=st.sampled_from([1, 3, 4]), hw=st.sampled_from([2, 5, 8, 13]),
       k=st.sampled_from([1, 2, 3]), s=st.sampled_from([1, 2]), p=st.sampled_from([0, 1]),
       kind=st.sampled_from(["max", "avg"]), seed=st.integers(0, 1000))
def test_pool2d_matches_numpy(c, hw, k, s, p, kind, seed):
    if p >= k or hw + 2 * p < k:
        return
    rng = np.random.default_rng(seed)
    D = te.placeholder((2, c, hw, hw), name="D")
    fn = ops.max_pool2d if kind == "max" else ops.avg_pool2d
    out = fn(D, k, s, p)
    x = rng.standard_normal((2, c, hw, hw), np.float32)
    np.testing.assert_allclose(run_op(out, [D], [x]), pool_ref(x, k, s, p, kind), rtol=1e-5,
                               atol=1e-5)


@settings(max_examples=4)
@given(c=st.sampled_from([1, 7]), hw=st.sampled_from([1, 5, 9]),
       kind=st.sampled_from(["max", "avg"]), seed=st.integers(0, 1000))
def test_global_pool_matches_numpy(c, hw, kind, seed):
    rng = np.random.default_rng(seed)
    D = te.placeholder((1, c, hw, hw + 1), name="D")
    out = ops.global_pool2d(D, kind)
    x = rng.standard_normal((1, c, hw, hw + 1), np.float32)
    ref = x.max(axis=(2, 3), keepdims=True) if kind == "max" else x.mean(axis=(2, 3),
                                                                         keepdims=True)
    np.testing.assert_allclose(run_op(out, [D], [x]), ref, rtol=1e-5, atol=1e-5)
