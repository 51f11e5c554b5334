"""Layout operators: transpose, concat (pad lives in pad.py)."""

from __future__ import annotations

from collections.abc import Sequence

from tessera.compiler.errors import CompileError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import tensor as T


def transpose(x: T.Tensor, axes: Sequence[int] | None = None, name: str = "transpose"
              ) -> T.Tensor:
    perm = list(range(x.ndim))[::-1] if axes is None else [a % x.ndim for a in axes]
    if sorted(perm) != list(range(x.ndim)):
        raise CompileError(f"transpose: axes must be a permutation of 0..{x.ndim - 1}, "
                           f"not {list(axes or [])}")
    shape = tuple(x.shape[p] for p in perm)

    def body(*i: E.Var) -> E.Expr:
        src: list[E.Expr] = [E.as_expr(0)] * x.ndim
        for out_d, p in enumerate(perm):
            src[p] = i[out_d]
        return x[tuple(src)]

    return T.compute(shape, body, name=name, tag="injective")


def concat(xs: Sequence[T.Tensor], axis: int = 0, name: str = "concat") -> T.Tensor:
    if not xs:
        raise CompileError("concat: must have at least one input, not none")
    nd = xs[0].ndim
    ax = axis % nd
    for t in xs[1:]:
        if t.ndim != nd or t.dtype != xs[0].dtype or any(
                a != b for d, (a, b) in enumerate(zip(t.shape, xs[0].shape)) if d != ax):
            raise CompileError(f"concat: input {t.name} must match {xs[0].name} outside axis "
                               f"{ax}, not {t.shape} against {xs[0].shape}")
    offsets = [0]
    for t in xs:
        offsets.append(offsets[-1] + t.shape[ax])
    shape = tuple(offsets[-1] if d == ax else n for d, n in enumerate(xs[0].shape))

    def body(*i: E.Var) -> E.Expr:
        out: E.Expr | None = None
        for k in range(len(xs) - 1, -1, -1):
            t = xs[k]
            j = E.minimum(E.maximum(i[ax] - offsets[k], 0), t.shape[ax] - 1)
            val = t[tuple(j if d == ax else v for d, v in enumerate(i))]
            out = val if out is None else E.select(i[ax] < offsets[k + 1], val, out)
        assert out is not None
        return out

    return T.compute(shape, body, name=name, tag="injective")
