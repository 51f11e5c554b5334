"""Storage flattening: multi-dimensional buffer accesses become 1-D (row-major offsets).

Works on a PrimFunc (the parameters are flattened too); buffers keep their names and scopes.
"""

from __future__ import annotations

from typing import Any

from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.functor import map_children


def flat_index(buf: S.Buffer, indices: tuple[E.Expr, ...]) -> E.Expr:
    out: E.Expr | None = None
    for dim, idx in zip(buf.shape, indices):
        out = idx if out is None else E.Binary(
            "int32", "+", E.Binary("int32", "*", out, E.Const("int32", dim)), idx)
    return out if out is not None else E.Const("int32", 0)


def storage_flatten(func: S.PrimFunc) -> S.PrimFunc:
    """Rewrite every access ``B[i, j]`` to ``B[i * n + j]`` on a 1-D buffer of the same name."""
    flat: dict[S.Buffer, S.Buffer] = {}
    done: set[S.Buffer] = set()

    def fb(b: S.Buffer) -> S.Buffer:
        if b in done:
            return b
        if b not in flat:
            flat[b] = S.Buffer(b.name, b.dtype, (b.size,), b.scope)
            done.add(flat[b])
        return flat[b]

    def go(n: Any) -> Any:
        m = map_children(n, go)
        if isinstance(m, E.BufferLoad) and m.buffer not in done:
            return E.BufferLoad(m.dtype, fb(m.buffer), (flat_index(m.buffer, m.indices),))
        if isinstance(m, S.BufferStore) and m.buffer not in done:
            return S.BufferStore(fb(m.buffer), m.value, (flat_index(m.buffer, m.indices),))
        if isinstance(m, S.Allocate) and m.buffer not in done:
            return S.Allocate(fb(m.buffer), m.body)
        return m

    params = tuple(fb(p) for p in func.params)
    return S.PrimFunc(func.name, params, go(func.body), dict(func.attrs))
