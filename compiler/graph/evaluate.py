"""The reference interpreter of the graph IR: run every node with its numpy kernel, in order.
Executable documentation of what a graph means; tests compare passes against it."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from tessera.compiler.errors import CompileError
from tessera.compiler.graph.ir import Graph
from tessera.runtime.reference import run_kernel


def evaluate(graph: Graph, feeds: Mapping[str, np.ndarray]) -> list[np.ndarray]:
    missing = [i for i in graph.inputs if i not in feeds]
    if missing:
        raise CompileError(f"graph {graph.name}: input '{missing[0]}' is missing")
    env: dict[str, np.ndarray] = dict(graph.constants)
    env.update({i: np.asarray(feeds[i], dtype=graph.types[i].dtype) for i in graph.inputs})
    for node in graph.nodes:
        outs = run_kernel(node.op, [env[i] for i in node.inputs], node.attr_dict)
        env.update(zip(node.outputs, outs))
    return [env[o] for o in graph.outputs]
