"""Bound inference: loop extents of every stage and the region an attached stage computes.

Each iter var runs ``0 .. extent-1``; a root axis takes ``dom.min + rel`` where ``rel`` is
rebuilt from the leaves through the split/fuse relations. A stage attached with compute_at
computes only the region its consumers read inside the attach loop: the consumers' index
expressions are evaluated with the inner loops relaxed to their full ranges.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from tessera.compiler.errors import ScheduleError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor.arith import Interval, IntRange, const_range, eval_interval
from tessera.compiler.tensor.functor import free_vars, substitute, walk
from tessera.compiler.tensor.passes.simplify import simplify_expr
from tessera.compiler.tensor.schedule import Fuse, Schedule, Split, Stage
from tessera.compiler.tensor.tensor import IterVar


@dataclass
class StageBounds:
    """Root domains (min expression, constant extent), extents and values of every iter var."""

    root_min: dict[IterVar, E.Expr] = field(default_factory=dict)
    extent: dict[IterVar, int] = field(default_factory=dict)
    value: dict[IterVar, E.Expr] = field(default_factory=dict)
    guards: list[tuple[IterVar, E.Expr]] = field(default_factory=list)

    def root_expr(self, iv: IterVar) -> E.Expr:
        return simplify_expr(E.Binary("int32", "+", self.root_min[iv], self.value[iv]))


def _derive(stage: Stage, b: StageBounds) -> None:
    ext = b.extent
    for r in stage.relations:
        if isinstance(r, Split):
            e = ext[r.parent]
            if r.factor is not None:
                ext[r.outer], ext[r.inner] = -(-e // r.factor), r.factor
            else:
                assert r.nparts is not None
                ext[r.outer], ext[r.inner] = r.nparts, -(-e // r.nparts)
        else:
            ext[r.fused] = ext[r.outer] * ext[r.inner]
    val: dict[IterVar, E.Expr] = {iv: iv.var for iv in stage.leaf_iter_vars}
    for r in reversed(stage.relations):
        if isinstance(r, Split):
            f = E.Const("int32", ext[r.inner])
            val[r.parent] = E.Binary("int32", "+", E.Binary("int32", "*", val[r.outer], f),
                                     val[r.inner])
            if ext[r.outer] * ext[r.inner] != ext[r.parent]:
                b.guards.append((r.parent, E.Cmp("bool", "<", val[r.parent],
                                                 E.Const("int32", ext[r.parent]))))
        elif isinstance(r, Fuse):
            n = E.Const("int32", ext[r.inner])
            val[r.outer] = E.Binary("int32", "//", val[r.fused], n)
            val[r.inner] = E.Binary("int32", "%", val[r.fused], n)
    b.value = {k: simplify_expr(v) for k, v in val.items()}


def _leaf_ranges(stage: Stage, b: StageBounds, leaves: list[IterVar]) -> dict[E.Var, Interval]:
    return {iv.var: (E.Const("int32", 0), E.Const("int32", b.extent[iv] - 1)) for iv in leaves}


def _relax(e: E.Expr, relax: dict[E.Var, Interval]) -> Interval:
    lo_hi = eval_interval(e, relax)
    if lo_hi is None:
        raise ScheduleError(f"bound inference: index {e!r} must be affine in the loop variables, "
                            f"not a data-dependent expression")
    lo, hi = lo_hi
    for _ in range(8):  # attached consumers' mins mention outer loops: relax again
        if not (free_vars(lo) | free_vars(hi)) & relax.keys():
            break
        a, b = eval_interval(lo, relax), eval_interval(hi, relax)
        if a is None or b is None:
            raise ScheduleError(f"bound inference: index {e!r} must be affine")
        lo, hi = a[0], b[1]
    return lo, hi


def infer_bounds(sch: Schedule, reads: dict[Stage, list[tuple[Stage, tuple[E.Expr, ...]]]]
                 ) -> dict[Stage, StageBounds]:
    """Bounds of every non-inline stage; ``reads[X]`` lists (consumer, indices) of X."""
    out: dict[Stage, StageBounds] = {}
    for st in reversed(sch.stages):
        if st.attach_type == "inline":
            continue
        b = StageBounds()
        for iv in st.op.reduce_axis:
            b.root_min[iv] = iv.dom.min
            b.extent[iv] = int(iv.dom.extent.value)
        if st.attach_type == "root":
            for iv, n in zip(st.op.axis, st.op.shape):
                b.root_min[iv], b.extent[iv] = E.Const("int32", 0), n
        else:
            _attached_region(st, b, out, reads)
        _derive(st, b)
        out[st] = b
    return out


def _attached_region(st: Stage, b: StageBounds, done: dict[Stage, StageBounds],
                     reads: dict[Stage, list[tuple[Stage, tuple[E.Expr, ...]]]]) -> None:
    parent, iv = st.attach_stage, st.attach_ivar
    assert parent is not None and iv is not None
    pb = done[parent]
    pos = parent.leaf_iter_vars.index(iv)
    relax = _leaf_ranges(parent, pb, parent.leaf_iter_vars[pos + 1:])
    outer: dict[E.Var, IntRange] = {
        x.var: (0, pb.extent[x] - 1) for x in parent.leaf_iter_vars[:pos + 1]}
    inside = {parent}
    for q, qb in done.items():
        if q.attach_stage is parent and q.attach_ivar is not None and \
                parent.leaf_iter_vars.index(q.attach_ivar) >= pos:
            inside.add(q)
            relax.update(_leaf_ranges(q, qb, q.leaf_iter_vars))
    los: list[list[E.Expr]] = [[] for _ in st.op.axis]
    his: list[list[E.Expr]] = [[] for _ in st.op.axis]
    for consumer, idx in reads.get(st, []):
        if consumer not in inside:
            raise ScheduleError(
                f"stage {st.name}: compute_at loop {iv.name} of stage {parent.name}: it is also "
                f"read by stage {consumer.name}, which must run inside that loop, not outside"
            )
        cb = done[consumer]
        rmap = {r.var: cb.root_expr(r) for r in consumer.root_iter_vars}
        for d, e in enumerate(idx):
            lo, hi = _relax(substitute(e, rmap), relax)
            los[d].append(lo)
            his[d].append(hi)
    for d, ax in enumerate(st.op.axis):
        if not los[d]:
            b.root_min[ax], b.extent[ax] = E.Const("int32", 0), st.op.shape[d]
            continue
        lo, hi = los[d][0], his[d][0]
        for x in los[d][1:]:
            lo = E.Binary("int32", "min", lo, x)
        for x in his[d][1:]:
            hi = E.Binary("int32", "max", hi, x)
        lo = simplify_expr(lo, outer)
        ext = simplify_expr(E.Binary("int32", "+", E.Binary("int32", "-", hi, lo),
                                     E.Const("int32", 1)), outer)
        if not isinstance(ext, E.Const):
            rng = const_range(ext, outer)
            if rng is None:
                raise ScheduleError(
                    f"stage {st.name}: compute_at loop {iv.name} of stage {parent.name}: the "
                    f"region of axis {ax.name} must have a constant extent, not {ext!r}"
                )
            ext = E.Const("int32", rng[1])
        b.root_min[ax], b.extent[ax] = lo, int(ext.value)


def collect_reads(sch: Schedule, bodies: dict[Stage, E.Expr]
                  ) -> dict[Stage, list[tuple[Stage, tuple[E.Expr, ...]]]]:
    """For each stage, the (consumer stage, index tuple) of every read of its output."""
    reads: dict[Stage, list[tuple[Stage, tuple[E.Expr, ...]]]] = {}
    for consumer, body in bodies.items():
        for n in walk(body):
            if isinstance(n, E.TensorRead):
                prod = sch.stage_of(n.tensor.op)
                if prod is not None:
                    reads.setdefault(prod, []).append((consumer, n.indices))
    return reads
