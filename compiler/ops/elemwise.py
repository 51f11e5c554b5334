"""Elementwise and broadcast operators (numpy broadcasting rules)."""

from __future__ import annotations

from collections.abc import Callable

from tessera.compiler.errors import CompileError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import tensor as T


def broadcast_shape(a: tuple[int, ...], b: tuple[int, ...], op: str) -> tuple[int, ...]:
    out = []
    for k in range(max(len(a), len(b))):
        x = a[len(a) - 1 - k] if k < len(a) else 1
        y = b[len(b) - 1 - k] if k < len(b) else 1
        if x != y and 1 not in (x, y):
            raise CompileError(f"{op}: shapes {a} and {b} must be broadcastable, not "
                               f"{x} against {y} in dimension -{k + 1}")
        out.append(max(x, y))
    return tuple(reversed(out))


def _index(t: T.Tensor, idx: tuple[E.Var, ...]) -> E.Expr:
    off = len(idx) - t.ndim
    return t[tuple(E.as_expr(0) if n == 1 else idx[off + d] for d, n in enumerate(t.shape))]


def _binary(op: str, fn: Callable[[E.Expr, E.Expr], E.Expr]) -> Callable[..., T.Tensor]:
    def make(a: T.Tensor, b: T.Tensor, name: str = op) -> T.Tensor:
        if a.dtype != b.dtype:
            raise CompileError(f"{op}: operands must have the same dtype, not {a.dtype} and "
                               f"{b.dtype}")
        shape = broadcast_shape(a.shape, b.shape, op)
        tag = "elemwise" if a.shape == b.shape else "broadcast"
        return T.compute(shape, lambda *i: fn(_index(a, i), _index(b, i)), name=name, tag=tag)

    make.__name__ = op
    make.__doc__ = f"Elementwise ``{op}`` with numpy broadcasting."
    return make


add = _binary("add", lambda x, y: x + y)
subtract = _binary("subtract", lambda x, y: x - y)
multiply = _binary("multiply", lambda x, y: x * y)
divide = _binary("divide", lambda x, y: x / y)
maximum = _binary("maximum", E.maximum)
minimum = _binary("minimum", E.minimum)


def _unary(op: str, fn: Callable[[E.Expr], E.Expr], floats_only: bool = True
           ) -> Callable[..., T.Tensor]:
    def make(x: T.Tensor, name: str = op) -> T.Tensor:
        if floats_only and not E.is_float(x.dtype):
            raise CompileError(f"{op}: input must be a float tensor, not {x.dtype}")
        return T.compute(x.shape, lambda *i: fn(x[i]), name=name, tag="elemwise")

    make.__name__ = op
    make.__doc__ = f"Elementwise ``{op}``."
    return make


exp = _unary("exp", E.exp)
log = _unary("log", E.log)
sqrt = _unary("sqrt", E.sqrt)
tanh = _unary("tanh", E.tanh)
erf = _unary("erf", E.erf)
sigmoid = _unary("sigmoid", E.sigmoid)
relu = _unary("relu", lambda v: E.maximum(v, E.as_expr(0, v.dtype)), floats_only=False)
negative = _unary("negative", lambda v: -v, floats_only=False)
abs = _unary("abs", lambda v: E.select(v < E.as_expr(0, v.dtype), -v, v),  # noqa: A001
             floats_only=False)


def gelu(x: T.Tensor, name: str = "gelu") -> T.Tensor:
    """``x * (1 + erf(x / sqrt(2))) / 2``."""
    return T.compute(x.shape, lambda *i: x[i] * (E.erf(x[i] * 0.7071067811865476) + 1.0) * 0.5,
                     name=name, tag="elemwise")


def cast(x: T.Tensor, dtype: str, name: str = "cast") -> T.Tensor:
    return T.compute(x.shape, lambda *i: E.cast(dtype, x[i]), name=name, tag="elemwise")


def clip(x: T.Tensor, lo: float, hi: float, name: str = "clip") -> T.Tensor:
    return T.compute(x.shape, lambda *i: E.minimum(E.maximum(x[i], E.as_expr(lo, x.dtype)),
                                                   E.as_expr(hi, x.dtype)),
                     name=name, tag="elemwise")
