"""Injective kernels: reshaping, transposition, concatenation, slicing, gathering, padding."""

from __future__ import annotations

from typing import Any

import numpy as np

from tessera.runtime.reference.common import Kernel


def flatten(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    axis = a.get("axis", 1) % (x.ndim + 1) if x.ndim else 0
    return x.reshape(int(np.prod(x.shape[:axis])), -1)


def reshape(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    return xs[0].reshape(tuple(a["shape"]))


def transpose(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    perm = a.get("perm")
    return np.transpose(xs[0], None if perm is None else tuple(perm))


def concat(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    return np.concatenate(xs, axis=a["axis"])


def split(xs: list[np.ndarray], a: dict[str, Any]) -> tuple[np.ndarray, ...]:
    x = xs[0]
    axis = a.get("axis", 0)
    bounds = np.cumsum(a["split"])[:-1]
    return tuple(np.split(x, bounds, axis=axis))


def slice_(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    index = [slice(None)] * x.ndim
    steps = a.get("steps") or [1] * len(a["starts"])
    for start, end, axis, step in zip(a["starts"], a["ends"], a["axes"], steps):
        dim = x.shape[axis]
        s = start + dim if start < 0 else start
        e = end + dim if end < 0 else end
        if step > 0:
            s, e = min(max(s, 0), dim), min(max(e, 0), dim)
        else:
            s, e = min(max(s, 0), dim - 1), min(max(e, -1), dim - 1)
        index[axis] = slice(s, e if e >= 0 else None, step)
    return x[tuple(index)]


def gather(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x, idx = xs
    axis = a.get("axis", 0) % x.ndim
    idx = np.where(idx < 0, idx + x.shape[axis], idx)
    return np.take(x, idx, axis=axis)


def gather_elements(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x, idx = xs
    axis = a.get("axis", 0) % x.ndim
    idx = np.where(idx < 0, idx + x.shape[axis], idx)
    return np.take_along_axis(x, idx, axis=axis)


def squeeze(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    axes = a.get("axes")
    if axes is None:
        return np.squeeze(x)
    return np.squeeze(x, axis=tuple(v % x.ndim for v in axes))


def unsqueeze(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    out_rank = x.ndim + len(a["axes"])
    axes = sorted(v % out_rank for v in a["axes"])
    for ax in axes:
        x = np.expand_dims(x, ax)
    return x


def pad(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    pads = list(a["pads"])
    n = x.ndim
    widths = [(pads[i], pads[i + n]) for i in range(n)]
    mode = a.get("mode", "constant")
    # negative pads crop
    crop = tuple(
        slice(max(0, -b), x.shape[i] - max(0, -e)) for i, (b, e) in enumerate(widths)
    )
    x = x[crop]
    widths = [(max(0, b), max(0, e)) for b, e in widths]
    if mode == "constant":
        return np.pad(x, widths, mode="constant", constant_values=x.dtype.type(a.get("value", 0)))
    np_mode: Any = {"reflect": "reflect", "edge": "edge", "wrap": "wrap"}[mode]
    return np.pad(x, widths, mode=np_mode)


def shape(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    dims = np.array(xs[0].shape, dtype=np.int64)
    return dims[a.get("start", 0) : a.get("end")]


def size(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    return np.array(xs[0].size, dtype=np.int64)


def constant_of_shape(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    dtype = np.dtype(a.get("dtype", "float32"))
    return np.full(tuple(a["shape"]), a.get("value", 0.0), dtype=dtype)


def expand(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    target = np.broadcast_shapes(x.shape, tuple(a["shape"]))
    return np.broadcast_to(x, target).copy()


def tile(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    return np.tile(xs[0], tuple(a["repeats"]))


def depth_to_space(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    b = a["blocksize"]
    n, c, h, w = x.shape
    if a.get("mode", "DCR") == "DCR":
        t = x.reshape(n, b, b, c // (b * b), h, w).transpose(0, 3, 4, 1, 5, 2)
    else:
        t = x.reshape(n, c // (b * b), b, b, h, w).transpose(0, 1, 4, 2, 5, 3)
    return t.reshape(n, c // (b * b), h * b, w * b)


def space_to_depth(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    b = a["blocksize"]
    n, c, h, w = x.shape
    perm = (0, 3, 5, 1, 2, 4) if a.get("mode", "DCR") == "DCR" else (0, 1, 3, 5, 2, 4)
    t = x.reshape(n, c, h // b, b, w // b, b).transpose(perm)
    return t.reshape(n, c * b * b, h // b, w // b)


def layout_transform(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    """NCHW <-> NCHW[c]c: ``src`` and ``dst`` are "NCHW" or "NCHW{c}c"."""
    x = xs[0]
    src, dst = a["src"], a["dst"]
    if src == "NCHW" and dst.startswith("NCHW") and dst.endswith("c"):
        c = int(dst[4:-1])
        n, ch, h, w = x.shape
        return np.ascontiguousarray(x.reshape(n, ch // c, c, h, w).transpose(0, 1, 3, 4, 2))
    if dst == "NCHW" and src.startswith("NCHW") and src.endswith("c"):
        n, cb, h, w, c = x.shape
        return np.ascontiguousarray(x.transpose(0, 1, 4, 2, 3).reshape(n, cb * c, h, w))
    raise ValueError(f"layout_transform from {src} to {dst} is not supported")


KERNELS: dict[str, Kernel] = {
    "Flatten": flatten, "Reshape": reshape, "Transpose": transpose, "Concat": concat,
    "Split": split, "Slice": slice_, "Gather": gather, "GatherElements": gather_elements,
    "Squeeze": squeeze, "Unsqueeze": unsqueeze, "Pad": pad, "Shape": shape, "Size": size,
    "ConstantOfShape": constant_of_shape, "Expand": expand, "Tile": tile,
    "DepthToSpace": depth_to_space, "SpaceToDepth": space_to_depth,
    "LayoutTransform": layout_transform,
}
