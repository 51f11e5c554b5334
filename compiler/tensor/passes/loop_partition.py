"""Loop partition: split a loop where ``likely`` guards change truth, so that the
steady-state part has no boundary checks (``simplify`` then folds them away).

For ``for v in [lo, hi)`` and a guard ``c*v + r < B`` (r ranging over the inner loops and the
known outer ranges), the guard holds for every inner iteration when ``v < (B - max r) / c``;
guards ``>=``/``>``/``<=`` give lower or upper bounds the same way.
"""

from __future__ import annotations

from typing import Any

from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.arith import IntRange, const_range, linear
from tessera.compiler.tensor.functor import map_children, walk
from tessera.compiler.tensor.passes.simplify import simplify
from tessera.compiler.tensor.printer import expr_key


def _likely_conds(body: S.Stmt) -> list[E.Cmp]:
    out = []
    for n in walk(body):
        if isinstance(n, E.Call) and n.name == "likely" and isinstance(n.args[0], E.Cmp):
            out.append(n.args[0])
    return out


def _inner_ranges(body: S.Stmt, rng: dict[E.Var, IntRange]) -> dict[E.Var, IntRange]:
    out = dict(rng)
    for n in walk(body):
        if isinstance(n, S.For) and isinstance(n.min, E.Const) and isinstance(n.extent, E.Const):
            out[n.var] = (int(n.min.value), int(n.min.value) + int(n.extent.value) - 1)
    return out


def _steady(loop: S.For, rng: dict[E.Var, IntRange]) -> tuple[int, int] | None:
    lo = int(loop.min.value)
    hi = lo + int(loop.extent.value)
    inner = _inner_ranges(loop.body, rng)
    s_lo, s_hi = lo, hi
    found = False
    for c in _likely_conds(loop.body):
        if c.a.dtype not in ("int32", "int64"):
            continue
        # normalize to  diff = a - b  with  op in <, <=, >, >=  against 0
        lin = linear(E.Binary(c.a.dtype, "-", c.a, c.b))
        key = expr_key(loop.var)
        coef = lin.terms.get(key, 0)
        if coef == 0 or lin.atoms[key] is not loop.var:
            continue
        rest = dict(lin.terms)
        del rest[key]
        rest_e = type(lin)(rest, lin.atoms, lin.const, lin.dtype).to_expr()
        if any(n is loop.var for n in walk(rest_e)):
            continue
        r = const_range(rest_e, inner)
        if r is None:
            continue
        found = True
        # condition on t = coef*v + rest
        if c.op in ("<", "<="):  # need coef*v + rmax < bound  (bound 0 or 1 for <=)
            bound = 0 if c.op == "<" else 1
            if coef > 0:
                s_hi = min(s_hi, _floordiv(bound - r[1] - 1, coef) + 1)
            else:
                s_lo = max(s_lo, _ceildiv(bound - r[1] - 1, coef))
        elif c.op in (">", ">="):  # need coef*v + rmin >= bound
            bound = 0 if c.op == ">=" else 1
            if coef > 0:
                s_lo = max(s_lo, _ceildiv(bound - r[0], coef))
            else:
                s_hi = min(s_hi, _floordiv(r[0] - bound, -coef) + 1)
    if not found:
        return None
    s_lo, s_hi = max(lo, min(s_lo, hi)), max(lo, min(s_hi, hi))
    if s_hi <= s_lo or (s_lo == lo and s_hi == hi):
        return None if s_hi <= s_lo else (lo, hi)
    return s_lo, s_hi


def _floordiv(a: int, b: int) -> int:
    return a // b


def _ceildiv(a: int, b: int) -> int:
    return -((-a) // b)


def loop_partition(stmt: S.Stmt) -> S.Stmt:
    """Partition loops with ``likely`` guards into prologue, steady state and epilogue."""
    return simplify(_go(stmt, {}))


def _go(s: Any, rng: dict[E.Var, IntRange]) -> Any:
    if isinstance(s, E.Expr):
        return s
    if isinstance(s, S.For) and isinstance(s.min, E.Const) and isinstance(s.extent, E.Const):
        lo, ext = int(s.min.value), int(s.extent.value)
        steady = _steady(s, rng)
        if steady is not None and steady != (lo, lo + ext):
            parts = []
            for a, b in ((lo, steady[0]), steady, (steady[1], lo + ext)):
                if b > a:
                    part = S.For(s.var, E.Const("int32", a), E.Const("int32", b - a), s.kind,
                                 s.body, s.annotations)
                    parts.append(simplify(part))
            return S.seq(*[_go(p, rng) for p in parts])
        inner = dict(rng)
        inner[s.var] = (lo, lo + ext - 1)
        return map_children(s, lambda x: _go(x, inner))
    return map_children(s, lambda x: _go(x, rng))
