"""Reductions over axes (sum, max, min, mean) with keepdims."""

from __future__ import annotations

from collections.abc import Sequence

from tessera.compiler.errors import CompileError
from tessera.compiler.ops.schedule_util import parallel_outer, reduce_rows
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import tensor as T
from tessera.compiler.tensor.schedule import Schedule, create_schedule


def _reduce(kind: str, x: T.Tensor, axis: int | Sequence[int] | None, keepdims: bool,
            name: str) -> T.Tensor:
    axes = list(range(x.ndim)) if axis is None else (
        [axis] if isinstance(axis, int) else list(axis))
    axes = sorted({a % x.ndim for a in axes}) if x.ndim else []
    if any(not -x.ndim <= a < x.ndim for a in ([axis] if isinstance(axis, int) else [])):
        raise CompileError(f"{kind}: axis must be in [-{x.ndim}, {x.ndim}), not {axis}")
    rvs = {a: T.reduce_axis(x.shape[a], f"r{a}") for a in axes}
    shape = tuple(1 if d in rvs else n for d, n in enumerate(x.shape) if keepdims or d not in rvs)
    if not shape:
        shape = (1,)

    def body(*i: E.Var) -> E.Expr:
        src: list[object] = []
        k = 0
        for d in range(x.ndim):
            if d in rvs:
                src.append(rvs[d])
                if keepdims:
                    k += 1
            else:
                src.append(i[k])
                k += 1
        val = x[tuple(src)]
        red = {"sum": T.sum, "mean": T.sum, "max": T.max, "min": T.min}[kind]
        return red(val, axis=list(rvs.values()))

    r = T.compute(shape, body, name=name if kind != "mean" else name + "_sum", tag="reduce")
    if kind != "mean":
        return r
    count = 1
    for a in axes:
        count *= x.shape[a]
    return T.compute(shape, lambda *i: r[i] / E.as_expr(float(count), x.dtype), name=name,
                     tag="reduce_epilogue")


def sum(x: T.Tensor, axis: int | Sequence[int] | None = None, keepdims: bool = False,  # noqa: A001
        name: str = "sum") -> T.Tensor:
    return _reduce("sum", x, axis, keepdims, name)


def max(x: T.Tensor, axis: int | Sequence[int] | None = None, keepdims: bool = False,  # noqa: A001
        name: str = "max") -> T.Tensor:
    return _reduce("max", x, axis, keepdims, name)


def min(x: T.Tensor, axis: int | Sequence[int] | None = None, keepdims: bool = False,  # noqa: A001
        name: str = "min") -> T.Tensor:
    return _reduce("min", x, axis, keepdims, name)


def mean(x: T.Tensor, axis: int | Sequence[int] | None = None, keepdims: bool = False,
         name: str = "mean") -> T.Tensor:
    if not E.is_float(x.dtype):
        raise CompileError(f"mean: input must be a float tensor, not {x.dtype}")
    return _reduce("mean", x, axis, keepdims, name)


def schedule_reduce(out: T.Tensor, sch: Schedule | None = None) -> Schedule:
    """Each reduction stage at the root, its data axes fused and run in parallel."""
    s = sch or create_schedule(out)
    for st in list(s.stages):  # rfactor adds stages
        if st.attach_type != "root":
            continue
        work = 1
        for n in st.op.shape:
            work *= n
        for r in st.op.reduce_axis:
            work *= int(r.dom.extent.value)
        if st.op.reduce_axis:
            reduce_rows(s, st, work)
        else:
            parallel_outer(st, len(st.op.axis), work)
    return s
