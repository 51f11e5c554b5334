"""Vectorization: a ``vectorized`` loop of constant extent n becomes one vector statement.

The loop variable becomes ``ramp(min, 1, n)``; scalars meeting vectors are broadcast; an
index linear in the variable stays a ramp (one contiguous vector load/store in codegen),
anything else becomes a gather/scatter of lanes. Bodies that cannot be vectorized (inner
loops, allocations, conditions on the lane) are kept as a serial loop.
"""

from __future__ import annotations

from typing import Any

from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.arith import linear
from tessera.compiler.tensor.functor import map_children, walk
from tessera.compiler.tensor.passes.simplify import simplify_expr
from tessera.compiler.tensor.printer import expr_key


class _NotVectorizable(Exception):
    pass


def _lanes(e: E.Expr) -> int:
    return E.lanes_of(e.dtype)


def broadcast(e: E.Expr, n: int) -> E.Expr:
    if _lanes(e) == n:
        return e
    if isinstance(e, E.Ramp):
        raise _NotVectorizable
    return E.Broadcast(E.with_lanes(e.dtype, n), e, n)


class _Vectorizer:
    def __init__(self, var: E.Var, lo: E.Expr, n: int) -> None:
        self.var, self.lo, self.n = var, lo, n

    def index(self, e: E.Expr) -> E.Expr:
        """A ramp when ``e`` is linear in the lane variable, else a general vector."""
        if not any(x is self.var for x in walk(e)):
            return e
        lin = linear(e)
        key = expr_key(self.var)
        if key in lin.terms and lin.atoms[key] is self.var:
            coef = lin.terms.pop(key)
            rest = lin.to_expr()
            if not any(x is self.var for x in walk(rest)):
                lo_off = E.Binary("int32", "*", self.lo, E.Const("int32", coef))
                base = simplify_expr(E.Binary("int32", "+", rest, lo_off))
                return E.Ramp(E.with_lanes("int32", self.n), base, E.Const("int32", coef), self.n)
        return self.expr(e)

    def expr(self, e: E.Expr) -> E.Expr:
        n = self.n
        if e is self.var:
            return E.Ramp(E.with_lanes("int32", n), self.lo, E.Const("int32", 1), n)
        if isinstance(e, (E.Var, E.Const)):
            return e
        if isinstance(e, E.BufferLoad):
            idx = self.index(e.indices[0])
            if _lanes(idx) == 1:
                return e if idx is e.indices[0] else E.BufferLoad(e.dtype, e.buffer, (idx,))
            # a ramp is one contiguous vector access, anything else a gather in codegen
            return E.BufferLoad(E.with_lanes(e.dtype, n), e.buffer, (self._vec(idx),))
        if isinstance(e, E.Ramp | E.Broadcast | E.Reduce | E.TensorRead):
            raise _NotVectorizable
        kids = [self.expr(c) if isinstance(c, E.Expr) else c for c in _kids(e)]
        if all(_lanes(k) == 1 for k in kids if isinstance(k, E.Expr)):
            it = iter(kids)  # children() and map_children visit fields in the same order
            return map_children(e, lambda _c: next(it))
        if isinstance(e, E.Binary) and e.dtype == "int32" and e.op in ("+", "-", "*"):
            a, b = kids
            if isinstance(a, E.Ramp) and _lanes(b) == 1 and e.op in ("+", "-"):
                return E.Ramp(a.dtype, E.Binary("int32", e.op, a.base, b), a.stride, n)
            if isinstance(b, E.Ramp) and _lanes(a) == 1 and e.op == "+":
                return E.Ramp(b.dtype, E.Binary("int32", "+", a, b.base), b.stride, n)
            if isinstance(a, E.Ramp) and _lanes(b) == 1 and e.op == "*":
                return E.Ramp(a.dtype, E.Binary("int32", "*", a.base, b),
                              E.Binary("int32", "*", a.stride, b), n)
        vk = [self._vec(k) for k in kids]
        if isinstance(e, E.Binary):
            return E.Binary(E.with_lanes(e.dtype, n), e.op, vk[0], vk[1])
        if isinstance(e, E.Cmp):
            return E.Cmp(E.with_lanes("bool", n), e.op, vk[0], vk[1])
        if isinstance(e, E.Logic):
            return E.Logic(E.with_lanes("bool", n), e.op, vk[0], vk[1] if len(vk) > 1 else None)
        if isinstance(e, E.Select):
            return E.Select(E.with_lanes(e.dtype, n), vk[0], vk[1], vk[2])
        if isinstance(e, E.Cast):
            return E.Cast(E.with_lanes(e.dtype, n), vk[0])
        if isinstance(e, E.Call):
            if e.name == "likely":
                return vk[0]
            return E.Call(E.with_lanes(e.dtype, n), e.name, tuple(vk))
        raise _NotVectorizable

    def _vec(self, e: E.Expr) -> E.Expr:
        return e if _lanes(e) == self.n else broadcast(e, self.n)

    def stmt(self, s: S.Stmt) -> S.Stmt:
        if isinstance(s, S.BufferStore):
            idx = self.index(s.indices[0])
            val = self.expr(s.value)
            if _lanes(idx) == 1:
                if _lanes(val) != 1:
                    raise _NotVectorizable  # a reduction over lanes into one element
                return s
            return S.BufferStore(s.buffer, self._vec(val), (self._vec(idx),))
        if isinstance(s, S.SeqStmt):
            return S.seq(*[self.stmt(x) for x in s.stmts])
        if isinstance(s, S.IfThenElse):
            if any(x is self.var for x in walk(s.cond)):
                raise _NotVectorizable
            return S.IfThenElse(s.cond, self.stmt(s.then_case),
                                self.stmt(s.else_case) if s.else_case is not None else None)
        if isinstance(s, S.LetStmt) and not any(x is self.var for x in walk(s.value)):
            return S.LetStmt(s.var, s.value, self.stmt(s.body))
        raise _NotVectorizable


def _kids(e: E.Expr) -> list[Any]:
    from tessera.compiler.tensor.functor import children

    return list(children(e))


def vectorize_loops(stmt: S.Stmt) -> S.Stmt:
    """Replace ``vectorized`` loops by vector statements (or serial loops as a fallback)."""

    def go(n: Any) -> Any:
        if isinstance(n, E.Expr):
            return n
        m = map_children(n, go)
        if isinstance(m, S.For) and m.kind == S.VECTORIZED:
            if not isinstance(m.extent, E.Const):
                return S.For(m.var, m.min, m.extent, S.SERIAL, m.body, m.annotations)
            try:
                return _Vectorizer(m.var, m.min, int(m.extent.value)).stmt(m.body)
            except _NotVectorizable:
                return S.For(m.var, m.min, m.extent, S.SERIAL, m.body, m.annotations)
        return m

    return go(stmt)
