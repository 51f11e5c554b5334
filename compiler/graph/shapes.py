"""Shape functions: the output types of an op from its input types and attributes.

Each function raises ``CompileError`` with the reason; the caller (``infer_node``) prefixes
the node. Injective ops whose output shape is easiest stated by their kernel are inferred by
evaluating the reference kernel on zero-stride (memory-free) arrays.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from tessera.compiler.errors import CompileError
from tessera.compiler.graph.ir import TensorType
from tessera.runtime.reference import run_kernel
from tessera.runtime.reference.pool import pool_output_size

ShapeFn = Callable[[list[TensorType], dict[str, Any]], list[TensorType]]


def same(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    return [ts[0]]


def broadcast(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    try:
        shape = np.broadcast_shapes(*[t.shape for t in ts])
    except ValueError:
        shapes = " and ".join(str(list(t.shape)) for t in ts)
        raise CompileError(f"input shapes {shapes} must be broadcastable") from None
    return [TensorType(tuple(shape), ts[0].dtype)]


def compare(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    return [TensorType(broadcast(ts, a)[0].shape, "bool")]


def predicate(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    return [TensorType(ts[0].shape, "bool")]


def where(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    return [TensorType(broadcast(ts, a)[0].shape, ts[1].dtype)]


def cast(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    return [TensorType(ts[0].shape, a["to"])]


def quantize(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    return [TensorType(ts[0].shape, a["dtype"])]


def dequantize(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    return [TensorType(ts[0].shape, ts[1].dtype)]


def _nd_attrs(a: dict[str, Any], nd: int) -> tuple[list[int], list[int], list[int]]:
    return (
        list(a.get("strides") or [1] * nd),
        list(a.get("dilations") or [1] * nd),
        list(a.get("pads") or [0] * 2 * nd),
    )


def conv(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    x, w = ts[0], ts[1]
    if x.dtype != w.dtype:
        raise CompileError(f"weight dtype must be {x.dtype} like the input, not {w.dtype}")
    if len(x.shape) < 3 or len(w.shape) != len(x.shape):
        raise CompileError(
            f"input and weight must have the same rank >= 3, not {list(x.shape)} and "
            f"{list(w.shape)}"
        )
    nd = len(x.shape) - 2
    group = a.get("group", 1)
    if x.shape[1] != w.shape[1] * group:
        raise CompileError(
            f"input channels must be {w.shape[1] * group} (weight {list(w.shape)}, "
            f"group {group}), not {x.shape[1]}"
        )
    if len(ts) > 2 and ts[2].shape != (w.shape[0],):
        raise CompileError(f"bias shape must be [{w.shape[0]}], not {list(ts[2].shape)}")
    strides, dil, pads = _nd_attrs(a, nd)
    out = [
        (x.shape[2 + i] + pads[i] + pads[i + nd] - ((w.shape[2 + i] - 1) * dil[i] + 1))
        // strides[i] + 1
        for i in range(nd)
    ]
    if min(out) <= 0:
        raise CompileError(f"output spatial shape must be positive, not {out}")
    return [TensorType((x.shape[0], w.shape[0], *out), x.dtype)]


def conv_nchwc(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    x, w = ts[0], ts[1]
    if (len(x.shape) != 5 or len(w.shape) != 6 or x.shape[1] != w.shape[1]
            or x.shape[4] != w.shape[4]):
        raise CompileError(
            f"blocked input {list(x.shape)} and weight {list(w.shape)} must agree on the "
            "input-channel blocks"
        )
    n, _, h, wd, _ = x.shape
    ob, _, kh, kw, _, oc = w.shape
    (sh, sw), pads = a.get("strides") or (1, 1), a.get("pads") or (0, 0, 0, 0)
    oh = (h + pads[0] + pads[2] - kh) // sh + 1
    ow = (wd + pads[1] + pads[3] - kw) // sw + 1
    return [TensorType((n, ob, oh, ow, oc), x.dtype)]


def conv_transpose(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    x, w = ts[0], ts[1]
    nd = len(x.shape) - 2
    group = a.get("group", 1)
    if x.shape[1] != w.shape[0]:
        raise CompileError(
            f"input channels must be {w.shape[0]} (weight {list(w.shape)}), not {x.shape[1]}"
        )
    strides, dil, pads = _nd_attrs(a, nd)
    opad = list(a.get("output_padding") or [0] * nd)
    out = [
        strides[i] * (x.shape[2 + i] - 1) + opad[i] + (w.shape[2 + i] - 1) * dil[i] + 1
        - pads[i] - pads[i + nd]
        for i in range(nd)
    ]
    return [TensorType((x.shape[0], w.shape[1] * group, *out), x.dtype)]


def gemm(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    sa, sb = ts[0].shape, ts[1].shape
    if len(sa) != 2 or len(sb) != 2:
        raise CompileError(f"A and B must be 2-D, not {list(sa)} and {list(sb)}")
    m, k = sa[::-1] if a.get("transA", 0) else sa
    k2, n = sb[::-1] if a.get("transB", 0) else sb
    if k != k2:
        raise CompileError(f"inner dimensions must agree, not {k} and {k2}")
    if len(ts) > 2:
        broadcast([TensorType((m, n), ts[0].dtype), ts[2]], a)
    return [TensorType((m, n), ts[0].dtype)]


def matmul(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    sa, sb = list(ts[0].shape), list(ts[1].shape)
    if not sa or not sb:
        raise CompileError("MatMul inputs must have rank >= 1")
    a2 = [1] + sa if len(sa) == 1 else sa
    b2 = sb + [1] if len(sb) == 1 else sb
    if a2[-1] != b2[-2]:
        raise CompileError(f"inner dimensions must agree, not {sa} and {sb}")
    try:
        batch = list(np.broadcast_shapes(tuple(a2[:-2]), tuple(b2[:-2])))
    except ValueError:
        raise CompileError(f"batch dimensions of {sa} and {sb} must broadcast") from None
    out = batch + [a2[-2], b2[-1]]
    if len(sa) == 1:
        out.pop(-2)
    if len(sb) == 1:
        out.pop(-1)
    return [TensorType(tuple(out), ts[0].dtype)]


def pool(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    x = ts[0]
    kernel = list(a["kernel_shape"])
    nd = len(kernel)
    if len(x.shape) != nd + 2:
        raise CompileError(f"input rank must be {nd + 2} for kernel {kernel}, not {len(x.shape)}")
    strides, dil, pads = _nd_attrs(a, nd)
    out = [
        pool_output_size(x.shape[2 + i], kernel[i], strides[i], dil[i], pads[i], pads[i + nd],
                         bool(a.get("ceil_mode", 0)))
        for i in range(nd)
    ]
    return [TensorType((*x.shape[:2], *out), x.dtype)]


def global_pool(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    x = ts[0]
    return [TensorType((*x.shape[:2], *([1] * (len(x.shape) - 2))), x.dtype)]


def channel_norm(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    x = ts[0]
    c = x.shape[1] if len(x.shape) > 1 else 1
    for t in ts[1:]:
        if t.shape != (c,):
            raise CompileError(f"per-channel parameters must have shape [{c}], not {list(t.shape)}")
    return [x]


def layer_norm(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    x = ts[0]
    axis = a.get("axis", -1) % max(len(x.shape), 1)
    stats = TensorType(x.shape[:axis] + (1,) * (len(x.shape) - axis), "float32")
    return [x, stats, stats][: a.get("outputs", 1)]


def reduce(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    x = ts[0]
    rank = len(x.shape)
    axes = a.get("axes")
    if axes is not None and not axes and a.get("noop_with_empty_axes", 0):
        return [x]
    ax = set(range(rank)) if not axes else {v % rank for v in axes}
    keep = a.get("keepdims", 1)
    shape = [1 if i in ax else d for i, d in enumerate(x.shape)] if keep else [
        d for i, d in enumerate(x.shape) if i not in ax
    ]
    return [TensorType(tuple(shape), x.dtype)]


def arg_reduce(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    t = reduce(ts, {"axes": [a.get("axis", 0)], "keepdims": a.get("keepdims", 1)})[0]
    return [TensorType(t.shape, "int64")]


def resize(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    return [TensorType(tuple(a["sizes"]), ts[0].dtype)]


def constant_of_shape(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    return [TensorType(tuple(a["shape"]), a.get("dtype", "float32"))]


def by_evaluation(ts: list[TensorType], a: dict[str, Any], op: str) -> list[TensorType]:
    """Run the reference kernel on zero-stride zeros: exact shapes, no real memory."""
    dummies = [np.broadcast_to(np.zeros((), t.dtype), t.shape) for t in ts]
    try:
        outs = run_kernel(op, dummies, a)
    except (ValueError, IndexError, TypeError, KeyError) as err:
        shapes = ", ".join(str(list(t.shape)) for t in ts)
        raise CompileError(f"inputs of shapes {shapes} are inconsistent: {err}") from None
    return [TensorType.of(o) for o in outs]
