"""Which members of a conv group the conv kernel can compute as its fused epilogue.

A conv group (``Conv`` or ``ConvNCHWc`` master, then its elementwise members, e.g. ResNet's
``Conv -> Add(residual) -> Relu``) maps onto an ``ops.epilogue`` description: the conv's own
bias input first, then, member by member along the chain from the conv's output, ``Relu``,
``Clip`` and a two-input ``Add``/``Sum`` whose other operand has the output's shape and comes
from outside the group (a residual). The chain stops at the first member it cannot express;
the members after it stay numpy epilogues. This is the one place that reads a group's
epilogue: the tuning task's key (``autotune.extract.task_of_group``) and the llvm conv
builder both use it, so they agree.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.compiler.graph.ir import FusedGroup, Graph, Node
from tessera.compiler.ops.epilogue import Epilogue, Step

CONV_OPS = ("Conv", "ConvNCHWc")


@dataclass(frozen=True)
class GroupEpilogue:
    """``steps`` (the ``ops.epilogue`` description) read ``operands`` (graph values, in step
    order); the kernel computes the master and the nodes ``fused`` and writes ``output``."""

    steps: Epilogue
    operands: tuple[str, ...]
    fused: tuple[str, ...]
    output: str


def _step(node: Node, value: str, graph: Graph, group: FusedGroup
          ) -> tuple[Step, str | None] | None:
    """The epilogue step of ``node`` applied to ``value`` (and its operand), or None."""
    if node.outputs[0] not in graph.types or graph.types[node.outputs[0]].dtype != "float32":
        return None
    if node.op == "Relu" and node.inputs == (value,):
        return ("relu",), None
    if node.op == "Clip" and node.inputs == (value,):
        lo, hi = node.attr("min"), node.attr("max")
        return ("clip", None if lo is None else float(lo), None if hi is None else float(hi)), None
    if node.op in ("Add", "Sum") and len(node.inputs) == 2 and value in node.inputs:
        other = node.inputs[1] if node.inputs[0] == value else node.inputs[0]
        t, want = graph.types.get(other), graph.types[value]
        if other == value or other not in group.inputs or t is None or t != want:
            return None
        return ("add",), other
    return None


def group_epilogue(group: FusedGroup, graph: Graph) -> GroupEpilogue | None:
    """The fused epilogue of a conv group, or None when its master is not a conv. The chain
    starts at the master (members before it run first, in numpy); an empty ``steps`` means
    a plain conv."""
    if group.master not in group.nodes:
        return None
    by = {n.name: n for n in graph.nodes}
    master = by[group.master]
    if master.op not in CONV_OPS:
        return None
    steps: list[Step] = []
    operands: list[str] = []
    if len(master.inputs) > 2 and master.inputs[2]:
        steps.append(("bias",))
        operands.append(master.inputs[2])
    users = graph.consumers()
    value, fused = master.outputs[0], []
    for name in group.nodes[group.nodes.index(group.master) + 1:]:
        node = by[name]
        if value in graph.outputs or [u.name for u in users.get(value, [])] != [name]:
            break
        made = _step(node, value, graph, group)
        if made is None:
            break
        steps.append(made[0])
        if made[1] is not None:
            operands.append(made[1])
        value = node.outputs[0]
        fused.append(name)
    return GroupEpilogue(tuple(steps), tuple(operands), tuple(fused), value)
