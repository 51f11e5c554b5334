"""ONNX converters for neural-network ops: convolution, pooling, dense, normalization,
activations with attributes, softmax, reductions, resize and quantization."""

from __future__ import annotations

import numpy as np

from tessera.compiler.frontend.context import Converter, NodeContext
from tessera.runtime.reference.pool import pool_output_size


def _spatial_attrs(cx: NodeContext, kernel: list[int], pool: bool = False) -> dict:
    nd = len(kernel)
    spatial = cx.in_type(0).shape[2:]
    strides = list(cx.attr("strides") or [1] * nd)
    dilations = list(cx.attr("dilations") or [1] * nd)
    pads = list(cx.attr("pads") or [0] * 2 * nd)
    auto_pad = cx.attr("auto_pad", "NOTSET")
    if auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        pads = [0] * 2 * nd
        for i in range(nd):
            out = -(-spatial[i] // strides[i])
            ext = (kernel[i] - 1) * dilations[i] + 1
            total = max(0, (out - 1) * strides[i] + ext - spatial[i])
            small, big = total // 2, total - total // 2
            pads[i], pads[i + nd] = (small, big) if auto_pad == "SAME_UPPER" else (big, small)
    elif auto_pad == "VALID":
        pads = [0] * 2 * nd
    elif auto_pad != "NOTSET":
        raise cx.error(
            f"auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, not {auto_pad!r}"
        )
    return {"strides": strides, "dilations": dilations, "pads": pads}


def conv(cx: NodeContext) -> None:
    if cx.rank(0) < 3:
        raise cx.error(f"input must have rank >= 3 (N, C, spatial...), not {cx.rank(0)}")
    kernel = list(cx.in_type(1).shape[2:])
    attrs = _spatial_attrs(cx, kernel)
    attrs["group"] = cx.attr("group", 1)
    cx.emit("Conv", [i for i in cx.inputs if i], attrs, cx.outputs)


def conv_transpose(cx: NodeContext) -> None:
    w = cx.in_type(1).shape
    nd = len(w) - 2
    kernel = list(w[2:])
    spatial = cx.in_type(0).shape[2:]
    strides = list(cx.attr("strides") or [1] * nd)
    dil = list(cx.attr("dilations") or [1] * nd)
    opad = list(cx.attr("output_padding") or [0] * nd)
    pads = list(cx.attr("pads") or [0] * 2 * nd)
    auto_pad = cx.attr("auto_pad", "NOTSET")
    out_shape = cx.attr("output_shape")
    if out_shape is not None or auto_pad in ("SAME_UPPER", "SAME_LOWER"):
        target = list(out_shape)[-nd:] if out_shape else [s * st for s, st in zip(spatial, strides)]
        for i in range(nd):
            ext = (kernel[i] - 1) * dil[i] + 1
            total = strides[i] * (spatial[i] - 1) + opad[i] + ext - target[i]
            half = total // 2
            b, e = (half, total - half) if auto_pad == "SAME_UPPER" else (total - half, half)
            if b < 0:
                raise cx.unsupported(f"output_shape {target} needs negative leading padding")
            if e < 0:
                opad[i] -= e
                e = 0
            pads[i], pads[i + nd] = b, e
    attrs = {"strides": strides, "dilations": dil, "pads": pads, "output_padding": opad,
             "group": cx.attr("group", 1)}
    cx.emit("ConvTranspose", [i for i in cx.inputs if i], attrs, cx.outputs)


def _pool(op: str) -> Converter:
    def convert(cx: NodeContext) -> None:
        cx.only_outputs(1, "Indices")
        cx.check(cx.attr("storage_order", 0) == 0, "storage_order=1 is not supported")
        kernel = list(cx.attr("kernel_shape"))
        attrs = _spatial_attrs(cx, kernel, pool=True)
        attrs["kernel_shape"] = kernel
        attrs["ceil_mode"] = cx.attr("ceil_mode", 0)
        if op == "AveragePool":
            attrs["count_include_pad"] = cx.attr("count_include_pad", 0)
        nd = len(kernel)
        spatial = cx.in_type(0).shape[2:]
        for i in range(nd):
            out = pool_output_size(spatial[i], kernel[i], attrs["strides"][i],
                                   attrs["dilations"][i], attrs["pads"][i],
                                   attrs["pads"][i + nd], bool(attrs["ceil_mode"]))
            if out <= 0:
                raise cx.error(f"output spatial size must be positive, not {out}")
        cx.emit(op, cx.inputs[:1], attrs, cx.outputs[:1])

    return convert


def gemm(cx: NodeContext) -> None:
    attrs = {k: cx.attr(k, d) for k, d in
             (("alpha", 1.0), ("beta", 1.0), ("transA", 0), ("transB", 0))}
    cx.emit("Gemm", [i for i in cx.inputs if i], attrs, cx.outputs)


def batch_norm(cx: NodeContext) -> None:
    cx.check(cx.attr("training_mode", 0) == 0, "training_mode=1 is not supported (inference only)")
    cx.check(cx.attr("spatial", 1) == 1, "spatial=0 is not supported")
    cx.only_outputs(1, "training statistics")
    cx.emit("BatchNormalization", cx.inputs[:5], {"epsilon": cx.attr("epsilon", 1e-5)},
            cx.outputs[:1])


def layer_norm(cx: NodeContext) -> None:
    outs = list(cx.outputs)
    while outs and (not outs[-1] or outs[-1] not in cx.state.used):
        outs.pop()
    outs = [o or f"{cx.name}:unused{k}" for k, o in enumerate(outs)] or cx.outputs[:1]
    attrs = {"axis": cx.attr("axis", -1) % cx.rank(0), "epsilon": cx.attr("epsilon", 1e-5),
             "outputs": len(outs)}
    cx.emit("LayerNormalization", [i for i in cx.inputs if i], attrs, outs)


def _with_attrs(op: str, defaults: dict) -> Converter:
    def convert(cx: NodeContext) -> None:
        attrs = {k: cx.attr(k, d) for k, d in defaults.items()}
        cx.emit(op, [i for i in cx.inputs if i], attrs, cx.outputs)

    return convert


def _softmax(op: str) -> Converter:
    def convert(cx: NodeContext) -> None:
        legacy = cx.opset < 13
        axis = cx.attr("axis", 1 if legacy else -1) % max(cx.rank(0), 1)
        cx.emit(op, cx.inputs, {"axis": axis, "coerce_2d": int(legacy)}, cx.outputs)

    return convert


def clip(cx: NodeContext) -> None:
    if cx.opset < 11:
        lo, hi = cx.attr("min"), cx.attr("max")
        lo = None if lo is None or lo <= -3.4e38 else float(lo)
        hi = None if hi is None or hi >= 3.4e38 else float(hi)
    else:
        lo_v = cx.const_or(1, "min", None)
        hi_v = cx.const_or(2, "max", None)
        lo = None if lo_v is None else lo_v.item()
        hi = None if hi_v is None else hi_v.item()
    cx.emit("Clip", cx.inputs[:1], {"min": lo, "max": hi}, cx.outputs)


def _reduce(op: str) -> Converter:
    def convert(cx: NodeContext) -> None:
        axes_as_input = (op == "ReduceSum" and cx.opset >= 13) or cx.opset >= 18
        if axes_as_input:
            axes = cx.const_or(1, "axes", None)
            axes = None if axes is None else [int(v) for v in axes]
        else:
            axes = cx.attr("axes")
        noop = cx.attr("noop_with_empty_axes", 0)
        rank = cx.rank(0)
        if axes is not None:
            axes = [int(v) % max(rank, 1) for v in axes]
        if not axes and noop:
            cx.emit("Identity", cx.inputs[:1], None, cx.outputs)
            return
        cx.emit(op, cx.inputs[:1], {"axes": axes or None, "keepdims": cx.attr("keepdims", 1)},
                cx.outputs)

    return convert


def resize(cx: NodeContext) -> None:
    x = cx.in_type(0)
    rank = len(x.shape)
    mode = cx.attr("mode", "nearest")
    cx.check(mode in ("nearest", "linear", "bilinear"),
             f"mode must be nearest or linear, not {mode!r}")
    mode = "linear" if mode == "bilinear" else mode
    if cx.op == "Upsample" or cx.opset < 11:
        scales_v = cx.const(1, "scales") if cx.has_input(1) else cx.attr("scales")
        ctm = "asymmetric"
        scales = [float(s) for s in scales_v]
        sizes = [int(np.floor(d * s)) for d, s in zip(x.shape, scales)]
        nearest = "floor"
    else:
        ctm = cx.attr("coordinate_transformation_mode", "half_pixel")
        cx.check(ctm != "tf_crop_and_resize", "coordinate_transformation_mode "
                 "'tf_crop_and_resize' is not supported")
        cx.check(cx.attr("antialias", 0) == 0, "antialias=1 is not supported")
        axes = list(cx.attr("axes") or range(rank))
        axes = [a % rank for a in axes]
        scales_v = cx.const_or(2, "scales", None)
        sizes_v = cx.const_or(3, "sizes", None)
        scales = [1.0] * rank
        sizes = list(x.shape)
        if sizes_v is not None and sizes_v.size:
            policy = cx.attr("keep_aspect_ratio_policy", "stretch")
            req = [int(v) for v in sizes_v]
            if policy != "stretch":
                ratios = [req[k] / x.shape[a] for k, a in enumerate(axes)]
                r = min(ratios) if policy == "not_larger" else max(ratios)
                req = [int(np.floor(r * x.shape[a] + 0.5)) for a in axes]
                for a in axes:
                    scales[a] = r
            for k, a in enumerate(axes):
                sizes[a] = req[k]
                if policy == "stretch":
                    scales[a] = req[k] / x.shape[a]
        elif scales_v is not None and scales_v.size:
            for k, a in enumerate(axes):
                scales[a] = float(scales_v[k])
                sizes[a] = int(np.floor(x.shape[a] * scales[a]))
        else:
            raise cx.error("one of scales or sizes must be given")
        nearest = cx.attr("nearest_mode", "round_prefer_floor")
    attrs = {"sizes": sizes, "scales": scales, "mode": mode,
             "coordinate_transformation_mode": ctm, "nearest_mode": nearest}
    cx.emit("Resize", cx.inputs[:1], attrs, cx.outputs)


def quantize(cx: NodeContext) -> None:
    cx.check(cx.attr("block_size", 0) == 0, "blocked quantization is not supported")
    if cx.has_input(2):
        dtype = cx.in_type(2).dtype
    else:
        to = cx.attr("output_dtype", 0)
        dtype = {0: "uint8", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16"}.get(to, str(to))
    cx.check(dtype in ("uint8", "int8", "uint16", "int16"),
             f"quantized type must be an 8- or 16-bit integer, not {dtype}")
    cx.emit("QuantizeLinear", [i for i in cx.inputs if i],
            {"axis": cx.attr("axis", 1), "dtype": dtype}, cx.outputs)


def dequantize(cx: NodeContext) -> None:
    cx.check(cx.attr("block_size", 0) == 0, "blocked quantization is not supported")
    cx.check(cx.in_type(0).dtype in ("uint8", "int8", "int32", "uint16", "int16"),
             f"quantized input must be an integer type, not {cx.in_type(0).dtype}")
    cx.emit("DequantizeLinear", [i for i in cx.inputs if i], {"axis": cx.attr("axis", 1)},
            cx.outputs)


CONVERTERS: dict[str, Converter] = {
    "Conv": conv, "ConvTranspose": conv_transpose, "Gemm": gemm,
    "MaxPool": _pool("MaxPool"), "AveragePool": _pool("AveragePool"),
    "BatchNormalization": batch_norm, "LayerNormalization": layer_norm,
    "InstanceNormalization": _with_attrs("InstanceNormalization", {"epsilon": 1e-5}),
    "LRN": _with_attrs("LRN", {"alpha": 1e-4, "beta": 0.75, "bias": 1.0, "size": 1}),
    "LeakyRelu": _with_attrs("LeakyRelu", {"alpha": 0.01}),
    "Elu": _with_attrs("Elu", {"alpha": 1.0}),
    "Selu": _with_attrs("Selu", {"alpha": 1.67326319217681884765625,
                                 "gamma": 1.05070102214813232421875}),
    "HardSigmoid": _with_attrs("HardSigmoid", {"alpha": 0.2, "beta": 0.5}),
    "Gelu": _with_attrs("Gelu", {"approximate": "none"}),
    "Softmax": _softmax("Softmax"), "LogSoftmax": _softmax("LogSoftmax"), "Clip": clip,
    "Resize": resize, "Upsample": resize,
    "QuantizeLinear": quantize, "DequantizeLinear": dequantize,
    **{op: _reduce(op) for op in (
        "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1",
        "ReduceL2", "ReduceSumSquare", "ReduceLogSumExp")},
    "ThresholdedRelu": _with_attrs("ThresholdedRelu", {"alpha": 1.0}),
    "Celu": _with_attrs("Celu", {"alpha": 1.0}),
    "Shrink": _with_attrs("Shrink", {"lambd": 0.5, "bias": 0.0}),
    "IsInf": _with_attrs("IsInf", {"detect_negative": 1, "detect_positive": 1}),
    "Hardmax": _with_attrs("Hardmax", {"axis": -1}),
    "Einsum": _with_attrs("Einsum", {"equation": ""}),
    "ReduceLogSum": _reduce("ReduceLogSum"),
    "ArgMax": _with_attrs("ArgMax", {"axis": 0, "keepdims": 1, "select_last_index": 0}),
    "ArgMin": _with_attrs("ArgMin", {"axis": 0, "keepdims": 1, "select_last_index": 0}),
}
