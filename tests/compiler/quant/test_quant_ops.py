"""Quantized ops against an independent numpy reference of the integer math."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera.hw.config import HwConfig
from tessera.runtime.reference import run_kernel


def _conv_ref(x, w, b, shifts, relu, stride, pad):
    """Direct loops over output positions: int64 products, bias, >> shift, clip."""
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    t, lft, btm, r = pad
    xp = np.zeros((n, c, h + t + btm, wd + lft + r), np.int64)
    xp[:, :, t:t + h, lft:lft + wd] = x
    oh = (h + t + btm - kh) // stride + 1
    ow = (wd + lft + r - kw) // stride + 1
    out = np.zeros((n, o, oh, ow), np.int64)
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, :, i * stride:i * stride + kh, j * stride:j * stride + kw]
            out[:, :, i, j] = np.tensordot(patch, w.astype(np.int64), ([1, 2, 3], [1, 2, 3]))
    out = (out + b.reshape(1, -1, 1, 1)) >> np.asarray(shifts).reshape(-1, 1, 1) \
        if np.ndim(shifts) else (out + b.reshape(1, -1, 1, 1)) >> shifts
    return np.clip(out, 0 if relu else -128, 127).astype(np.int8)


@given(
    seed=st.integers(0, 2**31 - 1), c=st.integers(1, 6), o=st.integers(1, 6),
    hw=st.integers(3, 7), k=st.sampled_from([1, 3]), stride=st.sampled_from([1, 2]),
    pad=st.integers(0, 1), shift=st.integers(0, 12), relu=st.booleans(),
    per_channel=st.booleans(),
)
def test_qconv2d_matches_integer_reference(seed, c, o, hw, k, stride, pad, shift, relu,
                                           per_channel):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (1, c, hw, hw), dtype=np.int8)
    w = rng.integers(-127, 128, (o, c, k, k), dtype=np.int8)
    b = rng.integers(-5000, 5000, o).astype(np.int32)
    shifts = [int(s) for s in rng.integers(0, 13, o)] if per_channel else shift
    attrs = {"strides": [stride, stride], "pads": [pad] * 4, "shift": shifts, "relu": int(relu)}
    (got,) = run_kernel("QConv2d", [x, w, b], attrs)
    np.testing.assert_array_equal(got, _conv_ref(x, w, b, shifts, relu, stride, (pad,) * 4))


@given(seed=st.integers(0, 2**31 - 1), m=st.integers(1, 3), k=st.integers(1, 40),
       n=st.integers(1, 20), shift=st.integers(0, 14), relu=st.booleans())
def test_qdense_matches_integer_reference(seed, m, k, n, shift, relu):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (m, k), dtype=np.int8)
    w = rng.integers(-127, 128, (n, k), dtype=np.int8)
    b = rng.integers(-9000, 9000, n).astype(np.int32)
    (got,) = run_kernel("QDense", [x, w, b], {"shift": shift, "relu": int(relu)})
    ref = (x.astype(np.int64) @ w.astype(np.int64).T + b) >> shift
    np.testing.assert_array_equal(got, np.clip(ref, 0 if relu else -128, 127).astype(np.int8))


def test_int8_maxpool_commutes_with_quantization():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(1, 4, 6, 6)).astype(np.float32)
    attrs = {"kernel_shape": [2, 2], "strides": [2, 2], "pads": [0, 0, 0, 0],
             "dilations": [1, 1], "ceil_mode": 0}
    q = np.clip(np.rint(x / 2**-5), -128, 127).astype(np.int8)
    (pooled_q,) = run_kernel("MaxPool", [q], attrs)
    (pooled_f,) = run_kernel("MaxPool", [x], attrs)
    assert pooled_q.dtype == np.int8
    np.testing.assert_array_equal(
        pooled_q, np.clip(np.rint(pooled_f / 2**-5), -128, 127).astype(np.int8))


@pytest.mark.parametrize("cfg", [HwConfig.default(), HwConfig.small()], ids=["default", "small"])
def test_blocked_layout_ops_round_trip_and_blocked_layers(cfg):
    rng = np.random.default_rng(2)
    blocks = {"batch": cfg.batch, "block_in": cfg.block_in, "block_out": cfg.block_out}
    x = rng.integers(-128, 128, (1, 5, 4, 4), dtype=np.int8)
    w = rng.integers(-127, 128, (7, 5, 3, 3), dtype=np.int8)
    b = rng.integers(-500, 500, 7).astype(np.int32)
    (xb,) = run_kernel("AccelPack", [x], blocks)
    assert xb.shape == (1, -(-5 // cfg.block_in), 4, 4, 1, cfg.block_in)
    conv = {"strides": [1, 1], "pads": [1, 1, 1, 1], "shift": 6, "relu": 1}
    (plain,) = run_kernel("QConv2d", [x, w, b], conv)
    (yb,) = run_kernel("QConv2d", [xb, w, b],
                       {**conv, **blocks, "layout": "blocked", "in_shape": [1, 5, 4, 4]})
    (y,) = run_kernel("AccelUnpack", [yb], {**blocks, "shape": [1, 7, 4, 4]})
    np.testing.assert_array_equal(y, plain)
    m = rng.integers(-128, 128, (1, 37), dtype=np.int8)
    (mb,) = run_kernel("AccelPack", [m], blocks)
    assert mb.shape == (1, -(-37 // cfg.block_in), 1, cfg.block_in)
    wd = rng.integers(-127, 128, (10, 37), dtype=np.int8)
    (db,) = run_kernel("QDense", [mb, wd], {"shift": 4, "relu": 0, **blocks,
                                            "layout": "blocked", "in_shape": [1, 37]})
    (d,) = run_kernel("AccelUnpack", [db], {**blocks, "shape": [1, 10]})
    (dref,) = run_kernel("QDense", [m, wd], {"shift": 4, "relu": 0})
    np.testing.assert_array_equal(d, dref)


def test_requantize_rejects_out_of_range_shift():
    acc = np.zeros((1, 2), np.int32)
    with pytest.raises(ValueError, match=r"shifts must be in \[0, 31\], not \[3, 40\]"):
        run_kernel("QDense", [acc.astype(np.int8), np.zeros((2, 2), np.int8)],
                   {"shift": [3, 40], "relu": 0})


@given(seed=st.integers(0, 2**31 - 1), sa=st.integers(0, 4), sb=st.integers(0, 4),
       shift=st.integers(-2, 6), relu=st.booleans())
def test_qadd_matches_integer_reference(seed, sa, sb, shift, relu):
    rng = np.random.default_rng(seed)
    a = rng.integers(-128, 128, (1, 3, 4, 4), dtype=np.int8)
    b = rng.integers(-128, 128, (1, 3, 4, 4), dtype=np.int8)
    (got,) = run_kernel("QAdd", [a, b], {"a_shift": sa, "b_shift": sb, "shift": shift,
                                         "relu": int(relu)})
    s = a.astype(np.int64) * 2**sa + b.astype(np.int64) * 2**sb
    # round half up: floor(s / 2**shift + 1/2); a negative shift multiplies exactly
    ref = np.floor(s / 2.0**shift + 0.5) if shift > 0 else s * 2 ** -shift
    np.testing.assert_array_equal(got, np.clip(ref, 0 if relu else -128, 127).astype(np.int8))
