"""ONNX converters for tensor ops: plain elementwise ops, shape manipulation, constants,
casts; static shape inputs become attributes."""

from __future__ import annotations

import numpy as np
from onnx import numpy_helper

from tessera.compiler.frontend.context import Converter, NodeContext, np_dtype
from tessera.compiler.graph.registry import BINARY_OPS, COMPARE_OPS, UNARY_OPS


def _plain(op: str) -> Converter:
    def convert(cx: NodeContext) -> None:
        cx.emit(op, [i for i in cx.inputs if i], None, cx.outputs)

    return convert


def _ints(v: np.ndarray) -> list[int]:
    return [int(x) for x in np.asarray(v).reshape(-1)]


def constant(cx: NodeContext) -> None:
    a = cx.attrs
    if "value" in a:
        value = numpy_helper.to_array(a["value"])
    elif "value_float" in a:
        value = np.array(a["value_float"], np.float32)
    elif "value_floats" in a:
        value = np.array(a["value_floats"], np.float32)
    elif "value_int" in a:
        value = np.array(a["value_int"], np.int64)
    elif "value_ints" in a:
        value = np.array(a["value_ints"], np.int64)
    else:
        raise cx.unsupported(f"attribute {sorted(a)[0] if a else 'value'} is not supported")
    if value.dtype.kind not in "biuf":
        raise cx.unsupported(f"constant of type {value.dtype} is not supported")
    cx.emit_const(cx.outputs[0], value)


def shape(cx: NodeContext) -> None:
    dims = np.array(cx.in_type(0).shape, np.int64)
    start, end = cx.attr("start", 0), cx.attr("end")
    cx.emit_const(cx.outputs[0], dims[start:end])


def size(cx: NodeContext) -> None:
    cx.emit_const(cx.outputs[0], np.array(cx.in_type(0).size, np.int64))


def constant_of_shape(cx: NodeContext) -> None:
    dims = _ints(cx.const(0, "shape"))
    value = cx.attrs.get("value")
    arr = numpy_helper.to_array(value) if value is not None else np.zeros(1, np.float32)
    cx.emit("ConstantOfShape", [], {"shape": dims, "value": arr.reshape(-1)[0].item(),
                                    "dtype": str(arr.dtype)}, cx.outputs)


def cast(cx: NodeContext) -> None:
    cx.emit("Cast", cx.inputs[:1], {"to": np_dtype(cx.attr("to"), cx.where)}, cx.outputs)


def cast_like(cx: NodeContext) -> None:
    cx.emit("Cast", cx.inputs[:1], {"to": cx.in_type(1).dtype}, cx.outputs)


def identity(cx: NodeContext) -> None:
    cx.emit("Identity", cx.inputs[:1], None, cx.outputs[:1])


def dropout(cx: NodeContext) -> None:
    if cx.has_input(2):
        cx.check(not bool(cx.const(2, "training_mode")), "training_mode=True is not supported")
    cx.check(cx.attr("is_test", 1) == 1, "is_test=0 (training) is not supported")
    cx.emit("Identity", cx.inputs[:1], None, cx.outputs[:1])
    if len(cx.outputs) > 1 and cx.outputs[1]:  # inference: the mask keeps everything
        cx.emit_const(cx.outputs[1], np.ones(cx.in_type(0).shape, bool))


def range_(cx: NodeContext) -> None:
    start, limit, delta = (cx.const(i, n) for i, n in enumerate(("start", "limit", "delta")))
    cx.emit_const(cx.outputs[0], np.arange(start, limit, delta).astype(start.dtype))


def flatten(cx: NodeContext) -> None:
    axis = cx.attr("axis", 1)
    cx.emit("Flatten", cx.inputs, {"axis": axis + cx.rank(0) if axis < 0 else axis}, cx.outputs)


def reshape(cx: NodeContext) -> None:
    src = cx.in_type(0).shape
    req = _ints(cx.const(1, "shape"))
    allowzero = cx.attr("allowzero", 0)
    dims = [src[i] if d == 0 and not allowzero else d for i, d in enumerate(req)]
    if dims.count(-1) > 1:
        raise cx.error(f"shape {req} must have at most one -1")
    total = int(np.prod(src))
    if -1 in dims:
        known = int(np.prod([d for d in dims if d != -1]))
        if known == 0 or total % known:
            raise cx.error(f"cannot reshape {list(src)} into {req}")
        dims[dims.index(-1)] = total // known
    if int(np.prod(dims)) != total:
        raise cx.error(f"cannot reshape {list(src)} ({total} elements) into {req}")
    cx.emit("Reshape", cx.inputs[:1], {"shape": dims}, cx.outputs)


def transpose(cx: NodeContext) -> None:
    perm = cx.attr("perm") or list(range(cx.rank(0)))[::-1]
    cx.emit("Transpose", cx.inputs, {"perm": list(perm)}, cx.outputs)


def concat(cx: NodeContext) -> None:
    cx.emit("Concat", [i for i in cx.inputs if i],
            {"axis": cx.attr("axis") % cx.rank(0)}, cx.outputs)


