"""Readable text of a graph: one node per line with its attributes and output types."""

from __future__ import annotations

from typing import Any

from tessera.compiler.graph.ir import Graph, Node


def _fmt(v: Any) -> str:
    if isinstance(v, tuple):
        return "[" + ",".join(_fmt(x) for x in v) + "]"
    if isinstance(v, float):
        return f"{v:g}"
    return repr(v) if isinstance(v, str) else str(v)


def print_node(node: Node, graph: Graph) -> str:
    attrs = ", ".join(f"{k}={_fmt(v)}" for k, v in node.attrs)
    outs = ", ".join(f"%{o}: {graph.types.get(o, '?')}" for o in node.outputs)
    ins = ", ".join(f"%{i}" for i in node.inputs)
    head = f"{node.op}[{attrs}]" if attrs else node.op
    return f"  {outs} = {head}({ins})  # {node.name}"


def print_graph(graph: Graph, max_consts: int = 1 << 30) -> str:
    ins = ", ".join(f"%{i}: {graph.types.get(i, '?')}" for i in graph.inputs)
    lines = [f"graph {graph.name}({ins}) {{"]
    for i, name in enumerate(sorted(graph.constants)):
        if i == max_consts:
            lines.append(f"  ... {len(graph.constants) - max_consts} more constants")
            break
        lines.append(f"  const %{name}: {graph.types.get(name, '?')}")
    lines += [print_node(n, graph) for n in graph.nodes]
    lines.append("  return " + ", ".join(f"%{o}" for o in graph.outputs))
    lines.append("}")
    return "\n".join(lines)
