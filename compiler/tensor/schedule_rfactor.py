"""rfactor: turn one split reduction loop into a data-parallel axis of a new stage.

Before: ``C[i] = sum(A[i, k], k)`` with ``k`` split into ``(ko, ki)``; after
``CF = s.rfactor(C, ki)``: ``CF[ki, i] = sum(A[i, ko*f + ki], ko)`` then
``C[i] = sum(CF[rv, i], rv)``. ``ki`` is now data-parallel in CF, so it can be vectorized
(partial sums in vector lanes) or parallelized. A split that does not divide the reduction
adds a ``likely`` guard that loop partition removes from the steady state.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from tessera.compiler.errors import ScheduleError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor.functor import substitute
from tessera.compiler.tensor.stage import Split
from tessera.compiler.tensor.tensor import DATA_PAR, REDUCE, ComputeOp, IterVar, Range, Tensor

if TYPE_CHECKING:
    from tessera.compiler.tensor.schedule import Schedule


def rfactor(sch: Schedule, tensor: Tensor, axis: IterVar) -> Tensor:
    from tessera.compiler.tensor.stage import Stage, TraceStep

    st = sch[tensor]
    body = st.op.body
    if not isinstance(body, E.Reduce):
        raise ScheduleError(f"stage {st.name}: rfactor of loop {axis.name}: the stage must be a "
                            f"reduction, not elementwise")
    split = next((r for r in st.relations if isinstance(r, Split)
                  and axis in (r.outer, r.inner)), None)
    if split is None or len(st.relations) != 1 or any(st.iter_attrs.values()) or \
            split.parent not in st.op.reduce_axis:
        raise ScheduleError(f"stage {st.name}: rfactor: loop {axis.name} must come from the only "
                            f"split of a reduction axis (and no other transformation), not "
                            f"{', '.join(x.name for x in st.leaf_iter_vars)}")
    k = split.parent
    n = int(k.dom.extent.value)
    if split.factor is not None:
        f_in, f_out = split.factor, -(-n // split.factor)
    else:
        assert split.nparts is not None
        f_out, f_in = split.nparts, -(-n // split.nparts)
    keep, other = (split.inner, split.outer) if axis is split.inner else (split.outer,
                                                                          split.inner)
    ext_keep = f_in if keep is split.inner else f_out
    ext_other = f_out if keep is split.inner else f_in
    rf = IterVar(E.Var("int32", f"{keep.name}.rf"), Range.of(ext_keep), DATA_PAR)
    ro = IterVar(E.Var("int32", other.name), Range.of(ext_other), REDUCE)
    inner_v, outer_v = (rf.var, ro.var) if keep is split.inner else (ro.var, rf.var)
    k_expr = E.Binary("int32", "+", E.Binary("int32", "*", outer_v, E.Const("int32", f_in)),
                      inner_v)
    k_expr = E.Binary("int32", "+", k_expr, k.dom.min)
    axis_rf = tuple(IterVar(E.Var("int32", a.name), a.dom, a.kind) for a in st.op.axis)
    vmap: dict[E.Var, E.Expr] = {a.var: b.var for a, b in zip(st.op.axis, axis_rf)}
    vmap[k.var] = k_expr
    others = tuple(r for r in body.axis if r is not k)
    conds = [substitute(body.condition, vmap)] if body.condition is not None else []
    if f_in * f_out != n:
        conds.append(E.likely(E.cmp("<", k_expr, E.Binary("int32", "+", k.dom.min,
                                                          E.Const("int32", n)))))
    src = substitute(body.source, vmap)
    red = E.Reduce(body.dtype, body.combiner, src, (ro,) + others,
                   E.all_of(*conds) if conds else None)
    rf_op = ComputeOp(f"{st.name}.rf", (rf,) + axis_rf, red, tag=st.op.tag + "_rf")
    rf_t = Tensor(rf_op)
    rv = IterVar(E.Var("int32", f"{keep.name}.v"), Range.of(ext_keep), REDUCE)
    out_axis = tuple(IterVar(E.Var("int32", a.name), a.dom, a.kind) for a in st.op.axis)
    final = E.Reduce(body.dtype, body.combiner,
                     rf_t[(rv.var,) + tuple(a.var for a in out_axis)], (rv,), None)
    new_op = ComputeOp(st.name, out_axis, final, tag=st.op.tag, attrs=st.op.attrs)
    new = Stage(rf_op, sch)
    new.read_redirect = dict(st.read_redirect)
    st.read_redirect = {}
    sch._stage_of[new_op] = st
    st.op = new_op
    st.relations = []
    st.leaf_iter_vars = list(new_op.axis) + [rv]
    sch.stages.insert(sch.stages.index(st), new)
    sch._stage_of[rf_op] = new
    sch.trace.append(TraceStep(st.name, "rfactor", (axis.name,)))
    return rf_t
