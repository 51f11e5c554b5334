"""Numpy reference of the accelerator's quantized integer math (the spec lowering is tested on).

An int8 layer on the accelerator computes, exactly:

    acc = sum(x_int8 * w_int8)            int32, wrapping mod 2**32 (never reached in practice)
    acc = acc + bias_int32                ALU ADD (wraps)
    acc = acc >> shift                    ALU SHR by an immediate: arithmetic, rounds down
    acc = min(acc, 127); acc = max(acc, lo)   ALU MIN/MAX; lo = 0 with ReLU, else -128
    out = int8(acc)                       the output buffer keeps the low 8 bits (exact here)

Round-to-nearest is the quantizer's business: it adds ``1 << (shift - 1)`` to the bias, so the
hardware needs no rounding step. Every accelerator test compares against these functions.
"""

from __future__ import annotations

import numpy as np


def _wrap32(x: np.ndarray) -> np.ndarray:
    return x.astype(np.int64).astype(np.uint32).view(np.int32)


def requantize(
    acc: np.ndarray, bias: np.ndarray | None, shift: int, relu: bool, channel_axis: int = 1
) -> np.ndarray:
    """int32 accumulators -> int8 outputs: add bias (per channel), shift, clip (and ReLU)."""
    if not 0 <= shift <= 31:
        raise ValueError(f"requantize: shift must be in [0, 31], not {shift}")
    out = acc.astype(np.int64)
    if bias is not None:
        shape = [1] * acc.ndim
        shape[channel_axis] = -1
        out = out + np.asarray(bias, np.int64).reshape(shape)
    out = _wrap32(out).astype(np.int64) >> shift
    return np.clip(out, 0 if relu else -128, 127).astype(np.int8)


def conv2d_acc(
    x: np.ndarray, w: np.ndarray, stride: tuple[int, int] = (1, 1),
    pad: tuple[int, int, int, int] = (0, 0, 0, 0),
) -> np.ndarray:
    """int8 NCHW x int8 OIHW -> int32 NCHW accumulators; ``pad`` is (top, left, bottom, right)."""
    n, c, h, wd = x.shape
    o, ci, kh, kw = w.shape
    if ci != c:
        raise ValueError(f"conv2d_acc: weight input channels must be {c}, not {ci}")
    t, l, b, r = pad
    xp = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (t, b), (l, r)))
    sh, sw = stride
    oh = (h + t + b - kh) // sh + 1
    ow = (wd + l + r - kw) // sw + 1
    acc = np.zeros((n, o, oh, ow), np.int64)
    w64 = w.astype(np.int64)
    for i in range(kh):
        for j in range(kw):
            patch = xp[:, :, i : i + sh * (oh - 1) + 1 : sh, j : j + sw * (ow - 1) + 1 : sw]
            acc += np.einsum("nchw,oc->nohw", patch, w64[:, :, i, j], optimize=True)
    return _wrap32(acc)


def dense_acc(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """int8 (M, K) x int8 (N, K) -> int32 (M, N) accumulators (weights as in ONNX Gemm transB)."""
    return _wrap32(x.astype(np.int64) @ w.astype(np.int64).T)


def qconv2d(
    x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, shift: int, relu: bool,
    stride: tuple[int, int] = (1, 1), pad: tuple[int, int, int, int] = (0, 0, 0, 0),
) -> np.ndarray:
    """The whole int8 conv2d layer as the accelerator computes it."""
    return requantize(conv2d_acc(x, w, stride, pad), bias, shift, relu, channel_axis=1)


def qdense(
    x: np.ndarray, w: np.ndarray, bias: np.ndarray | None, shift: int, relu: bool
) -> np.ndarray:
    """The whole int8 dense layer as the accelerator computes it."""
    return requantize(dense_acc(x, w), bias, shift, relu, channel_axis=1)
