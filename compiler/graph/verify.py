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
    verify_groups(graph)
    verify_memory(graph)
    return graph


def verify_groups(graph: Graph) -> None:
    """Fused groups partition the nodes, in graph order, with exact inputs and outputs."""
    if not graph.groups:
        return
    order = [n for g in graph.groups for n in g.nodes]
    if order != [n.name for n in graph.nodes]:
        raise InternalError(
            f"graph {graph.name}: fused groups must list every node once, in graph order"
        )
    by_name = {n.name: n for n in graph.nodes}
    consumers = graph.consumers()
    for g in graph.groups:
        nodes = [by_name[n] for n in g.nodes]
        inside = {o for n in nodes for o in n.outputs}
        ins = {i for n in nodes for i in n.inputs if i not in inside}
        if set(g.inputs) != ins:
            raise InternalError(f"group {g.name}: inputs must be {sorted(ins)}, not "
                                f"{sorted(g.inputs)}")
        needed = {
            o for o in inside
            if o in graph.outputs or any(c.name not in g.nodes for c in consumers.get(o, []))
        }
        if set(g.outputs) != needed:
            raise InternalError(f"group {g.name}: outputs must be {sorted(needed)}, not "
                                f"{sorted(g.outputs)}")
        if g.master not in g.nodes:
            raise InternalError(f"group {g.name}: master {g.master} must be one of its nodes")


def verify_memory(graph: Graph) -> None:
    """No two values that are live at the same time share a planned buffer."""
    plan = graph.memory
    if plan is None:
        return
    from tessera.compiler.graph.passes.plan_memory import steps_of

    live: dict[int, str] = {}
    for k, step in enumerate(steps_of(graph)):
        for out in step.outputs:
            buf = plan.storage.get(out)
            if buf is None:
                continue
            if buf in live:
                raise InternalError(
                    f"memory plan: '{out}' and '{live[buf]}' share buffer {buf} while both live"
                )
            if plan.sizes[buf] < graph.types[out].nbytes:
                raise InternalError(f"memory plan: buffer {buf} is too small for '{out}'")
            live[buf] = out
        for dead in plan.free_after[k]:
            buf = plan.storage.get(dead)
            if buf is not None and live.get(buf) == dead:
                del live[buf]
