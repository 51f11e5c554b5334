"""Constant folding: nodes whose inputs are all constants become constants, evaluated by the
reference kernels (the same semantics the executor uses)."""

from __future__ import annotations

import numpy as np

from tessera.compiler.graph.ir import Graph, Node, TensorType
from tessera.runtime.reference import run_kernel

# Folding these would only move work from run time into (possibly huge) weights.
_NEVER: frozenset[str] = frozenset()


def fold_constants(graph: Graph) -> Graph:
    constants: dict[str, np.ndarray] = dict(graph.constants)
    types = dict(graph.types)
    kept: list[Node] = []
    for node in graph.nodes:
        if node.op not in _NEVER and all(i in constants for i in node.inputs):
            outs = run_kernel(node.op, [constants[i] for i in node.inputs], node.attr_dict)
            for name, value in zip(node.outputs, outs):
                value = np.array(value, order="C", copy=None)
                constants[name] = value
                types[name] = TensorType.of(value)
            continue
        kept.append(node)
    if len(kept) == len(graph.nodes):
        return graph
    return graph.replace(nodes=tuple(kept), constants=constants, types=types)
