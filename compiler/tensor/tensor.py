"""Tensor expressions: placeholder, compute, reduce_axis and the sum/max/min reductions.

    A = te.placeholder((M, K), "float32", name="A")
    k = te.reduce_axis(K, name="k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tessera.compiler.errors import CompileError
from tessera.compiler.tensor.expr import (
    Const,
    Expr,
    ExprLike,
    Reduce,
    TensorRead,
    Var,
    as_expr,
    check_dtype,
    max_value,
    min_value,
)

# IterVar kinds. "vthread" and "thread" are hooks for virtual threads and GPU binding.
DATA_PAR, REDUCE, VTHREAD, THREAD = "data_par", "reduce", "vthread", "thread"


@dataclass(frozen=True)
class Range:
    min: Expr
    extent: Expr

    @staticmethod
    def of(extent: ExprLike, lo: ExprLike = 0) -> Range:
        return Range(as_expr(lo), as_expr(extent))


@dataclass(frozen=True, eq=False)
class IterVar:
    """A loop axis: its variable, domain and kind (data_par, reduce, vthread, thread)."""

    var: Var
    dom: Range
    kind: str = DATA_PAR
    thread_tag: str = ""

    @property
    def name(self) -> str:
        return self.var.name

    def __repr__(self) -> str:
        return f"IterVar({self.var.name}, {self.kind})"

    def __add__(self, o: ExprLike) -> Expr:
        return self.var + o

    def __radd__(self, o: ExprLike) -> Expr:
        return o + self.var

    def __sub__(self, o: ExprLike) -> Expr:
        return self.var - o

    def __rsub__(self, o: ExprLike) -> Expr:
        return o - self.var

    def __mul__(self, o: ExprLike) -> Expr:
        return self.var * o

    def __rmul__(self, o: ExprLike) -> Expr:
        return o * self.var


def _int_extent(x: ExprLike, where: str) -> int:
    e = as_expr(x)
    if not isinstance(e, Const) or not isinstance(e.value, int) or isinstance(e.value, bool):
        raise CompileError(f"{where}: extent must be a constant int, not {e!r}")
    if e.value < 1:
        raise CompileError(f"{where}: extent must be >= 1, not {e.value}")
    return int(e.value)


def reduce_axis(dom: ExprLike | tuple[ExprLike, ExprLike], name: str = "rv") -> IterVar:
    """A reduction axis over ``range(dom)`` or ``range(lo, hi)`` for a pair."""
    if isinstance(dom, tuple):
        lo, hi = as_expr(dom[0]), as_expr(dom[1])
        return IterVar(Var("int32", name), Range(lo, as_expr(hi - lo)), REDUCE)
    _int_extent(dom, f"reduce_axis {name}")
    return IterVar(Var("int32", name), Range.of(dom), REDUCE)


def thread_axis(tag: str, extent: int | None = None) -> IterVar:
    """A hook for GPU thread binding and virtual threads: ``thread_axis("vthread")``."""
    kind = VTHREAD if tag == "vthread" else THREAD
    dom = Range.of(extent) if extent is not None else Range.of(1)
    return IterVar(Var("int32", tag.replace(".", "_")), dom, kind, tag)


@dataclass(frozen=True, eq=False)
class Operation:
    name: str


@dataclass(frozen=True, eq=False)
class PlaceholderOp(Operation):
    shape: tuple[int, ...]
    dtype: str


@dataclass(frozen=True, eq=False)
class ComputeOp(Operation):
    axis: tuple[IterVar, ...]
    body: Expr
    tag: str = ""
    attrs: dict[str, object] = field(default_factory=dict)

    @property
    def reduce_axis(self) -> tuple[IterVar, ...]:
        return self.body.axis if isinstance(self.body, Reduce) else ()

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(int(iv.dom.extent.value) for iv in self.axis)

    @property
    def dtype(self) -> str:
        return self.body.dtype


@dataclass(frozen=True, eq=False)
class Tensor:
    """The single output of an operation; index it to read: ``A[i, j]``."""

    op: Operation

    @property
    def shape(self) -> tuple[int, ...]:
        return self.op.shape  # type: ignore[attr-defined]

    @property
    def dtype(self) -> str:
        return self.op.dtype  # type: ignore[attr-defined]

    @property
    def name(self) -> str:
        return self.op.name

    @property
    def ndim(self) -> int:
        return len(self.shape)

    def __getitem__(self, idx: ExprLike | Sequence[ExprLike]) -> Expr:
        items = tuple(idx) if isinstance(idx, (tuple, list)) else (idx,)
        if len(items) != self.ndim:
            raise CompileError(
                f"tensor {self.name}: index must have {self.ndim} dimensions, not {len(items)}"
            )
        return TensorRead(self.dtype, self, tuple(as_expr(i, "int32") for i in items))

    def __repr__(self) -> str:
        return f"Tensor({self.name}, {self.shape}, {self.dtype})"


def placeholder(shape: Sequence[int], dtype: str = "float32", name: str = "placeholder") -> Tensor:
    """An input tensor of a static shape."""
    check_dtype(dtype, f"placeholder {name}")
    dims = tuple(_int_extent(s, f"placeholder {name}") for s in shape)
    return Tensor(PlaceholderOp(name, dims, dtype))


def compute(
    shape: Sequence[int], fcompute: Callable[..., ExprLike], name: str = "compute",
    tag: str = "", attrs: dict[str, object] | None = None,
) -> Tensor:
    """A tensor whose element at ``idx`` is ``fcompute(*idx)``."""
    dims = tuple(_int_extent(s, f"compute {name}") for s in shape)
    nargs = len(inspect.signature(fcompute).parameters)
    params = list(inspect.signature(fcompute).parameters.values())
    varargs = any(p.kind == p.VAR_POSITIONAL for p in params)
    if not varargs and nargs != len(dims):
        raise CompileError(
            f"compute {name}: fcompute must take {len(dims)} index arguments, not {nargs}"
        )
    names = [p.name for p in params] if not varargs else [f"i{d}" for d in range(len(dims))]
    axis = tuple(IterVar(Var("int32", names[d]), Range.of(n)) for d, n in enumerate(dims))
    body = as_expr(fcompute(*[iv.var for iv in axis]))
    _check_reduce_at_top(body, name)
    check_dtype(body.dtype, f"compute {name}")
    return Tensor(ComputeOp(name, axis, body, tag, dict(attrs or {})))


def _check_reduce_at_top(body: Expr, name: str) -> None:
    from tessera.compiler.tensor.functor import walk

    inner = body.source if isinstance(body, Reduce) else body
    for n in walk(inner):
        if isinstance(n, Reduce):
            raise CompileError(
                f"compute {name}: a reduction must be the whole body, not nested in an expression"
            )


def _reduce(combiner: str, expr: ExprLike, axis: IterVar | Sequence[IterVar],
            where: Expr | None) -> Expr:
    axes = (axis,) if isinstance(axis, IterVar) else tuple(axis)
    for a in axes:
        if a.kind != REDUCE:
            raise CompileError(f"{combiner}: axis {a.name} must be a reduce_axis, not {a.kind}")
    e = as_expr(expr)
    return Reduce(e.dtype, combiner, e, axes, where)


def sum(expr: ExprLike, axis: IterVar | Sequence[IterVar], where: Expr | None = None) -> Expr:  # noqa: A001
    return _reduce("sum", expr, axis, where)


def max(expr: ExprLike, axis: IterVar | Sequence[IterVar], where: Expr | None = None) -> Expr:  # noqa: A001
    return _reduce("max", expr, axis, where)


def min(expr: ExprLike, axis: IterVar | Sequence[IterVar], where: Expr | None = None) -> Expr:  # noqa: A001
    return _reduce("min", expr, axis, where)


def reduce_identity(combiner: str, dtype: str) -> Const:
    if combiner == "sum":
        return Const(dtype, 0.0 if dtype.startswith("float") else 0)
    if combiner == "max":
        return min_value(dtype)
    return max_value(dtype)
