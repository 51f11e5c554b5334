"""Im2col for convolutions with few input channels (the stem of an image model).

The accelerator's GEMM reduces over whole input-channel blocks (16 channels by default): a
3-channel 7x7 stem conv fills 3 of 16 lanes in each of its 49 kernel taps. Rewriting it as a
1x1 conv over the im2col of its input (``Im2Col``, on the CPU: channel ``c*KH*KW + kh*KW +
kw`` holds tap (kh, kw)) packs 147 channels into 10 blocks: 10 block steps per output instead
of 49. The integer result is identical (the same products, summed in another order, in int32),
and the padding moves to the CPU, so asymmetric padding is fine too.

A conv is rewritten when it cuts the block steps at least in half and the im2col buffer stays
below ``max_bytes``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tessera.compiler.graph.ir import Graph, Node, TensorType
from tessera.compiler.graph.registry import infer_node
from tessera.hw.config import HwConfig

MAX_BYTES = 4 << 20


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def worth_it(c: int, kh: int, kw: int, cfg: HwConfig) -> bool:
    """Whether im2col at least halves a conv's input-block steps per output."""
    return kh * kw > 1 and 2 * _ceil(c * kh * kw, cfg.block_in) <= _ceil(c, cfg.block_in) * kh * kw


def im2col_small_convs(graph: Graph, cfg: HwConfig, max_bytes: int = MAX_BYTES) -> Graph:
    """The graph with every qualifying per-tensor ``QConv2d`` turned into Im2Col + 1x1."""
    nodes: list[Node] = []
    types: dict[str, TensorType] = dict(graph.types)
    consts = dict(graph.constants)
    changed = False
    for node in graph.nodes:
        if node.op != "QConv2d" or not isinstance(node.attr("shift"), int):
            nodes.append(node)
            continue
        x, wname = node.inputs[0], node.inputs[1]
        w = graph.constants[wname]
        o, c, kh, kw = w.shape
        out = types[node.outputs[0]]
        col_bytes = out.shape[0] * c * kh * kw * out.shape[2] * out.shape[3]
        if not worth_it(c, kh, kw, cfg) or col_bytes > max_bytes:
            nodes.append(node)
            continue
        attrs: dict[str, Any] = {"kernel_shape": [kh, kw],
                                 "strides": list(node.attr("strides") or [1, 1]),
                                 "pads": list(node.attr("pads") or [0, 0, 0, 0])}
        col = f"{x}__im2col_{node.name}"
        im = Node.make(f"{node.name}__im2col", "Im2Col", [x], [col], attrs)
        (types[col],) = infer_node(im, [types[x]])
        w2 = f"{wname}__1x1"
        consts[w2] = np.ascontiguousarray(w.reshape(o, c * kh * kw, 1, 1))
        types[w2] = TensorType.of(consts[w2])
        conv = Node.make(node.name, node.op, [col, w2, *node.inputs[2:]], node.outputs,
                         {**node.attr_dict, "strides": [1, 1], "pads": [0, 0, 0, 0],
                          "im2col": [kh, kw]})
        nodes += [im, conv]
        changed = True
    if not changed:
        return graph
    used = {i for n in nodes for i in n.inputs}
    consts = {k: v for k, v in consts.items() if k in used}
    types = {k: t for k, t in types.items() if k not in graph.constants or k in consts}
    return graph.replace(nodes=tuple(nodes), constants=consts, types=types)
