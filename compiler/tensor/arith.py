"""Integer arithmetic analysis: linear forms, constant ranges and symbolic intervals.

A linear form is ``{atom key: coefficient}`` plus a constant; atoms are non-linear
sub-expressions identified by their printed text. Floor division and modulo by a positive
constant use the exact identities ``(c*a + r) // c == a + r // c`` and
``(c*a + r) % c == r % c``.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor.printer import expr_key, expr_str

IntRange = tuple[int, int]


@dataclass
class Linear:
    terms: dict[str, int]
    atoms: dict[str, E.Expr]
    const: int
    dtype: str

    def add(self, o: Linear, sign: int = 1) -> Linear:
        terms = dict(self.terms)
        atoms = dict(self.atoms)
        for k, c in o.terms.items():
            terms[k] = terms.get(k, 0) + sign * c
            atoms[k] = o.atoms[k]
        return Linear({k: c for k, c in terms.items() if c}, atoms, self.const + sign * o.const,
                      self.dtype)

    def scale(self, c: int) -> Linear:
        if c == 0:
            return Linear({}, {}, 0, self.dtype)
        return Linear({k: v * c for k, v in self.terms.items()}, dict(self.atoms),
                      self.const * c, self.dtype)

    def to_expr(self) -> E.Expr:
        dt = self.dtype
        pos: list[E.Expr] = []
        neg: list[E.Expr] = []
        for k in sorted(self.terms, key=lambda k: (expr_str(self.atoms[k]), k)):
            c = self.terms[k]
            atom = self.atoms[k]
            mag = abs(c)
            t = atom if mag == 1 else E.Binary(dt, "*", atom, E.Const(dt, mag))
            (pos if c > 0 else neg).append(t)
        out: E.Expr | None = None
        for t in pos:
            out = t if out is None else E.Binary(dt, "+", out, t)
        for t in neg:
            out = E.Binary(dt, "-", out if out is not None else E.Const(dt, 0), t)
        if out is None:
            return E.Const(dt, self.const)
        if self.const > 0:
            out = E.Binary(dt, "+", out, E.Const(dt, self.const))
        elif self.const < 0:
            out = E.Binary(dt, "-", out, E.Const(dt, -self.const))
        return out


def _is_index(dtype: str) -> bool:
    return dtype in ("int32", "int64")


def linear(e: E.Expr) -> Linear:
    """The linear form of an integer expression (non-linear parts become atoms)."""
    dt = e.dtype
    if isinstance(e, E.Const):
        return Linear({}, {}, int(e.value), dt)
    if isinstance(e, E.Binary) and _is_index(dt):
        if e.op == "+":
            return linear(e.a).add(linear(e.b))
        if e.op == "-":
            return linear(e.a).add(linear(e.b), -1)
        if e.op == "*":
            if isinstance(e.b, E.Const):
                return linear(e.a).scale(int(e.b.value))
            if isinstance(e.a, E.Const):
                return linear(e.b).scale(int(e.a.value))
    key = expr_key(e)
    return Linear({key: 1}, {key: e}, 0, dt)


def const_range(e: E.Expr, ranges: dict[E.Var, IntRange]) -> IntRange | None:
    """Inclusive [lo, hi] of an integer expression given inclusive var ranges, or None."""
    if isinstance(e, E.Const):
        if isinstance(e.value, bool) or not isinstance(e.value, int):
            return None
        return (e.value, e.value)
    if isinstance(e, E.Var):
        return ranges.get(e)
    if not isinstance(e, E.Binary) or not _is_index(e.dtype):
        if isinstance(e, E.Select):
            t, f = const_range(e.t, ranges), const_range(e.f, ranges)
            if t and f:
                return (min(t[0], f[0]), max(t[1], f[1]))
        return None
    a = const_range(e.a, ranges)
    if e.op in ("//", "%") and isinstance(e.b, E.Const) and e.b.value > 0:
        c = int(e.b.value)
        if e.op == "%":
            if a and a[0] >= 0 and a[1] < c:
                return a
            if a and a[0] // c == a[1] // c:
                return (a[0] % c, a[1] % c)
            return (0, c - 1)
        return (a[0] // c, a[1] // c) if a else None
    b = const_range(e.b, ranges)
    if a is None or b is None:
        return None
    if e.op == "+":
        return (a[0] + b[0], a[1] + b[1])
    if e.op == "-":
        return (a[0] - b[1], a[1] - b[0])
    if e.op == "*":
        p = [a[0] * b[0], a[0] * b[1], a[1] * b[0], a[1] * b[1]]
        return (min(p), max(p))
    if e.op == "min":
        return (min(a[0], b[0]), min(a[1], b[1]))
    if e.op == "max":
        return (max(a[0], b[0]), max(a[1], b[1]))
    return None


# symbolic intervals (bound inference) ---------------------------------------------------

Interval = tuple[E.Expr, E.Expr]


def _c(v: int) -> E.Expr:
    return E.Const("int32", v)


def eval_interval(e: E.Expr, relax: dict[E.Var, Interval]) -> Interval | None:
    """Inclusive symbolic [lo, hi] of ``e`` when each var in ``relax`` spans its interval."""
    if isinstance(e, E.Const):
        return (e, e)
    from tessera.compiler.tensor.functor import walk

    if not any(isinstance(n, E.Var) and n in relax for n in walk(e)):
        return (e, e)
    if isinstance(e, E.Var):
        return relax.get(e, (e, e))
    if not isinstance(e, E.Binary) or not _is_index(e.dtype):
        if isinstance(e, E.Select):
            t, f = eval_interval(e.t, relax), eval_interval(e.f, relax)
            if t and f:
                return (E.Binary(e.dtype, "min", t[0], f[0]), E.Binary(e.dtype, "max", t[1], f[1]))
        return None
    dt = e.dtype
    a = eval_interval(e.a, relax)
    if a is None:
        return None
    if e.op in ("//", "%") and isinstance(e.b, E.Const) and e.b.value > 0:
        if e.op == "//":
            return (E.Binary(dt, "//", a[0], e.b), E.Binary(dt, "//", a[1], e.b))
        if a[0] is a[1]:
            m = e if e.a is a[0] else E.Binary(dt, "%", a[0], e.b)
            return (m, m)
        return (_c(0), _c(int(e.b.value) - 1))
    b = eval_interval(e.b, relax)
    if b is None:
        return None
    if e.op == "+":
        return (E.Binary(dt, "+", a[0], b[0]), E.Binary(dt, "+", a[1], b[1]))
    if e.op == "-":
        return (E.Binary(dt, "-", a[0], b[1]), E.Binary(dt, "-", a[1], b[0]))
    if e.op == "*":
        for x, k in ((a, e.b), (b, e.a)):
            if isinstance(k, E.Const):
                if k.value >= 0:
                    return (E.Binary(dt, "*", x[0], k), E.Binary(dt, "*", x[1], k))
                return (E.Binary(dt, "*", x[1], k), E.Binary(dt, "*", x[0], k))
        return None
    if e.op in ("min", "max"):
        return (E.Binary(dt, e.op, a[0], b[0]), E.Binary(dt, e.op, a[1], b[1]))
    return None
