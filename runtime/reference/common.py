"""Shared helpers of the reference kernels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Kernel = Callable[[list[np.ndarray], dict[str, Any]], "np.ndarray | tuple[np.ndarray, ...]"]


def pad_spatial(x: np.ndarray, pads: list[int], value: float) -> np.ndarray:
    """Pad the spatial axes (2..) of an N, C, *spatial array; ``pads`` is ONNX order
    (all begins, then all ends)."""
    nd = x.ndim - 2
    if not any(pads):
        return x
    shape = x.shape[:2] + tuple(x.shape[2 + i] + pads[i] + pads[i + nd] for i in range(nd))
    out = np.full(shape, value, dtype=x.dtype)
    out[(slice(None), slice(None)) + tuple(
        slice(pads[i], pads[i] + x.shape[2 + i]) for i in range(nd))] = x
    return out


def windows(
    x: np.ndarray, kernel: list[int], strides: list[int], dilations: list[int]
) -> np.ndarray:
    """A strided view N, C, *out, *kernel of the windows of an already padded array."""
    nd = len(kernel)
    ext = [(k - 1) * d + 1 for k, d in zip(kernel, dilations)]
    v = np.lib.stride_tricks.sliding_window_view(x, ext, axis=tuple(range(2, 2 + nd)))
    index = (slice(None), slice(None))
    index += tuple(slice(None, None, s) for s in strides)
    index += tuple(slice(None, None, d) for d in dilations)
    return v[index]
