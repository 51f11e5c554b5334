"""Compiled llvm kernels for the non-GEMM master ops of fused groups: pooling, unary and
broadcast binary elementwise ops, Softmax, LayerNormalization, Transpose, constant Pad,
Concat and LayoutTransform, each the ``tessera.compiler.ops`` operator under its default
schedule.

A builder returns ``(kernel, args, extra)`` -- the built kernel, the graph values passed to it
in order (the output buffer comes last) and extra plan fields -- or ``None`` where the node is
outside what the operator computes exactly like the numpy reference (then numpy runs it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from tessera.compiler.graph.ir import Graph, Node

Builder = Callable[[Node, Graph], "tuple[Any, list[str], dict[str, Any]] | None"]


def kernel_symbol(node: Node, graph: Graph) -> str:
    key = repr((node.op, node.attrs, [graph.types[i] for i in node.inputs if i]))
    return f"{node.op.lower()}_{hashlib.sha256(key.encode()).hexdigest()[:12]}"


def _float_inputs(node: Node, graph: Graph, names: list[str]) -> bool:
    return all(n and graph.types[n].dtype == "float32" and len(graph.types[n].shape) >= 1
               for n in names) and len(node.outputs) == 1


def _finish(node: Node, graph: Graph, out: Any, placeholders: list[Any], args: list[str]
            ) -> tuple[Any, list[str], dict[str, Any]]:
    from tessera.compiler import ops
    from tessera.compiler.codegen import build

    want = tuple(graph.types[node.outputs[0]].shape)
    if tuple(out.shape) != want:
        from tessera.compiler.errors import InternalError

        raise InternalError(f"{node.name}: compiled {node.op} has shape {tuple(out.shape)}, "
                            f"the graph says {want}")
    kernel = build(ops.schedule(out), [*placeholders, out], name=kernel_symbol(node, graph))
    return kernel, args, {}


def _inputs(node: Node, graph: Graph, names: list[str]) -> list[Any]:
    from tessera.compiler.tensor import tensor as te

    return [te.placeholder(tuple(graph.types[n].shape), "float32", name=f"in{k}")
            for k, n in enumerate(names)]


def _pool(node: Node, graph: Graph) -> tuple[Any, list[str], dict[str, Any]] | None:
    """MaxPool / AveragePool, 2-D, any padding and ceil_mode (extra end padding that the
    reference kernel adds too, and that AveragePool never counts); no dilations."""
    from tessera.compiler import ops
    from tessera.runtime.reference.pool import pool_output_size

    names = [node.inputs[0]]
    if not _float_inputs(node, graph, names) or len(graph.types[names[0]].shape) != 4:
        return None
    kernel = list(node.attr("kernel_shape") or [])
    pads = list(node.attr("pads") or [0] * 4)
    strides = list(node.attr("strides") or [1, 1])
    if (len(kernel) != 2 or len(pads) != 4 or len(strides) != 2
            or node.attr("auto_pad", "NOTSET") != "NOTSET"
            or any(d != 1 for d in node.attr("dilations") or [1, 1])
            or node.attr("storage_order", 0)):
        return None
    size = graph.types[names[0]].shape[2:]
    ceil = bool(node.attr("ceil_mode", 0))
    out = [pool_output_size(size[i], kernel[i], strides[i], 1, pads[i], pads[i + 2], ceil)
           for i in range(2)]
    # ceil_mode: the end padding grows until the last window fits
    after = [max(pads[i + 2], (out[i] - 1) * strides[i] + kernel[i] - size[i] - pads[i])
             for i in range(2)]
    (x,) = _inputs(node, graph, names)
    if node.op == "MaxPool":
        y = ops.max_pool2d(x, kernel, strides, pads[:2], padding_after=after)
    else:
        y = ops.avg_pool2d(x, kernel, strides, pads[:2], padding_after=after,
                           count_include_pad=bool(node.attr("count_include_pad", 0)),
                           counted_after=pads[2:])
    return _finish(node, graph, y, [x], names)


def _global_pool(node: Node, graph: Graph) -> tuple[Any, list[str], dict[str, Any]] | None:
    from tessera.compiler import ops

    names = [node.inputs[0]]
    if not _float_inputs(node, graph, names) or len(graph.types[names[0]].shape) != 4:
        return None
    (x,) = _inputs(node, graph, names)
    out = ops.global_pool2d(x, "max" if node.op == "GlobalMaxPool" else "avg")
    return _finish(node, graph, out, [x], names)


def _unary_compute(node: Node, x: Any) -> Any:
    from tessera.compiler import ops
    from tessera.compiler.tensor import expr as E
    from tessera.compiler.tensor import tensor as T

    simple = {"Relu": ops.relu, "Sigmoid": ops.sigmoid, "Tanh": ops.tanh, "Exp": ops.exp,
              "Sqrt": ops.sqrt, "Abs": ops.abs, "Neg": ops.negative}
    if node.op in simple:
        return simple[node.op](x)
    if node.op == "LeakyRelu":
        alpha = float(node.attr("alpha", 0.01))
        return T.compute(x.shape, lambda *i: E.select(x[i] >= E.as_expr(0.0, x.dtype), x[i],
                                                      x[i] * E.as_expr(alpha, x.dtype)),
                         name="leaky_relu", tag="elemwise")
    lo, hi = node.attr("min"), node.attr("max")  # Clip; bounds normalized into attributes

    def clip(*i: Any) -> Any:
        v = x[i]
        if lo is not None:
            v = E.maximum(v, E.as_expr(float(lo), x.dtype))
        if hi is not None:
            v = E.minimum(v, E.as_expr(float(hi), x.dtype))
        return v

    return T.compute(x.shape, clip, name="clip", tag="elemwise")


UNARY = ("Relu", "LeakyRelu", "Sigmoid", "Tanh", "Clip", "Exp", "Sqrt", "Abs", "Neg")


def _unary(node: Node, graph: Graph) -> tuple[Any, list[str], dict[str, Any]] | None:
    names = [node.inputs[0]]
    if not _float_inputs(node, graph, names):
        return None
    if node.op == "Clip" and node.attr("min") is None and node.attr("max") is None:
        return None  # an identity: nothing to compile
    (x,) = _inputs(node, graph, names)
    return _finish(node, graph, _unary_compute(node, x), [x], names)


BINARY = ("Add", "Sub", "Mul", "Div", "Min", "Max")


def _binary(node: Node, graph: Graph) -> tuple[Any, list[str], dict[str, Any]] | None:
    from tessera.compiler import ops

    names = list(node.inputs)
    if len(names) != 2 or not _float_inputs(node, graph, names):
        return None
    fn = {"Add": ops.add, "Sub": ops.subtract, "Mul": ops.multiply, "Div": ops.divide,
          "Min": ops.minimum, "Max": ops.maximum}[node.op]
    a, b = _inputs(node, graph, names)
    return _finish(node, graph, fn(a, b), [a, b], names)


def _softmax(node: Node, graph: Graph) -> tuple[Any, list[str], dict[str, Any]] | None:
    from tessera.compiler import ops

    names = [node.inputs[0]]
    if not _float_inputs(node, graph, names):
        return None
    nd = len(graph.types[names[0]].shape)
    if int(node.attr("axis", -1)) % nd != nd - 1:
        return None  # the operator reduces along the last axis only
    (x,) = _inputs(node, graph, names)
    return _finish(node, graph, ops.softmax(x), [x], names)


def _layer_norm(node: Node, graph: Graph) -> tuple[Any, list[str], dict[str, Any]] | None:
    from tessera.compiler import ops

    names = list(node.inputs)
    if len(names) != 3 or not _float_inputs(node, graph, names):
        return None
    x_shape = tuple(graph.types[names[0]].shape)
    axis = int(node.attr("axis", -1)) % len(x_shape)
    if any(tuple(graph.types[n].shape) != x_shape[axis:] for n in names[1:]):
        return None  # broadcast scale/bias: numpy
    x, g, b = _inputs(node, graph, names)
    out = ops.layer_norm(x, g, b, axis=axis, eps=float(node.attr("epsilon", 1e-5)))
    return _finish(node, graph, out, [x, g, b], names)


def _transpose(node: Node, graph: Graph) -> tuple[Any, list[str], dict[str, Any]] | None:
    from tessera.compiler import ops

    names = [node.inputs[0]]
    if not _float_inputs(node, graph, names):
        return None
    perm = node.attr("perm")
    (x,) = _inputs(node, graph, names)
    return _finish(node, graph, ops.transpose(x, None if perm is None else list(perm)), [x],
                   names)


def _pad(node: Node, graph: Graph) -> tuple[Any, list[str], dict[str, Any]] | None:
    from tessera.compiler import ops

    names = [node.inputs[0]]
    pads = list(node.attr("pads") or [])
    if (not _float_inputs(node, graph, names) or node.attr("mode", "constant") != "constant"
            or any(p < 0 for p in pads)):
        return None
    nd = len(graph.types[names[0]].shape)
    if len(pads) != 2 * nd:
        return None
    (x,) = _inputs(node, graph, names)
    out = ops.pad(x, pads[:nd], pads[nd:], value=float(node.attr("value", 0.0)))
    return _finish(node, graph, out, [x], names)


def _concat(node: Node, graph: Graph) -> tuple[Any, list[str], dict[str, Any]] | None:
    from tessera.compiler import ops

    names = list(node.inputs)
    if not names or not _float_inputs(node, graph, names):
        return None
    xs = _inputs(node, graph, names)
    return _finish(node, graph, ops.concat(xs, axis=int(node.attr("axis"))), xs, names)


def _layout_transform(node: Node, graph: Graph) -> tuple[Any, list[str], dict[str, Any]] | None:
    """NCHW <-> NCHW[b]c around blocked convolutions (``ops.layout``)."""
    from tessera.compiler import ops

    names = [node.inputs[0]]
    if not _float_inputs(node, graph, names):
        return None
    (x,) = _inputs(node, graph, names)
    out = ops.layout_transform(x, str(node.attr("src")), str(node.attr("dst")))
    return _finish(node, graph, out, [x], names)


OP_BUILDERS: dict[str, Builder] = {
    "MaxPool": _pool, "AveragePool": _pool,
    "GlobalAveragePool": _global_pool, "GlobalMaxPool": _global_pool,
    **{op: _unary for op in UNARY}, **{op: _binary for op in BINARY},
    "Softmax": _softmax, "LayerNormalization": _layer_norm, "Transpose": _transpose,
    "Pad": _pad, "Concat": _concat, "LayoutTransform": _layout_transform,
}
