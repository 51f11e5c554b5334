"""Dead-code elimination: drop nodes and constants that no graph output depends on."""

from __future__ import annotations

from tessera.compiler.graph.ir import Graph


def eliminate_dead_code(graph: Graph) -> Graph:
    live = set(graph.outputs)
    kept = []
    for node in reversed(graph.nodes):
        if any(o in live for o in node.outputs):
            kept.append(node)
            live.update(node.inputs)
    kept.reverse()
    constants = {k: v for k, v in graph.constants.items() if k in live}
    keep_types = live | set(graph.inputs) | {o for n in kept for o in n.outputs}
    types = {k: v for k, v in graph.types.items() if k in keep_types}
    return graph.replace(nodes=tuple(kept), constants=constants, types=types)
