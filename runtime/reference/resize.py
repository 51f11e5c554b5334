"""Resize: nearest and (multi-)linear interpolation, one axis at a time."""

from __future__ import annotations

from typing import Any

import numpy as np

from tessera.runtime.reference.common import Kernel


def source_coords(out: int, size: int, scale: float, mode: str) -> np.ndarray:
    """The input coordinate of each output index under a coordinate transformation mode
    (``size * scale`` is the exact, unrounded output length, as ONNX defines it)."""
    x = np.arange(out, dtype=np.float64)
    length = size * scale
    if mode == "half_pixel":
        return (x + 0.5) / scale - 0.5
    if mode == "pytorch_half_pixel":
        return (x + 0.5) / scale - 0.5 if length != 1 else np.full_like(x, -0.5)
    if mode == "align_corners":
        return x * (size - 1) / (length - 1) if length != 1 else np.zeros_like(x)
    if mode == "asymmetric":
        return x / scale
    if mode == "half_pixel_symmetric":
        adjustment = out / length
        offset = size / 2 * (1 - adjustment)
        return offset + (x + 0.5) / scale - 0.5
    raise ValueError(f"coordinate_transformation_mode {mode!r} is not supported")


def _nearest_index(x: np.ndarray, size: int, rounding: str) -> np.ndarray:
    if rounding == "round_prefer_floor":
        idx = np.ceil(x - 0.5)
    elif rounding == "round_prefer_ceil":
        idx = np.floor(x + 0.5)
    elif rounding == "floor":
        idx = np.floor(x)
    else:
        idx = np.ceil(x)
    return np.clip(idx, 0, size - 1).astype(np.int64)


def resize(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    sizes = list(a["sizes"])
    scales = list(a["scales"])
    mode = a.get("mode", "nearest")
    ctm = a.get("coordinate_transformation_mode", "half_pixel")
    y = x.astype(np.float64) if mode == "linear" else x
    for axis, (out, scale) in enumerate(zip(sizes, scales)):
        size = x.shape[axis]
        if out == size and scale == 1.0:
            continue
        coords = source_coords(out, size, scale, ctm)
        if mode == "nearest":
            idx = _nearest_index(coords, size, a.get("nearest_mode", "round_prefer_floor"))
            y = np.take(y, idx, axis=axis)
        else:
            lo_f = np.floor(coords)
            w = coords - lo_f
            lo = np.clip(lo_f, 0, size - 1).astype(np.int64)
            hi = np.clip(lo_f + 1, 0, size - 1).astype(np.int64)
            shape = [1] * y.ndim
            shape[axis] = out
            w = w.reshape(shape)
            y = np.take(y, lo, axis=axis) * (1 - w) + np.take(y, hi, axis=axis) * w
    return y.astype(x.dtype)


KERNELS: dict[str, Kernel] = {"Resize": resize}
