"""Shape inference: recompute every node's output types from its inputs."""

from __future__ import annotations

from tessera.compiler.errors import CompileError
from tessera.compiler.graph.ir import Graph, TensorType
from tessera.compiler.graph.registry import infer_node


def infer_shapes(graph: Graph) -> Graph:
    types: dict[str, TensorType] = {i: graph.types[i] for i in graph.inputs}
    types.update({n: TensorType.of(v) for n, v in graph.constants.items()})
    for node in graph.nodes:
        missing = [i for i in node.inputs if i not in types]
        if missing:
            raise CompileError(f"node '{node.name}' ({node.op}): input '{missing[0]}' is undefined")
        types.update(zip(node.outputs, infer_node(node, [types[i] for i in node.inputs])))
    return graph.replace(types=types)
