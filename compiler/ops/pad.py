"""Zero (or constant) padding of the trailing dimensions."""

from __future__ import annotations

from collections.abc import Sequence

from tessera.compiler.errors import CompileError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import tensor as T


def pad(data: T.Tensor, before: Sequence[int], after: Sequence[int] | None = None,
        value: float = 0.0, name: str = "pad") -> T.Tensor:
    """Pad every dimension ``d`` by ``before[d]`` and ``after[d]`` elements of ``value``."""
    after = before if after is None else after
    if len(before) != data.ndim or len(after) != data.ndim:
        raise CompileError(f"pad {name}: before/after must have {data.ndim} entries, not "
                           f"{len(before)} and {len(after)}")
    if any(p < 0 for p in list(before) + list(after)):
        raise CompileError(f"pad {name}: padding must be >= 0, not {list(before)}/{list(after)}")
    shape = tuple(n + b + a for n, b, a in zip(data.shape, before, after))
    if all(p == 0 for p in list(before) + list(after)):
        return T.compute(shape, lambda *i: data[i], name=name, tag="injective")

    def body(*idx: E.Var) -> E.Expr:
        conds: list[E.Expr] = []
        src: list[E.Expr] = []
        for i, n, b, a in zip(idx, data.shape, before, after):
            if b == 0 and a == 0:
                src.append(i)
                continue
            if b:
                conds.append(i >= b)
            if a:
                conds.append(i < n + b)
            src.append(E.minimum(E.maximum(i - b, 0), n - 1))
        val = data[tuple(src)]
        # ``likely`` lets loop partition split off the borders: the interior then reads the
        # input with plain (vector) loads and no select
        return E.select(E.all_of(*[E.likely(c) for c in conds]), val,
                        E.as_expr(value, data.dtype))

    return T.compute(shape, body, name=name, tag="pad")
