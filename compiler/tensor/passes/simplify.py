"""Arithmetic simplification: constant folding, canonical linear forms, range-based folding.

Loop variables get their ranges from the enclosing ``For`` nodes, so ``(i*8 + j) // 8``
becomes ``i`` when ``0 <= j < 8`` and a guard that always holds disappears.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Callable
from typing import Any

from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.arith import IntRange, const_range, linear
from tessera.compiler.tensor.functor import map_children

_FOLD: dict[str, Callable[[Any, Any], Any]] = {
    "+": operator.add, "-": operator.sub, "*": operator.mul, "min": min, "max": max,
    "<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge,
    "==": operator.eq, "!=": operator.ne,
}


def _wrap_int(v: int, dtype: str) -> int:
    bits = {"int8": 8, "uint8": 8, "int16": 16, "int32": 32, "int64": 64}[dtype]
    v &= (1 << bits) - 1
    if dtype != "uint8" and v >= 1 << (bits - 1):
        v -= 1 << bits
    return v


def _fold_binary(e: E.Binary) -> E.Expr | None:
    a, b = e.a, e.b
    if not (isinstance(a, E.Const) and isinstance(b, E.Const)):
        return None
    if E.is_float(e.dtype):
        if e.op == "/":
            return E.Const(e.dtype, a.value / b.value) if b.value != 0 else None
        return E.Const(e.dtype, float(_FOLD[e.op](a.value, b.value)))
    if e.op in ("//", "%"):
        if b.value == 0:
            return None
        v = a.value // b.value if e.op == "//" else a.value % b.value
    else:
        v = _FOLD[e.op](a.value, b.value)
    return E.Const(e.dtype, _wrap_int(int(v), e.dtype))


def _simplify_divmod(e: E.Binary, ranges: dict[E.Var, IntRange]) -> E.Expr:
    c = int(e.b.value)
    lin = linear(e.a)
    whole = {k: v for k, v in lin.terms.items() if v % c == 0}
    rest = lin.add(type(lin)(whole, lin.atoms, 0, lin.dtype), -1)
    q_const, r_const = divmod(lin.const, c)
    rest.const = r_const
    r_expr = rest.to_expr()
    rr = const_range(r_expr, ranges)
    dt = e.dtype
    if e.op == "//":
        quot = type(lin)({k: v // c for k, v in whole.items()}, lin.atoms, q_const, dt)
        if rr is not None and rr[0] // c == rr[1] // c:
            quot.const += rr[0] // c
            return quot.to_expr()
        if not whole and q_const == 0:
            return E.Binary(dt, "//", r_expr, e.b)
        return quot.add(linear(E.Binary(dt, "//", r_expr, e.b))).to_expr()
    if rr is not None and rr[0] // c == rr[1] // c:
        return _simplify_linear(E.Binary(dt, "-", r_expr, E.Const(dt, (rr[0] // c) * c)))
    return E.Binary(dt, "%", r_expr, e.b)


def _simplify_linear(e: E.Expr) -> E.Expr:
    return linear(e).to_expr()


def simplify_expr(e: E.Expr, ranges: dict[E.Var, IntRange] | None = None) -> E.Expr:
    """Simplify an expression given inclusive integer ranges of its variables."""
    rng = ranges or {}

    def go(n: Any) -> Any:
        n = map_children(n, go)
        return _rule(n, rng)

    return go(e)


def _rule(n: Any, rng: dict[E.Var, IntRange]) -> Any:
    if isinstance(n, E.Binary):
        f = _fold_binary(n)
        if f is not None:
            return f
        if n.dtype in ("int32", "int64"):
            if n.op in ("+", "-", "*"):
                return _simplify_linear(n)
            if n.op in ("//", "%") and isinstance(n.b, E.Const) and n.b.value > 0:
                if n.b.value == 1:
                    return n.a if n.op == "//" else E.Const(n.dtype, 0)
                return _simplify_divmod(n, rng)
            if n.op in ("min", "max"):
                d = const_range(_simplify_linear(E.Binary(n.dtype, "-", n.a, n.b)), rng)
                if d is not None and (d[1] <= 0 or d[0] >= 0):
                    a_small = d[1] <= 0
                    return n.a if a_small == (n.op == "min") else n.b
        elif E.is_float(n.dtype) and E.lanes_of(n.dtype) == 1:
            if n.op == "*" and _is_const(n.b, 1.0):
                return n.a
            if n.op in ("+", "-") and _is_const(n.b, 0.0):
                return n.a
        return n
    if isinstance(n, E.Cmp):
        if isinstance(n.a, E.Const) and isinstance(n.b, E.Const):
            return E.Const("bool", bool(_FOLD[n.op](n.a.value, n.b.value)))
        if n.a.dtype in ("int32", "int64"):
            d = const_range(_simplify_linear(E.Binary(n.a.dtype, "-", n.a, n.b)), rng)
            if d is not None:
                lo, hi = d
                truth = {"<": (hi < 0, lo >= 0), "<=": (hi <= 0, lo > 0),
                         ">": (lo > 0, hi <= 0), ">=": (lo >= 0, hi < 0),
                         "==": (lo == hi == 0, lo > 0 or hi < 0),
                         "!=": (lo > 0 or hi < 0, lo == hi == 0)}[n.op]
                if truth[0]:
                    return E.Const("bool", True)
                if truth[1]:
                    return E.Const("bool", False)
        return n
    if isinstance(n, E.Logic):
        a, b = n.a, n.b
        if n.op == "not":
            return E.Const("bool", not a.value) if isinstance(a, E.Const) else n
        assert b is not None
        for x, y in ((a, b), (b, a)):
            if isinstance(x, E.Const):
                if n.op == "and":
                    return y if x.value else E.Const("bool", False)
                return E.Const("bool", True) if x.value else y
        return n
    if isinstance(n, E.Select) and isinstance(n.cond, E.Const):
        return n.t if n.cond.value else n.f
    if isinstance(n, E.Call) and n.name == "likely" and isinstance(n.args[0], E.Const):
        return n.args[0]
    if isinstance(n, E.Cast) and isinstance(n.value, E.Const) and E.lanes_of(n.dtype) == 1:
        if E.is_float(n.dtype):
            return E.Const(n.dtype, float(n.value.value))
        if n.dtype == "bool":
            return E.Const("bool", bool(n.value.value))
        if isinstance(n.value.value, float) and not math.isfinite(n.value.value):
            return n
        return E.Const(n.dtype, _wrap_int(int(n.value.value), n.dtype))
    return n


def _is_const(e: E.Expr, v: float) -> bool:
    return isinstance(e, E.Const) and e.value == v


def simplify(stmt: S.Stmt) -> S.Stmt:
    """Simplify every expression with loop ranges in scope; drop empty and trivial loops."""
    return _stmt(stmt, {})


def _stmt(s: S.Stmt, rng: dict[E.Var, IntRange]) -> S.Stmt:
    if isinstance(s, S.For):
        lo = simplify_expr(s.min, rng)
        ext = simplify_expr(s.extent, rng)
        inner = dict(rng)
        lr, er = const_range(lo, rng), const_range(ext, rng)
        if lr is not None and er is not None:
            inner[s.var] = (lr[0], lr[1] + er[1] - 1)
        body = _stmt(s.body, inner)
        if isinstance(ext, E.Const) and ext.value == 1 and s.kind in (S.SERIAL, S.UNROLLED,
                                                                       S.VECTORIZED, S.PARALLEL):
            from tessera.compiler.tensor.functor import substitute

            return _stmt(substitute(s.body, {s.var: lo}), rng)
        if lo is s.min and ext is s.extent and body is s.body:
            return s
        return S.For(s.var, lo, ext, s.kind, body, s.annotations)
    if isinstance(s, S.IfThenElse):
        c = simplify_expr(s.cond, rng)
        if isinstance(c, E.Const):
            if c.value:
                return _stmt(s.then_case, rng)
            return _stmt(s.else_case, rng) if s.else_case is not None else S.SeqStmt(())
        t = _stmt(s.then_case, rng)
        el = _stmt(s.else_case, rng) if s.else_case is not None else None
        return S.IfThenElse(c, t, el)
    if isinstance(s, S.LetStmt):
        v = simplify_expr(s.value, rng)
        inner = dict(rng)
        r = const_range(v, rng)
        if r is not None:
            inner[s.var] = r
        return S.LetStmt(s.var, v, _stmt(s.body, inner))
    if isinstance(s, S.SeqStmt):
        return S.seq(*[_stmt(x, rng) for x in s.stmts]) if s.stmts else s
    if isinstance(s, (S.Allocate, S.AttrStmt)):
        return map_children(s, lambda x: _stmt(x, rng))
    return map_children(s, lambda x: simplify_expr(x, rng))