def split(cx: NodeContext) -> None:
    axis = cx.attr("axis", 0) % cx.rank(0)
    dim = cx.in_type(0).shape[axis]
    n = len(cx.outputs)
    if cx.opset >= 13:
        parts = _ints(cx.const(1, "split")) if cx.has_input(1) else None
    else:
        parts = cx.attr("split")
    if not parts:
        if cx.attr("num_outputs") is not None:
            n = cx.attr("num_outputs")
            chunk = -(-dim // n)
            parts = [chunk] * (n - 1) + [dim - chunk * (n - 1)]
        elif dim % n:
            raise cx.error(f"axis {axis} of size {dim} must divide into {n} equal parts")
        else:
            parts = [dim // n] * n
    if sum(parts) != dim:
        raise cx.error(f"split sizes {list(parts)} must sum to {dim}")
    cx.emit("Split", cx.inputs[:1], {"axis": axis, "split": list(parts)}, cx.outputs)


def slice_(cx: NodeContext) -> None:
    rank = cx.rank(0)
    if cx.opset < 10:
        starts, ends = list(cx.attr("starts")), list(cx.attr("ends"))
        axes = list(cx.attr("axes") or range(len(starts)))
        steps = [1] * len(starts)
    else:
        starts = _ints(cx.const(1, "starts"))
        ends = _ints(cx.const(2, "ends"))
        axes = _ints(cx.const(3, "axes")) if cx.has_input(3) else list(range(len(starts)))
        steps = _ints(cx.const(4, "steps")) if cx.has_input(4) else [1] * len(starts)
    if 0 in steps:
        raise cx.error("steps must be non-zero")
    cx.emit("Slice", cx.inputs[:1], {"starts": starts, "ends": ends,
                                     "axes": [a % rank for a in axes], "steps": steps},
            cx.outputs)


def gather(cx: NodeContext) -> None:
    cx.emit(cx.op, cx.inputs, {"axis": cx.attr("axis", 0) % cx.rank(0)}, cx.outputs)


def squeeze(cx: NodeContext) -> None:
    shape = cx.in_type(0).shape
    if cx.opset >= 13:
        axes = _ints(cx.const(1, "axes")) if cx.has_input(1) else None
    else:
        axes = cx.attr("axes")
    if axes is None:
        axes = [i for i, d in enumerate(shape) if d == 1]
    axes = [a % len(shape) for a in axes]
    for a in axes:
        if shape[a] != 1:
            raise cx.error(f"axis {a} of shape {list(shape)} must have size 1 to be squeezed")
    cx.emit("Squeeze", cx.inputs[:1], {"axes": axes}, cx.outputs)


def unsqueeze(cx: NodeContext) -> None:
    axes = _ints(cx.const(1, "axes")) if cx.opset >= 13 else list(cx.attr("axes"))
    out_rank = cx.rank(0) + len(axes)
    cx.emit("Unsqueeze", cx.inputs[:1], {"axes": sorted(a % out_rank for a in axes)},
            cx.outputs)


def pad(cx: NodeContext) -> None:
    rank = cx.rank(0)
    mode = cx.attr("mode", "constant")
    cx.check(mode in ("constant", "reflect", "edge", "wrap"), f"mode {mode!r} is not supported")
    if cx.opset < 11:
        pads = list(cx.attr("pads") or cx.attr("paddings"))
        value = float(cx.attr("value", 0.0))
    else:
        raw = _ints(cx.const(1, "pads"))
        cv = cx.const(2, "constant_value") if cx.has_input(2) else None
        value = 0.0 if cv is None or cv.size == 0 else cv.reshape(-1)[0].item()
        axes = _ints(cx.const(3, "axes")) if cx.has_input(3) else list(range(rank))
        axes = [a % rank for a in axes]
        pads = [0] * 2 * rank
        for k, a in enumerate(axes):
            pads[a], pads[a + rank] = raw[k], raw[k + len(axes)]
    cx.emit("Pad", cx.inputs[:1], {"pads": pads, "mode": mode, "value": value}, cx.outputs)


def expand(cx: NodeContext) -> None:
    cx.emit("Expand", cx.inputs[:1], {"shape": _ints(cx.const(1, "shape"))}, cx.outputs)


def tile(cx: NodeContext) -> None:
    cx.emit("Tile", cx.inputs[:1], {"repeats": _ints(cx.const(1, "repeats"))}, cx.outputs)


def _blocks(op: str) -> Converter:
    def convert(cx: NodeContext) -> None:
        attrs = {"blocksize": cx.attr("blocksize")}
        attrs["mode"] = cx.attr("mode", "DCR")
        cx.emit(op, cx.inputs, attrs, cx.outputs)

    return convert


def cumsum(cx: NodeContext) -> None:
    axis = int(cx.const(1, "axis").reshape(-1)[0])
    cx.emit("CumSum", cx.inputs[:1], {"axis": axis % cx.rank(0),
                                      "exclusive": cx.attr("exclusive", 0),
                                      "reverse": cx.attr("reverse", 0)}, cx.outputs)


def mod(cx: NodeContext) -> None:
    cx.emit("Mod", cx.inputs, {"fmod": cx.attr("fmod", 0)}, cx.outputs)


CONVERTERS: dict[str, Converter] = {
    **{op: _plain(op) for op in UNARY_OPS + BINARY_OPS + COMPARE_OPS + ["Where", "MatMul",
                                                               "GlobalAveragePool",
                                                               "GlobalMaxPool"]},
    "Constant": constant, "Shape": shape, "Size": size, "ConstantOfShape": constant_of_shape,
    "Range": range_, "Cast": cast, "CastLike": cast_like, "Identity": identity,
    "Dropout": dropout, "Flatten": flatten,
    "Reshape": reshape, "Transpose": transpose, "Concat": concat, "Split": split,
    "Slice": slice_, "Gather": gather, "GatherElements": gather, "Squeeze": squeeze,
    "Unsqueeze": unsqueeze, "Pad": pad, "CumSum": cumsum,
    **{op: _plain(op) for op in ("IsNaN", "Mish", "BitwiseAnd", "BitwiseOr", "BitwiseXor",
                                 "BitwiseNot")}, "Expand": expand, "Tile": tile, "Mod": mod,
    "DepthToSpace": _blocks("DepthToSpace"), "SpaceToDepth": _blocks("SpaceToDepth"),
}
