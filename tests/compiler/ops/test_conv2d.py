"""conv2d (NCHW, NCHWc) and depthwise conv2d against a numpy reference."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from ops_testutil import run_op

from tessera.compiler import ops
from tessera.compiler import tensor as te


def conv_ref(x: np.ndarray, w: np.ndarray, stride: int, pad: int, groups: int = 1) -> np.ndarray:
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    n, c, h, wd = xp.shape
    o, cg, kh, kw = w.shape
    oh, ow = (h - kh) // stride + 1, (wd - kw) // stride + 1
    win = np.lib.stride_tricks.sliding_window_view(xp, (kh, kw), axis=(2, 3))
    win = win[:, :, ::stride, ::stride][:, :, :oh, :ow]  # n, c, oh, ow, kh, kw
    out = np.zeros((n, o, oh, ow), np.float64)
    opg = o // groups
    for g in range(groups):
        xs = win[:, g * cg:(g + 1) * cg].astype(np.float64)
        ws = w[g * opg:(g + 1) * opg].astype(np.float64)
        out[:, g * opg:(g + 1) * opg] = np.einsum("ncyxij,ocij->noyx", xs, ws)
    return out


@settings(max_examples=6)
@given(n=st.sampled_from([1, 2]), c=st.sampled_from([1, 3, 8]), o=st.sampled_from([1, 5, 16]),
       hw=st.sampled_from([1, 5, 7, 13]), k=st.sampled_from([1, 3]), stride=st.sampled_from([1, 2]),
       pad=st.sampled_from([0, 1]), seed=st.integers(0, 1000))
def test_conv2d_nchw_matches_numpy(n, c, o, hw, k, stride, pad, seed):
    if hw + 2 * pad < k:
        return
    rng = np.random.default_rng(seed)
    D = te.placeholder((n, c, hw, hw), name="D")
    W = te.placeholder((o, c, k, k), name="W")
    out = ops.conv2d_nchw(D, W, stride, pad)
    x = rng.standard_normal((n, c, hw, hw), np.float32)
    w = rng.standard_normal((o, c, k, k), np.float32)
    np.testing.assert_allclose(run_op(out, [D, W], [x, w]), conv_ref(x, w, stride, pad),
                               rtol=1e-4, atol=1e-4)


def test_conv2d_nchw_resnet_layer_shape():
    rng = np.random.default_rng(1)
    D = te.placeholder((1, 16, 28, 28), name="D")
    W = te.placeholder((32, 16, 3, 3), name="W")
    out = ops.conv2d_nchw(D, W, 1, 1)
    x = rng.standard_normal((1, 16, 28, 28), np.float32)
    w = rng.standard_normal((32, 16, 3, 3), np.float32)
    np.testing.assert_allclose(run_op(out, [D, W], [x, w]), conv_ref(x, w, 1, 1), rtol=1e-4,
                               atol=1e-3)


@settings(max_examples=4)
@given(cb=st.sampled_from([1, 2]), ob=st.sampled_from([1, 2]), hw=st.sampled_from([3, 8, 14]),
       pad=st.sampled_from([0, 1]), seed=st.integers(0, 1000))
def test_conv2d_nchwc_matches_numpy(cb, ob, hw, pad, seed):
    rng = np.random.default_rng(seed)
    blk = 8
    c, o = cb * blk, ob * blk
    D = te.placeholder((1, c, hw, hw), name="D")
    W = te.placeholder((o, c, 3, 3), name="W")
    Db = ops.nchw_to_nchwc(D, blk)
    Wb = ops.oihw_to_blocked(W, blk, blk)
    x = rng.standard_normal((1, c, hw, hw), np.float32)
    w = rng.standard_normal((o, c, 3, 3), np.float32)
    xb = run_op(Db, [D], [x])
    wb = run_op(Wb, [W], [w])
    Din = te.placeholder(Db.shape, name="Din")
    Win = te.placeholder(Wb.shape, name="Win")
    out = ops.conv2d_nchwc(Din, Win, 1, pad)
    got = run_op(out, [Din, Win], [xb, wb])
    ref = conv_ref(x, w, 1, pad)  # n, o, y, x -> n, o/blk, y, x, blk
    ref = ref.reshape(1, ob, blk, *ref.shape[2:]).transpose(0, 1, 3, 4, 2)
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-3)


@settings(max_examples=5)
@given(c=st.sampled_from([1, 3, 8]), m=st.sampled_from([1, 2]), hw=st.sampled_from([1, 6, 11]),
       stride=st.sampled_from([1, 2]), pad=st.sampled_from([0, 1]), seed=st.integers(0, 1000))
def test_depthwise_conv2d_matches_numpy(c, m, hw, stride, pad, seed):
    if hw + 2 * pad < 3:
        return
    rng = np.random.default_rng(seed)
    D = te.placeholder((1, c, hw, hw), name="D")
    W = te.placeholder((c * m, 1, 3, 3), name="W")
    out = ops.depthwise_conv2d_nchw(D, W, stride, pad)
    x = rng.standard_normal((1, c, hw, hw), np.float32)
    w = rng.standard_normal((c * m, 1, 3, 3), np.float32)
    np.testing.assert_allclose(run_op(out, [D, W], [x, w]), conv_ref(x, w, stride, pad, c),
                               rtol=1e-4, atol=1e-4)
