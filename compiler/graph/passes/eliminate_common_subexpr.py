"""Common-subexpression elimination: identical constants and identical nodes (same op,
inputs and attributes) are computed once."""

from __future__ import annotations

import hashlib
from typing import Any

from tessera.compiler.graph.ir import Graph, Node


def _rename(node: Node, alias: dict[str, str]) -> Node:
    if not any(i in alias for i in node.inputs):
        return node
    return Node(node.name, node.op, tuple(alias.get(i, i) for i in node.inputs), node.outputs,
                node.attrs)


def eliminate_common_subexpr(graph: Graph) -> Graph:
    alias: dict[str, str] = {}
    by_content: dict[tuple[str, tuple[int, ...], bytes], str] = {}
    protected = set(graph.outputs)
    for name in sorted(graph.constants):
        value = graph.constants[name]
        if name in protected:
            continue
        ckey = (str(value.dtype), value.shape, hashlib.sha256(value.tobytes()).digest())
        if ckey in by_content:
            alias[name] = by_content[ckey]
        else:
            by_content[ckey] = name
    seen: dict[tuple[Any, ...], Node] = {}
    nodes: list[Node] = []
    for node in graph.nodes:
        node = _rename(node, alias)
        key = (node.op, node.inputs, node.attrs, len(node.outputs))
        prior = seen.get(key)
        if prior is not None and not any(o in protected for o in node.outputs):
            alias.update(zip(node.outputs, prior.outputs))
            continue
        seen.setdefault(key, node)
        nodes.append(node)
    if not alias:
        return graph
    constants = {k: v for k, v in graph.constants.items() if k not in alias}
    types = {k: v for k, v in graph.types.items() if k not in alias}
    return graph.replace(nodes=tuple(nodes), constants=constants, types=types)
