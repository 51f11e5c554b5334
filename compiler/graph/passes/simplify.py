"""Algebraic simplification by a table of rewrite rules, applied in one forward sweep:

- ``Identity`` (and ``Dropout``, which the frontend imports as Identity) disappears;
- ``BatchNormalization`` after a ``Conv`` (its only user) folds into the conv's weights and
  bias; a lone one becomes a per-channel ``Mul`` + ``Add`` (which fuse);
- reshapes to the same shape vanish, chains of reshapes collapse, reshapes of constants fold;
- ``Sum``/``Max``/``Min``/``Mean`` of one input vanish.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from tessera.compiler.graph.ir import Graph, Node, TensorType
from tessera.runtime.reference import run_kernel


@dataclass
class Sweep:
    """The graph being rebuilt, as the rules see it."""

    graph: Graph
    nodes: list[Node] = field(default_factory=list)
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    types: dict[str, TensorType] = field(default_factory=dict)
    alias: dict[str, str] = field(default_factory=dict)
    uses: dict[str, int] = field(default_factory=dict)

    def producer(self, value: str) -> Node | None:
        for n in reversed(self.nodes):
            if value in n.outputs:
                return n
        return None

    def private(self, value: str) -> bool:
        """Used by exactly one node and not a graph output."""
        return self.uses.get(value, 0) == 1 and value not in self.graph.outputs

    def const(self, name: str, value: np.ndarray) -> str:
        value = np.array(value, order="C", copy=None)
        self.constants[name] = value
        self.types[name] = TensorType.of(value)
        return name


Rule = Callable[[Node, Sweep], bool]  # True when the rule rewrote the node


def _alias(node: Node, sw: Sweep) -> bool:
    if node.outputs[0] in sw.graph.outputs and node.inputs[0] in sw.graph.outputs:
        return False
    sw.alias[node.outputs[0]] = node.inputs[0]
    return True


def _single_input(node: Node, sw: Sweep) -> bool:
    return len(node.inputs) == 1 and _alias(node, sw)


def _batch_norm(node: Node, sw: Sweep) -> bool:
    x, scale, bias, mean, var = node.inputs
    if not all(p in sw.constants for p in (scale, bias, mean, var)):
        return False
    s = sw.constants[scale] / np.sqrt(sw.constants[var] + node.attr("epsilon", 1e-5))
    shift = sw.constants[bias] - sw.constants[mean] * s
    conv = sw.producer(x)
    if (
        conv is not None and conv.op == "Conv" and sw.private(x)
        and all(i in sw.constants for i in conv.inputs[1:])
    ):
        w = sw.constants[conv.inputs[1]]
        b = sw.constants[conv.inputs[2]] if len(conv.inputs) > 2 else np.zeros(w.shape[0], w.dtype)
        w2 = sw.const(f"{conv.name}:w_bn", (w * s.reshape(-1, *[1] * (w.ndim - 1))).astype(w.dtype))
        b2 = sw.const(f"{conv.name}:b_bn", (b * s + shift).astype(w.dtype))
        sw.nodes.remove(conv)
        sw.nodes.append(Node(conv.name, "Conv", (conv.inputs[0], w2, b2), node.outputs,
                             conv.attrs))
        return True
    rank = len(sw.types[x].shape)
    shape = (-1,) + (1,) * (rank - 2)
    dtype = sw.types[x].dtype
    s_name = sw.const(f"{node.name}:scale", s.reshape(shape).astype(dtype))
    t_name = sw.const(f"{node.name}:shift", shift.reshape(shape).astype(dtype))
    mid = f"{node.name}:scaled"
    sw.types[mid] = sw.types[x]
    sw.nodes.append(Node(node.name, "Mul", (x, s_name), (mid,)))
    sw.nodes.append(Node(f"{node.name}/shift", "Add", (mid, t_name), node.outputs))
    return True


def _reshape(node: Node, sw: Sweep) -> bool:
    src = node.inputs[0]
    out_t = sw.types[node.outputs[0]]
    if sw.types[src].shape == out_t.shape:
        return _alias(node, sw)
    if src in sw.constants:
        (value,) = run_kernel(node.op, [sw.constants[src]], node.attr_dict)
        sw.const(node.outputs[0], value)
        return True
    prev = sw.producer(src)
    if prev is not None and prev.op in _RESHAPES and sw.private(src):
        sw.nodes.remove(prev)
        sw.nodes.append(Node.make(node.name, "Reshape", prev.inputs[:1], node.outputs,
                                  {"shape": out_t.shape}))
        return True
    return False


_RESHAPES = ("Reshape", "Flatten", "Squeeze", "Unsqueeze")

RULES: dict[str, Rule] = {
    "Identity": _alias,
    "BatchNormalization": _batch_norm,
    **{op: _reshape for op in _RESHAPES},
    **{op: _single_input for op in ("Sum", "Max", "Min", "Mean")},
}


def simplify(graph: Graph) -> Graph:
    sw = Sweep(graph, constants=dict(graph.constants), types=dict(graph.types))
    for n in graph.nodes:
        for i in n.inputs:
            sw.uses[i] = sw.uses.get(i, 0) + 1
    for node in graph.nodes:
        if any(i in sw.alias for i in node.inputs):
            node = Node(node.name, node.op, tuple(_resolve(i, sw.alias) for i in node.inputs),
                        node.outputs, node.attrs)
        rule = RULES.get(node.op)
        if rule is None or not rule(node, sw):
            sw.nodes.append(node)
    outputs = tuple(_resolve(o, sw.alias) for o in graph.outputs)
    return graph.replace(nodes=tuple(sw.nodes), constants=sw.constants, types=sw.types,
                         outputs=outputs)


def _resolve(name: str, alias: dict[str, str]) -> str:
    while name in alias:
        name = alias[name]
    return name
