"""Softmax and layer normalization over the last axes."""

from __future__ import annotations

from tessera.compiler.errors import CompileError
from tessera.compiler.ops.schedule_util import lanes, parallel_outer, reduce_rows
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import tensor as T
from tessera.compiler.tensor.schedule import Schedule, create_schedule


def _check_float(x: T.Tensor, op: str) -> None:
    if not E.is_float(x.dtype):
        raise CompileError(f"{op}: input must be a float tensor, not {x.dtype}")


def softmax(x: T.Tensor, axis: int = -1, name: str = "softmax") -> T.Tensor:
    """``exp(x - max) / sum(exp(x - max))`` along ``axis`` (the last one by default)."""
    _check_float(x, "softmax")
    ax = axis % x.ndim
    if ax != x.ndim - 1:
        raise CompileError(f"softmax: axis must be the last one ({x.ndim - 1}), not {axis}")
    n = x.shape[-1]
    outer = x.shape[:-1] or (1,)
    flat = x.ndim == 1

    def row(i: tuple[E.Var, ...], k: object) -> E.Expr:
        return x[(k,) if flat else tuple(i) + (k,)]

    k1 = T.reduce_axis(n, "k")
    mx = T.compute(outer, lambda *i: T.max(row(i, k1), axis=k1), name=name + "_max",
                   tag="softmax_max")
    e = T.compute(x.shape, lambda *i: E.exp(x[i] - mx[(0,) if flat else i[:-1]]),
                  name=name + "_exp", tag="softmax_exp")
    k2 = T.reduce_axis(n, "k")
    sm = T.compute(outer, lambda *i: T.sum(e[(k2,) if flat else tuple(i) + (k2,)], axis=k2),
                   name=name + "_sum", tag="softmax_sum")
    return T.compute(x.shape, lambda *i: e[i] / sm[(0,) if flat else i[:-1]], name=name,
                     tag="softmax")


def layer_norm(x: T.Tensor, gamma: T.Tensor, beta: T.Tensor, axis: int = -1,
               eps: float = 1e-5, name: str = "layer_norm") -> T.Tensor:
    """Normalize over the axes from ``axis`` to the last; scale by gamma, shift by beta."""
    _check_float(x, "layer_norm")
    ax = axis % x.ndim
    norm_shape = x.shape[ax:]
    if gamma.shape != norm_shape or beta.shape != norm_shape:
        raise CompileError(f"layer_norm: gamma and beta must have shape {norm_shape}, not "
                           f"{gamma.shape} and {beta.shape}")
    outer = x.shape[:ax] or (1,)
    count = 1
    for d in norm_shape:
        count *= d
    inv = 1.0 / count
    lead = ax == 0

    def key(i: tuple[E.Var, ...]) -> tuple[E.Expr, ...]:
        return (E.as_expr(0),) if lead else tuple(i[:ax])

    rs = [T.reduce_axis(d, f"k{j}") for j, d in enumerate(norm_shape)]
    def total(*i: E.Var) -> E.Expr:
        return T.sum(x[(() if lead else tuple(i)) + tuple(r.var for r in rs)], axis=rs)

    mean = T.compute(outer, total, name=name + "_sum", tag="ln_sum")
    rs2 = [T.reduce_axis(d, f"k{j}") for j, d in enumerate(norm_shape)]

    def sq(*i: E.Var) -> E.Expr:
        v = x[(() if lead else tuple(i)) + tuple(r.var for r in rs2)] - mean[i] * inv
        return T.sum(v * v, axis=rs2)

    var = T.compute(outer, sq, name=name + "_var", tag="ln_var")

    def body(*i: E.Var) -> E.Expr:
        k = key(i)
        m = mean[k] * inv
        rstd = 1.0 / E.sqrt(var[k] * inv + eps)
        return (x[i] - m) * rstd * gamma[i[ax:]] + beta[i[ax:]]

    return T.compute(x.shape, body, name=name, tag="layer_norm")


def schedule_rowwise(out: T.Tensor, sch: Schedule | None = None) -> Schedule:
    """Softmax / layer norm: reductions parallel over rows, elementwise stages vectorized."""
    s = sch or create_schedule(out)
    for st in list(s.stages):  # rfactor adds stages
        shape = st.op.shape
        rows = 1
        for d in shape[:-1]:
            rows *= d
        work = rows * shape[-1] * max(1, len(st.op.reduce_axis) and 4)
        if st.op.reduce_axis:
            if st.attach_type == "root":
                reduce_rows(s, st, work * 8)
            continue
        axes = list(st.op.axis)
        vl = lanes(st.op.dtype)
        if shape[-1] >= vl:
            _, inner = st.split(axes[-1], factor=vl)
            st.vectorize(inner)
        if len(axes) > 1:
            parallel_outer(st, len(axes) - 1, work)
    return s
