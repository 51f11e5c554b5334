"""Memory planning: buffers for the values passed between steps (fused groups), reused by
liveness over the execution order. A freed buffer is reused for a later value of a similar
size class (the smallest free buffer that holds it and is at most ``SLACK`` times larger);
buffers only grow. Graph inputs, outputs and constants get no planned buffer."""

from __future__ import annotations

from tessera.compiler.graph.ir import FusedGroup, Graph, MemoryPlan

SLACK = 4


def steps_of(graph: Graph) -> tuple[FusedGroup, ...]:
    """The execution steps: the fused groups, or one step per node before fusion."""
    if graph.groups:
        return graph.groups
    produced = {o for n in graph.nodes for o in n.outputs}
    return tuple(
        FusedGroup(n.name, (n.name,), n.inputs, tuple(o for o in n.outputs if o in produced),
                   n.name, 8)
        for n in graph.nodes
    )


def group_of(graph: Graph, master: str) -> FusedGroup | None:
    """The execution step whose master node is ``master``, or None."""
    return next((g for g in steps_of(graph) if g.master == master), None)


def plan_memory(graph: Graph) -> Graph:
    steps = steps_of(graph)
    last_use: dict[str, int] = {}
    for k, step in enumerate(steps):
        for i in step.inputs:
            last_use[i] = k
    pinned = set(graph.outputs) | set(graph.inputs) | set(graph.constants)
    storage: dict[str, int] = {}
    sizes: list[int] = []
    free: list[int] = []
    free_after: list[tuple[str, ...]] = []
    naive = 0
    for k, step in enumerate(steps):
        for out in step.outputs:
            if out in pinned:
                continue
            need = graph.types[out].nbytes
            naive += need
            fits = [b for b in free if sizes[b] >= need and sizes[b] <= SLACK * max(need, 1)]
            if not fits:  # grow the largest free buffer that is too small, else a new one
                fits = sorted((b for b in free if sizes[b] < need), key=lambda b: -sizes[b])[:1]
            if fits:
                buf = min(fits, key=lambda b: abs(sizes[b] - need))
                free.remove(buf)
                sizes[buf] = max(sizes[buf], need)
            else:
                buf = len(sizes)
                sizes.append(need)
            storage[out] = buf
        dead = tuple(
            v for v, last in last_use.items() if last == k and v not in pinned
        )
        # values produced but never used die right after their step
        dead += tuple(o for o in step.outputs if o not in last_use and o not in pinned)
        for v in dead:
            if v in storage:
                free.append(storage[v])
        free_after.append(dead)
    plan = MemoryPlan(
        storage=storage, sizes=tuple(sizes), free_after=tuple(free_after),
        planned_bytes=sum(sizes), naive_bytes=naive,
    )
    return graph.replace(memory=plan)
