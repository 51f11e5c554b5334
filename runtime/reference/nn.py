"""Neural-network kernels: convolution, dense, normalization, softmax, reductions."""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from tessera.runtime.reference.common import Kernel, pad_spatial


def conv(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    """N-d grouped convolution: im2col in NCHW order (one strided copy per kernel tap) and
    one batched matmul ``W[g] (Mg, Cg*K) @ cols[n, g] (Cg*K, P)``; no transposes."""
    x, w = xs[0], xs[1]
    out_dtype = x.dtype
    if x.dtype == np.float16:  # accumulate half precision in single
        x, w = x.astype(np.float32), w.astype(np.float32)
    nd = x.ndim - 2
    group = a.get("group", 1)
    strides = list(a.get("strides") or [1] * nd)
    dilations = list(a.get("dilations") or [1] * nd)
    pads = list(a.get("pads") or [0] * 2 * nd)
    kernel = list(w.shape[2:])
    n, c = x.shape[:2]
    m = w.shape[0]
    cg, mg = c // group, m // group
    xp = pad_spatial(x, pads, 0.0)
    out_sp = tuple(
        (xp.shape[2 + i] - (kernel[i] - 1) * dilations[i] - 1) // strides[i] + 1
        for i in range(nd)
    )
    if group == c and cg == 1 and mg == 1:  # depthwise: taps times per-channel weights
        y = np.zeros((n, c) + out_sp, dtype=np.result_type(x, w))
        for tap in itertools.product(*[range(k) for k in kernel]):
            y += _tap(xp, tap, dilations, strides, out_sp) * w[(slice(None), 0) + tap].reshape(
                (1, c) + (1,) * nd)
    else:
        kk = int(np.prod(kernel))
        if kk == 1 and not any(pads):
            cols = xp[(slice(None), slice(None)) + tuple(slice(None, None, s) for s in strides)]
            cols = cols.reshape(n, group, cg, -1)
        else:
            cols = np.empty((n, c, kk) + out_sp, dtype=x.dtype)
            for t, tap in enumerate(itertools.product(*[range(k) for k in kernel])):
                cols[:, :, t] = _tap(xp, tap, dilations, strides, out_sp)
            cols = cols.reshape(n, group, cg * kk, -1)
        y = np.matmul(w.reshape(group, mg, -1)[None], cols).reshape((n, m) + out_sp)
    if len(xs) > 2:
        y += xs[2].reshape((1, m) + (1,) * nd).astype(y.dtype)
    return y.astype(out_dtype, copy=False)


def _tap(
    xp: np.ndarray, tap: tuple[int, ...], dilations: list[int], strides: list[int],
    out_sp: tuple[int, ...],
) -> np.ndarray:
    """The input elements one kernel tap sees, for every output position."""
    index = (slice(None), slice(None)) + tuple(
        slice(t * d, t * d + s * (o - 1) + 1, s)
        for t, d, s, o in zip(tap, dilations, strides, out_sp)
    )
    return xp[index]


def conv_nchwc(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    """Blocked 2-D convolution: data (N, C/b, H, W, b), weight (O/b, C/b, KH, KW, b, b)
    (input-channel block before output-channel block), bias (O/b, 1, 1, b); output
    (N, O/b, OH, OW, b). Semantics: unblock, ``conv``, block again."""
    x, w = xs[0], xs[1]
    n, cb, h, wd, b = x.shape
    ob, _, kh, kw, _, oc = w.shape
    xn = x.transpose(0, 1, 4, 2, 3).reshape(n, cb * b, h, wd)
    wn = w.transpose(0, 5, 1, 4, 2, 3).reshape(ob * oc, cb * b, kh, kw)
    args = [xn, wn] + ([xs[2].reshape(-1)] if len(xs) > 2 else [])
    y = conv(args, {"strides": a.get("strides"), "pads": a.get("pads"), "group": 1})
    _, _, oh, ow = y.shape
    return np.ascontiguousarray(y.reshape(n, ob, oc, oh, ow).transpose(0, 1, 3, 4, 2))


def conv_transpose(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    """N-d grouped transposed convolution: scatter one kernel tap at a time."""
    x, w = xs[0], xs[1]
    nd = x.ndim - 2
    group = a.get("group", 1)
    strides = list(a.get("strides") or [1] * nd)
    dilations = list(a.get("dilations") or [1] * nd)
    pads = list(a.get("pads") or [0] * 2 * nd)
    out_pad = list(a.get("output_padding") or [0] * nd)
    n, c = x.shape[:2]
    kernel = list(w.shape[2:])
    cg, mg = c // group, w.shape[1]
    spatial = x.shape[2:]
    full = [
        s * (i - 1) + (k - 1) * d + 1 + op
        for s, i, k, d, op in zip(strides, spatial, kernel, dilations, out_pad)
    ]
    y = np.zeros((n, group, mg, *full), dtype=np.float64)
    xg = x.reshape((n, group, cg) + spatial)
    wg = w.reshape((group, cg, mg) + tuple(kernel))
    for tap in itertools.product(*[range(k) for k in kernel]):
        contrib = np.einsum("ngc...,gcm->ngm...", xg, wg[(slice(None),) * 3 + tap])
        index = (slice(None),) * 3 + tuple(
            slice(t * d, t * d + s * (i - 1) + 1, s)
            for t, d, s, i in zip(tap, dilations, strides, spatial)
        )
        y[index] += contrib
    crop = (slice(None),) * 3 + tuple(
        slice(pads[i], full[i] - pads[i + nd]) for i in range(nd)
    )
    out_sp = tuple(f - pads[i] - pads[i + nd] for i, f in enumerate(full))
    out = y[crop].reshape((n, group * mg) + out_sp)
    if len(xs) > 2:
        out = out + xs[2].reshape((1, -1) + (1,) * nd)
    return out.astype(x.dtype)


def gemm(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    A, B = xs[0], xs[1]
    if a.get("transA", 0):
        A = A.T
    if a.get("transB", 0):
        B = B.T
    y = np.matmul(A, B)
    alpha = a.get("alpha", 1.0)
    if alpha != 1.0:
        y = y * A.dtype.type(alpha)
    if len(xs) > 2:
        beta = a.get("beta", 1.0)
        y = y + (xs[2] * A.dtype.type(beta) if beta != 1.0 else xs[2])
    return y.astype(A.dtype, copy=False)


def matmul(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    return np.matmul(xs[0], xs[1])


def _chan(v: np.ndarray, ndim: int) -> np.ndarray:
    return v.reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x, scale, bias, mean, var = xs
    eps = a.get("epsilon", 1e-5)
    s = scale / np.sqrt(var + eps)
    y = (x - _chan(mean, x.ndim)) * _chan(s, x.ndim) + _chan(bias, x.ndim)
    return y.astype(x.dtype, copy=False)


def instance_norm(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x, scale, bias = xs
    axes = tuple(range(2, x.ndim))
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + a.get("epsilon", 1e-5))
    return (y * _chan(scale, x.ndim) + _chan(bias, x.ndim)).astype(x.dtype)


def layer_norm(xs: list[np.ndarray], a: dict[str, Any]) -> tuple[np.ndarray, ...]:
    """Y, and with ``outputs`` > 1 also Mean and InvStdDev (float32, kept dims)."""
    x, scale = xs[0], xs[1]
    axis = a.get("axis", -1) % x.ndim
    axes = tuple(range(axis, x.ndim))
    xf = x.astype(np.float32)
    mean = xf.mean(axis=axes, keepdims=True)
    var = ((xf - mean) ** 2).mean(axis=axes, keepdims=True)
    inv = 1 / np.sqrt(var + a.get("epsilon", 1e-5))
    y = (xf - mean) * inv * scale
    if len(xs) > 2:
        y = y + xs[2]
    return (y.astype(x.dtype), mean, inv)[: a.get("outputs", 1)]


def lrn(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    size = a["size"]
    c = x.shape[1]
    sq = x.astype(np.float64) ** 2
    total = np.zeros_like(sq)
    lo, hi = (size - 1) // 2, size - 1 - (size - 1) // 2
    for ch in range(c):
        total[:, ch] = sq[:, max(0, ch - lo) : min(c, ch + hi + 1)].sum(axis=1)
    y = x / (a.get("bias", 1.0) + a.get("alpha", 1e-4) / size * total) ** a.get("beta", 0.75)
    return y.astype(x.dtype)


def _softmax_like(log: bool) -> Kernel:
    def kernel(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
        x = xs[0]
        axis = a.get("axis", -1) % max(x.ndim, 1)
        shape = x.shape
        if a.get("coerce_2d", 0):  # opset < 13: flatten to 2-D at axis
            x = x.reshape(int(np.prod(shape[:axis])), -1)
            axis = 1
        e = x - x.max(axis=axis, keepdims=True)
        if log:
            y = e - np.log(np.exp(e).sum(axis=axis, keepdims=True))
        else:
            p = np.exp(e)
            y = p / p.sum(axis=axis, keepdims=True)
        return y.reshape(shape).astype(xs[0].dtype)

    return kernel


_IDENTITY: dict[Any, int] = {np.max: -1, np.min: 1}


def _empty_reduce(x: np.ndarray, ax: Any, keep: bool, sign: int) -> np.ndarray:
    """Max/min over nothing: the identity (-inf/+inf, the integer extremes, False/True)."""
    shape = np.sum(np.zeros(x.shape, np.int8), axis=ax, keepdims=keep).shape
    if x.dtype == np.bool_:
        return np.full(shape, sign > 0)
    if x.dtype.kind == "f":
        return np.full(shape, sign * np.inf, x.dtype)
    info = np.iinfo(x.dtype)
    return np.full(shape, info.max if sign > 0 else info.min, x.dtype)


def _reduce(fn: Any) -> Kernel:
    def kernel(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
        x = xs[0]
        axes = a.get("axes")
        keep = bool(a.get("keepdims", 1))
        ax = None if axes is None else tuple(int(v) % max(x.ndim, 1) for v in axes)
        if ax == () and a.get("noop_with_empty_axes", 0):
            return x
        if ax == ():
            ax = None
        if x.size == 0 and fn in _IDENTITY:
            return _empty_reduce(x, ax, keep, _IDENTITY[fn])
        return np.asarray(fn(x, axis=ax, keepdims=keep)).astype(x.dtype)

    return kernel


def _arg(fn: Any) -> Kernel:
    def kernel(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
        x = xs[0]
        axis = a.get("axis", 0) % x.ndim
        if a.get("select_last_index", 0):
            flipped = np.flip(x, axis)
            out = x.shape[axis] - 1 - fn(flipped, axis=axis)
        else:
            out = fn(x, axis=axis)
        if a.get("keepdims", 1):
            out = np.expand_dims(out, axis)
        return out.astype(np.int64)

    return kernel


def hardmax(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    axis = a.get("axis", -1) % x.ndim
    idx = np.expand_dims(np.argmax(x, axis=axis), axis)
    out = np.zeros_like(x)
    np.put_along_axis(out, idx, 1, axis=axis)
    return out


def cumsum(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    axis = a["axis"] % x.ndim
    y = np.flip(x, axis) if a.get("reverse", 0) else x
    out = np.cumsum(y, axis=axis, dtype=x.dtype)
    if a.get("exclusive", 0):
        out = out - y
    return np.flip(out, axis) if a.get("reverse", 0) else out


def einsum(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    return np.asarray(np.einsum(a["equation"], *xs)).astype(xs[0].dtype)


KERNELS: dict[str, Kernel] = {
    "Conv": conv, "ConvNCHWc": conv_nchwc, "ConvTranspose": conv_transpose, "Gemm": gemm,
    "MatMul": matmul,
    "BatchNormalization": batch_norm, "InstanceNormalization": instance_norm,
    "LayerNormalization": layer_norm, "LRN": lrn,
    "Softmax": _softmax_like(False), "LogSoftmax": _softmax_like(True),
    "ReduceMean": _reduce(np.mean), "ReduceSum": _reduce(np.sum), "ReduceMax": _reduce(np.max),
    "ReduceMin": _reduce(np.min), "ReduceProd": _reduce(np.prod),
    "ReduceL1": _reduce(lambda x, axis, keepdims: np.abs(x).sum(axis=axis, keepdims=keepdims)),
    "ReduceL2": _reduce(
        lambda x, axis, keepdims: np.sqrt((x * x).sum(axis=axis, keepdims=keepdims))
    ),
    "ReduceSumSquare": _reduce(lambda x, axis, keepdims: (x * x).sum(axis=axis, keepdims=keepdims)),
    "ReduceLogSumExp": _reduce(
        lambda x, axis, keepdims: np.log(np.exp(x).sum(axis=axis, keepdims=keepdims))
    ),
    "ArgMax": _arg(np.argmax), "ArgMin": _arg(np.argmin),
    "Hardmax": hardmax, "CumSum": cumsum, "Einsum": einsum,
    "ReduceLogSum": _reduce(
        lambda x, axis, keepdims: np.log(np.sum(x, axis=axis, keepdims=keepdims))
    ),
}
