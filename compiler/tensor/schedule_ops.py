"""Turn a schedule into a loop nest: inline, infer bounds, build each stage's loops.

This is the first step of ``lower``. Every stage's output gets a Buffer (parameters for the
arguments, an ``Allocate`` at the root or at the compute_at loop otherwise); reads become
``BufferLoad`` relative to the producer's region minimum.
"""

from __future__ import annotations

from tessera.compiler.errors import CompileError, ScheduleError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.bound import StageBounds, collect_reads, infer_bounds
from tessera.compiler.tensor.functor import rewrite, substitute
from tessera.compiler.tensor.schedule import Schedule, Stage
from tessera.compiler.tensor.tensor import REDUCE, IterVar, PlaceholderOp, Tensor, reduce_identity


def _effective_bodies(sch: Schedule) -> dict[Stage, E.Expr]:
    """Each stage's body with cache_read redirects applied and inline stages substituted."""
    bodies: dict[Stage, E.Expr] = {}

    def inline(e: E.Expr) -> E.Expr:
        def post(n: object) -> E.Expr | None:
            if isinstance(n, E.TensorRead):
                prod = sch.stage_of(n.tensor.op)
                if prod is not None and prod.attach_type == "inline":
                    src = bodies[prod]
                    return substitute(src, {a.var: i for a, i in zip(prod.op.axis, n.indices)})
            return None

        return rewrite(e, post)

    for st in sch.stages:
        body = st.op.body
        if st.read_redirect:
            redirect = st.read_redirect

            def post(n: object, redirect: dict[Tensor, Tensor] = redirect) -> E.Expr | None:
                if isinstance(n, E.TensorRead) and n.tensor in redirect:
                    return E.TensorRead(n.dtype, redirect[n.tensor], n.indices)
                return None

            body = rewrite(body, post)
        bodies[st] = inline(body)
    return bodies


class _Lowerer:
    def __init__(self, sch: Schedule, params: dict[PlaceholderOp | object, S.Buffer]) -> None:
        self.sch = sch
        self.bodies = _effective_bodies(sch)
        live = {st: b for st, b in self.bodies.items() if st.attach_type != "inline"}
        self.bounds = infer_bounds(sch, collect_reads(sch, live))
        self.params = params
        self.buffers: dict[Stage, S.Buffer] = {}
        for st in sch.stages:
            if st.attach_type == "inline":
                continue
            if st.op in params:
                self.buffers[st] = params[st.op]
            else:
                b = self.bounds[st]
                shape = tuple(b.extent[iv] for iv in st.op.axis)
                self.buffers[st] = S.Buffer(st.name, st.op.dtype, shape, st.scope)
        self.attached: dict[IterVar, list[Stage]] = {}
        for st in sch.stages:
            if st.attach_type == "scope":
                assert st.attach_ivar is not None
                self.attached.setdefault(st.attach_ivar, []).append(st)

    def load(self, n: object) -> E.Expr | None:
        if not isinstance(n, E.TensorRead):
            return None
        op = n.tensor.op
        st = self.sch.stage_of(op)
        if st is None:
            buf = self.params.get(op)
            if buf is None:
                raise CompileError(f"lower: tensor {op.name} is read but must be in args, "
                                   f"not missing")
            return E.BufferLoad(n.dtype, buf, n.indices)
        b = self.bounds[st]
        idx = tuple(E.Binary("int32", "-", i, b.root_min[ax]) if st.attach_type == "scope"
                    else i for i, ax in zip(n.indices, st.op.axis))
        return E.BufferLoad(n.dtype, self.buffers[st], idx)

    def stage_nest(self, st: Stage) -> S.Stmt:
        b = self.bounds[st]
        buf = self.buffers[st]
        rmap = {iv.var: b.root_expr(iv) for iv in st.root_iter_vars}
        body = rewrite(substitute(self.bodies[st], rmap), self.load)
        store_idx = tuple(b.value[iv] for iv in st.op.axis)
        data_guards = [g for iv, g in b.guards if iv.kind != REDUCE]
        red_guards = [g for iv, g in b.guards if iv.kind == REDUCE]
        if st.attach_type == "scope":
            for iv, n in zip(st.op.axis, st.op.shape):
                r = b.root_expr(iv)
                data_guards += [E.Cmp("bool", "<", r, E.Const("int32", n)),
                                E.Cmp("bool", ">=", r, E.Const("int32", 0))]
        leaves = st.leaf_iter_vars
        if not isinstance(body, E.Reduce):
            store = _guard(S.BufferStore(buf, body, store_idx), data_guards)
            return self.loops(st, leaves, store)
        cur = E.BufferLoad(buf.dtype, buf, store_idx)
        src = body.source
        new = E.Binary(buf.dtype, {"sum": "+", "max": "max", "min": "min"}[body.combiner],
                       cur, src)
        update: S.Stmt = S.BufferStore(buf, new, store_idx)
        if body.condition is not None:
            update = S.IfThenElse(body.condition, update)
        update = _guard(update, data_guards + red_guards)
        init = _guard(S.BufferStore(buf, reduce_identity(body.combiner, buf.dtype), store_idx),
                      data_guards)
        p = next(i for i, iv in enumerate(leaves) if iv.kind == REDUCE)
        inner_data = [iv for iv in leaves[p:] if iv.kind != REDUCE]
        init_nest = self.loops(st, inner_data, init, attach=False)
        main = self.loops(st, leaves[p:], update)
        return self.loops(st, leaves[:p], S.seq(init_nest, main))

    def loops(self, st: Stage, leaves: list[IterVar], body: S.Stmt, attach: bool = True
              ) -> S.Stmt:
        b = self.bounds[st]
        for iv in reversed(leaves):
            attrs = st.iter_attrs.get(iv, {})
            if attach:  # producers first: a chain of attached stages runs in order
                for child in reversed(self.attached.get(iv, [])):
                    body = S.Allocate(self.buffers[child], S.seq(self.stage_nest(child), body))
            kind = attrs.get("kind", S.SERIAL)
            if kind in (S.VECTORIZED, S.UNROLLED) and b.extent[iv] > 4096:
                raise ScheduleError(f"stage {st.name}: {kind} loop {iv.name} must have an extent "
                                    f"of at most 4096, not {b.extent[iv]}")
            loop: S.Stmt = S.For(iv.var, E.Const("int32", 0), E.Const("int32", b.extent[iv]),
                                 kind, body)
            if "tensorize" in attrs:
                loop = S.AttrStmt("tensorize", attrs["tensorize"], loop)
            for key, value in reversed(attrs.get("pragmas", [])):
                loop = S.AttrStmt(f"pragma_{key}", value, loop)
            body = loop
        return body

    def run(self) -> S.Stmt:
        nests: list[S.Stmt] = []
        allocs: list[S.Buffer] = []
        for st in self.sch.stages:
            if st.attach_type != "root":
                continue
            nests.append(self.stage_nest(st))
            if st.op not in self.params:
                allocs.append(self.buffers[st])
        stmt = S.seq(*nests)
        for buf in reversed(allocs):
            stmt = S.Allocate(buf, stmt)
        return stmt


def _guard(s: S.Stmt, conds: list[E.Expr]) -> S.Stmt:
    if not conds:
        return s
    return S.IfThenElse(E.all_of(*[E.likely(c) for c in conds]), s)


def schedule_ops(sch: Schedule, params: dict[object, S.Buffer]) -> S.Stmt:
    """The loop nest of ``sch``; ``params`` maps argument operations to their buffers."""
    return _Lowerer(sch, params).run()


__all__ = ["schedule_ops", "StageBounds"]
