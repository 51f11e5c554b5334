"""Pooling kernels: max and average over windows, global pooling."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import numpy as np

from tessera.runtime.reference.common import Kernel, pad_spatial, windows


def pool_output_size(
    size: int, k: int, s: int, d: int, pb: int, pe: int, ceil_mode: bool
) -> int:
    ext = (k - 1) * d + 1
    span = size + pb + pe - ext
    out = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (out - 1) * s >= size + pb:
        out -= 1
    return max(out, 0)


def _geometry(x: np.ndarray, a: dict[str, Any]) -> tuple[list[int], ...]:
    kernel = list(a["kernel_shape"])
    nd = len(kernel)
    strides = list(a.get("strides") or [1] * nd)
    dilations = list(a.get("dilations") or [1] * nd)
    pads = list(a.get("pads") or [0] * 2 * nd)
    ceil_mode = bool(a.get("ceil_mode", 0))
    out = [
        pool_output_size(x.shape[2 + i], kernel[i], strides[i], dilations[i], pads[i],
                         pads[i + nd], ceil_mode)
        for i in range(nd)
    ]
    # extra end padding so that the last (ceil-mode) window fits
    extra = [
        max(0, (out[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1
            - (x.shape[2 + i] + pads[i] + pads[i + nd]))
        for i in range(nd)
    ]
    return kernel, strides, dilations, pads, extra


def _taps(xp: np.ndarray, kernel: list[int], strides: list[int], dilations: list[int],
          out: list[int]) -> Iterator[np.ndarray]:
    """For each kernel tap, the strided view of the padded input it sees."""
    for tap in itertools.product(*[range(k) for k in kernel]):
        yield xp[(slice(None), slice(None)) + tuple(
            slice(t * d, t * d + s * (o - 1) + 1, s)
            for t, d, s, o in zip(tap, dilations, strides, out)
        )]


def max_pool(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    kernel, strides, dilations, pads, extra = _geometry(x, a)
    nd = len(kernel)
    lo = -np.inf if np.issubdtype(x.dtype, np.floating) else np.iinfo(x.dtype).min
    xp = pad_spatial(x, pads[:nd] + [p + e for p, e in zip(pads[nd:], extra)], lo)
    out = [(xp.shape[2 + i] - (kernel[i] - 1) * dilations[i] - 1) // strides[i] + 1
           for i in range(nd)]
    taps = _taps(xp, kernel, strides, dilations, out)
    y = np.array(next(taps))
    for t in taps:
        np.maximum(y, t, out=y)
    return y.astype(x.dtype, copy=False)


def avg_pool(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    kernel, strides, dilations, pads, extra = _geometry(x, a)
    nd = len(kernel)
    wax = tuple(range(2 + nd, 2 + 2 * nd))
    full_pads = pads[:nd] + [p + e for p, e in zip(pads[nd:], extra)]
    xp = pad_spatial(x, full_pads, 0.0)
    total = windows(xp, kernel, strides, dilations).sum(axis=wax)
    ones = np.ones((1, 1) + x.shape[2:], dtype=x.dtype)
    if a.get("count_include_pad", 0):
        ones = pad_spatial(ones, pads, 1.0)
        ones = pad_spatial(ones, [0] * nd + extra, 0.0)
    else:
        ones = pad_spatial(ones, full_pads, 0.0)
    count = windows(ones, kernel, strides, dilations).sum(axis=wax)
    return (total / count).astype(x.dtype)


def global_avg_pool(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    return x.mean(axis=tuple(range(2, x.ndim)), keepdims=True).astype(x.dtype)


def global_max_pool(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    return x.max(axis=tuple(range(2, x.ndim)), keepdims=True)


KERNELS: dict[str, Kernel] = {
    "MaxPool": max_pool, "AveragePool": avg_pool,
    "GlobalAveragePool": global_avg_pool, "GlobalMaxPool": global_max_pool,
}
