"""cache_read / cache_write (stages that copy through a storage scope) and op collection."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tessera.compiler.errors import ScheduleError
from tessera.compiler.tensor.expr import Var
from tessera.compiler.tensor.functor import substitute
from tessera.compiler.tensor.tensor import ComputeOp, IterVar, Operation, Range, Tensor

if TYPE_CHECKING:
    from tessera.compiler.tensor.schedule import Schedule


def collect_ops(outputs: list[Tensor]) -> list[ComputeOp]:
    """Compute operations reachable from ``outputs``, producers first."""
    from tessera.compiler.tensor.schedule import op_inputs

    order: list[ComputeOp] = []
    seen: set[Operation] = set()

    def visit(op: Operation) -> None:
        if op in seen:
            return
        seen.add(op)
        for t in op_inputs(op):
            visit(t.op)
        if isinstance(op, ComputeOp):
            order.append(op)

    for t in outputs:
        visit(t.op)
    return order


def _fresh_axis(op_axis: tuple[IterVar, ...], suffix: str = "") -> tuple[IterVar, ...]:
    return tuple(IterVar(Var("int32", iv.name + suffix), iv.dom, iv.kind) for iv in op_axis)


def cache_read(sch: Schedule, tensor: Tensor, scope: str, readers: list[Tensor]) -> Tensor:
    """A stage ``T.<scope>`` copying ``tensor`` into ``scope``, read by ``readers`` instead.

    Before: ``C = f(A[..])``; after ``AL = cache_read(A, "local", [C])``:
    ``AL[i] = A[i]`` then ``C = f(AL[..])``.
    """
    from tessera.compiler.tensor.schedule import Stage, TraceStep

    if not isinstance(scope, str) or not scope:
        raise ScheduleError(f"cache_read of {tensor.name}: scope must be a non-empty string, "
                            f"not {scope!r}")
    stages = [sch[r] for r in readers]
    for st in stages:
        if not any(t is tensor for t in sch.inputs_of(st)):
            raise ScheduleError(f"cache_read of {tensor.name}: reader stage {st.name} must read "
                                f"{tensor.name}, not be unrelated")
    axis = tuple(IterVar(Var("int32", f"ax{d}"), Range.of(n)) for d, n in enumerate(tensor.shape))
    body = tensor[tuple(iv.var for iv in axis)]
    op = ComputeOp(f"{tensor.name}.{scope}", axis, body, tag="cache_read")
    cache = Tensor(op)
    new = Stage(op, sch)
    new.scope = scope
    pos = min(sch.stages.index(st) for st in stages)
    sch.stages.insert(pos, new)
    sch._stage_of[op] = new
    for st in stages:
        st.read_redirect[tensor] = cache
    sch.trace.append(TraceStep("", "cache_read", (tensor.name, scope,
                                                   tuple(s.name for s in stages))))
    return cache


def cache_write(sch: Schedule, tensor: Tensor, scope: str) -> Tensor:
    """A stage ``C.<scope>`` computing ``tensor`` in ``scope``; ``tensor`` copies it out.

    Before: ``C[i] = sum(..)``; after ``CL = cache_write(C, "local")``:
    ``CL[i] = sum(..)`` then ``C[i] = CL[i]``. Must come before any loop transformation of C.
    """
    from tessera.compiler.tensor.schedule import Stage, TraceStep

    st = sch[tensor]
    if st.relations or st.iter_attrs or st.leaf_iter_vars != st.root_iter_vars:
        raise ScheduleError(f"stage {st.name}: cache_write must come before any loop "
                            f"transformation of the stage, not after "
                            f"({', '.join(x.name for x in st.leaf_iter_vars)})")
    if not isinstance(scope, str) or not scope:
        raise ScheduleError(f"stage {st.name}: cache_write scope must be a non-empty string, "
                            f"not {scope!r}")
    old = st.op
    axis = _fresh_axis(old.axis, ".c")
    body = substitute(old.body, {a.var: b.var for a, b in zip(old.axis, axis)})
    local = ComputeOp(f"{old.name}.{scope}", axis, body, tag=old.tag, attrs=old.attrs)
    local_t = Tensor(local)
    out_axis = _fresh_axis(old.axis)
    copy = ComputeOp(old.name, out_axis, local_t[tuple(a.var for a in out_axis)], tag=old.tag)
    new = Stage(local, sch)
    new.scope = scope
    new.read_redirect = dict(st.read_redirect)
    st.read_redirect = {}
    st.op = copy
    st.leaf_iter_vars = list(copy.axis)
    sch.stages.insert(sch.stages.index(st), new)
    sch._stage_of[local] = new
    sch._stage_of[copy] = st
    sch.trace.append(TraceStep(st.name, "cache_write", (scope,)))
    return local_t
