"""Unrolling: a loop of kind ``unrolled`` with a constant extent becomes a sequence."""

from __future__ import annotations

from typing import Any

from tessera.compiler.errors import ScheduleError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.functor import map_children, substitute


def unroll_loops(stmt: S.Stmt) -> S.Stmt:
    def go(n: Any) -> Any:
        if isinstance(n, E.Expr):
            return n
        m = map_children(n, go)
        if isinstance(m, S.For) and m.kind == S.UNROLLED:
            if not isinstance(m.extent, E.Const) or not isinstance(m.min, E.Const):
                raise ScheduleError(f"unroll: loop {m.var.name} must have a constant extent, "
                                    f"not {m.extent!r}")
            lo = int(m.min.value)
            return S.seq(*[substitute(m.body, {m.var: E.Const("int32", lo + k)})
                           for k in range(int(m.extent.value))])
        return m

    return go(stmt)
