"""Layout transformation: convolutions to the blocked NCHW[b]c layout (TVM's x86 layout),
where the channel counts divide into vector-wide blocks.

A convolution ``Conv(x, w, bias)`` becomes ``ConvNCHWc(x', w', bias')`` with the weight and
bias re-blocked at compile time (``w'[O/b, C/b, KH, KW, b_in, b_out]``). Layout-agnostic ops
(unary elementwise ops, and same-shape binary ones such as a residual ``Add``) run on blocked
values directly, so a chain of convolutions stays blocked; a ``LayoutTransform`` is inserted
only where a value changes layout (into the first blocked conv, out to any other consumer and
to graph outputs), once per value. It pays where a compiled blocked kernel exists:
``compile(..., layout="NCHWc")`` enables it (the numpy fallback gains nothing from it).
"""

from __future__ import annotations

from functools import partial

import numpy as np

from tessera.compiler.graph.ir import Graph, Node, TensorType
from tessera.compiler.graph.pattern import Pattern
from tessera.compiler.graph.registry import infer_node, op_def

AGNOSTIC_BINARY = frozenset({"Add", "Sub", "Mul", "Max", "Min", "Sum"})


def _blockable(node: Node, graph: Graph, block: int) -> bool:
    if node.op != "Conv" or len(graph.types[node.inputs[0]].shape) != 4:
        return False
    x, w = graph.types[node.inputs[0]], graph.types[node.inputs[1]]
    pads = list(node.attr("pads") or [0] * 4)
    strides = list(node.attr("strides") or [1, 1])
    return (
        x.dtype == "float32" and node.attr("group", 1) == 1
        and all(d == 1 for d in node.attr("dilations") or [1, 1])
        and x.shape[1] % block == 0 and w.shape[0] % block == 0
        and len(set(pads)) == 1 and strides[0] == strides[1]
        and all(i in graph.constants for i in node.inputs[1:])
    )


class _Rewriter:
    def __init__(self, graph: Graph, block: int):
        self.graph = graph
        self.block = block
        self.layout = f"NCHW{block}c"
        self.nodes: list[Node] = []
        self.types = dict(graph.types)
        self.constants = dict(graph.constants)
        self.twin: dict[str, str] = {}  # NCHW value -> its blocked twin
        self.plain: set[str] = set(graph.inputs) | set(graph.constants)  # materialized NCHW

    def emit(self, node: Node) -> None:
        for out, t in zip(node.outputs, infer_node(node, [self.types[i] for i in node.inputs])):
            self.types[out] = t
        self.nodes.append(node)

    def blocked(self, value: str) -> str:
        if value not in self.twin:
            twin = f"{value}@{self.layout}"
            self.emit(Node.make(f"{value}/to_{self.layout}", "LayoutTransform", [value], [twin],
                                {"src": "NCHW", "dst": self.layout}))
            self.twin[value] = twin
        return self.twin[value]

    def materialize(self, value: str) -> None:
        if value not in self.plain and value in self.twin:
            self.emit(Node.make(f"{value}/to_NCHW", "LayoutTransform", [self.twin[value]],
                                [value], {"src": self.layout, "dst": "NCHW"}))
        self.plain.add(value)

    def conv(self, node: Node) -> None:
        b = self.block
        w = self.graph.constants[node.inputs[1]]
        o, c, kh, kw = w.shape
        wb = w.reshape(o // b, b, c // b, b, kh, kw).transpose(0, 2, 4, 5, 3, 1)
        inputs = [self.blocked(node.inputs[0]), self._const(f"{node.name}:w_{self.layout}", wb)]
        if len(node.inputs) > 2:
            bias = self.graph.constants[node.inputs[2]].reshape(o // b, 1, 1, b)
            inputs.append(self._const(f"{node.name}:b_{self.layout}", bias))
        pads = list(node.attr("pads") or [0] * 4)
        out = f"{node.outputs[0]}@{self.layout}"
        self.emit(Node.make(node.name, "ConvNCHWc", inputs, [out],
                            {"strides": list(node.attr("strides") or [1, 1]), "pads": pads,
                             "block": b}))
        self.twin[node.outputs[0]] = out

    def _const(self, name: str, value: np.ndarray) -> str:
        value = np.ascontiguousarray(value)
        self.constants[name] = value
        self.types[name] = TensorType.of(value)
        return name

    def agnostic(self, node: Node) -> bool:
        """Run ``node`` on blocked operands if it is layout-agnostic and they are blocked."""
        pattern = op_def(node.op).pattern
        ins = node.inputs
        if len(node.outputs) != 1 or not all(i in self.twin for i in ins):
            return False
        if pattern == Pattern.ELEMWISE and len(ins) == 1 and node.op != "Cast":
            pass
        elif node.op in AGNOSTIC_BINARY:
            shapes = {self.types[i].shape for i in ins}
            if len(shapes) != 1:
                return False
        else:
            return False
        out = f"{node.outputs[0]}@{self.layout}"
        self.emit(Node(node.name, node.op, tuple(self.twin[i] for i in ins), (out,),
                       node.attrs))
        self.twin[node.outputs[0]] = out
        return True

    def run(self) -> Graph:
        for node in self.graph.nodes:
            if _blockable(node, self.graph, self.block):
                self.conv(node)
                continue
            if self.agnostic(node):
                continue
            for i in node.inputs:
                self.materialize(i)
            self.emit(node)
            self.plain.update(node.outputs)
        for out in self.graph.outputs:
            self.materialize(out)
        return self.graph.replace(nodes=tuple(self.nodes), types=self.types,
                                  constants=self.constants)


def transform_layout(graph: Graph, block: int = 16) -> Graph:
    """Block the convolutions of ``graph`` by ``block`` channels (a no-op if none qualify)."""
    if not any(_blockable(n, graph, block) for n in graph.nodes):
        return graph
    return _Rewriter(graph, block).run()


def layout_pass(block: int) -> partial[Graph]:
    return partial(transform_layout, block=block)
