"""The graph verifier: SSA, topological order, no dangling edges, types that agree with
the shape functions and the constants."""

from __future__ import annotations

from tessera.compiler.errors import InternalError
from tessera.compiler.graph.ir import Graph, TensorType
from tessera.compiler.graph.registry import OPS, infer_node


def verify(graph: Graph) -> Graph:
    """Raise ``InternalError`` naming the first broken invariant; return the graph."""
    defined: set[str] = set()
    for name in graph.inputs:
        if name in defined:
            raise InternalError(f"graph {graph.name}: input '{name}' is declared twice")
        defined.add(name)
    for name, value in graph.constants.items():
        if name in defined:
            raise InternalError(f"graph {graph.name}: constant '{name}' is also a graph input")
        if graph.types.get(name) != TensorType.of(value):
            raise InternalError(
                f"graph {graph.name}: constant '{name}' must have type {TensorType.of(value)}, "
                f"not {graph.types.get(name)}"
            )
        defined.add(name)
    for name in graph.inputs:
        if name not in graph.types:
            raise InternalError(f"graph {graph.name}: input '{name}' has no type")
    names: set[str] = set()
    for node in graph.nodes:
        where = f"node '{node.name}' ({node.op})"
        if node.name in names:
            raise InternalError(f"{where}: node names must be unique")
        names.add(node.name)
        if node.op not in OPS:
            raise InternalError(f"{where}: op must be in the registry")
        for i in node.inputs:
            if i not in defined:
                raise InternalError(
                    f"{where}: input '{i}' must be defined before use (dangling edge or "
                    "nodes out of topological order)"
                )
        expected = infer_node(node, [graph.types[i] for i in node.inputs])
        for out, t in zip(node.outputs, expected):
            if out in defined:
                raise InternalError(f"{where}: output '{out}' is defined twice (not SSA)")
            defined.add(out)
            if graph.types.get(out) != t:
                raise InternalError(
                    f"{where}: output '{out}' must have type {t} by the shape function, "
                    f"not {graph.types.get(out)}"
                )
    for out in graph.outputs:
        if out not in defined:
            raise InternalError(f"graph {graph.name}: output '{out}' is never defined")
    return graph
