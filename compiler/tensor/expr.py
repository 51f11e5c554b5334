"""Scalar and vector expressions shared by tensor expressions and the loop IR.

Every node is a frozen dataclass compared by identity (``eq=False``) so that variables can key
dictionaries; :func:`tessera.compiler.tensor.printer.expr_str` gives the structural text.
Dtypes are strings: ``float32``, ``float64``, ``int8``, ``uint8``, ``int16``, ``int32``,
``int64``, ``bool``; a vector of ``n`` lanes is written ``float32x16``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Union

from tessera.compiler.errors import CompileError

if TYPE_CHECKING:
    from tessera.compiler.tensor.stmt import Buffer
    from tessera.compiler.tensor.tensor import IterVar, Tensor

SCALAR_DTYPES = ("float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool")
MATH_INTRINSICS = ("exp", "log", "sqrt", "tanh", "erf", "sigmoid", "fabs", "floor", "ceil")


def lanes_of(dtype: str) -> int:
    return int(dtype.split("x")[1]) if "x" in dtype else 1


def scalar_of(dtype: str) -> str:
    return dtype.split("x")[0]


def with_lanes(dtype: str, lanes: int) -> str:
    base = scalar_of(dtype)
    return base if lanes == 1 else f"{base}x{lanes}"


def is_float(dtype: str) -> bool:
    return scalar_of(dtype).startswith("float")


def is_int(dtype: str) -> bool:
    return scalar_of(dtype) in ("int8", "uint8", "int16", "int32", "int64")


def check_dtype(dtype: str, where: str) -> str:
    if dtype not in SCALAR_DTYPES:
        raise CompileError(
            f"{where}: dtype must be one of {', '.join(SCALAR_DTYPES)}, not {dtype!r}")
    return dtype


ExprLike = Union["Expr", int, float, bool]


def const(value: int | float | bool, dtype: str | None = None) -> Const:
    if dtype is None:
        if isinstance(value, bool):
            dtype = "bool"
        elif isinstance(value, int):
            dtype = "int32"
        else:
            dtype = "float32"
    return Const(dtype, value)


def as_expr(value: ExprLike, like: str | None = None) -> Expr:
    if isinstance(value, Expr):
        return value
    if isinstance(value, bool):
        return Const("bool", value)
    if isinstance(value, (int, float)):
        if like is not None and (is_float(like) or isinstance(value, int)):
            return Const(scalar_of(like), float(value) if is_float(like) else int(value))
        return const(value)
    var = getattr(value, "var", None)
    if isinstance(var, Expr):  # an IterVar
        return var
    if hasattr(value, "dtype") and hasattr(value, "item"):  # numpy scalar
        return Const(str(value.dtype), value.item())
    raise CompileError(
        f"expression operand must be an Expr or a number, not {type(value).__name__}")


def _pair(a: ExprLike, b: ExprLike) -> tuple[Expr, Expr]:
    a = a.var if isinstance(getattr(a, "var", None), Expr) else a  # type: ignore[union-attr]
    b = b.var if isinstance(getattr(b, "var", None), Expr) else b  # type: ignore[union-attr]
    if isinstance(a, Expr) and not isinstance(b, Expr):
        return a, as_expr(b, a.dtype)
    if isinstance(b, Expr) and not isinstance(a, Expr):
        return as_expr(a, b.dtype), b
    ea, eb = as_expr(a), as_expr(b)
    if ea.dtype != eb.dtype:
        raise CompileError(
            f"operands of a binary expression must have the same dtype, not {ea.dtype} and "
            f"{eb.dtype} (use te.cast)"
        )
    return ea, eb


@dataclass(frozen=True, eq=False)
class Expr:
    dtype: str

    # arithmetic -----------------------------------------------------------------------
    def __add__(self, o: ExprLike) -> Expr:
        return binary("+", self, o)

    def __radd__(self, o: ExprLike) -> Expr:
        return binary("+", o, self)

    def __sub__(self, o: ExprLike) -> Expr:
        return binary("-", self, o)

    def __rsub__(self, o: ExprLike) -> Expr:
        return binary("-", o, self)

    def __mul__(self, o: ExprLike) -> Expr:
        return binary("*", self, o)

    def __rmul__(self, o: ExprLike) -> Expr:
        return binary("*", o, self)

    def __truediv__(self, o: ExprLike) -> Expr:
        return binary("/", self, o)

    def __rtruediv__(self, o: ExprLike) -> Expr:
        return binary("/", o, self)

    def __floordiv__(self, o: ExprLike) -> Expr:
        return binary("//", self, o)

    def __rfloordiv__(self, o: ExprLike) -> Expr:
        return binary("//", o, self)

    def __mod__(self, o: ExprLike) -> Expr:
        return binary("%", self, o)

    def __rmod__(self, o: ExprLike) -> Expr:
        return binary("%", o, self)

    def __neg__(self) -> Expr:
        return binary("-", as_expr(0, self.dtype), self)

    # comparisons (``==`` stays identity; use te.equal / te.not_equal) --------------------
    def __lt__(self, o: ExprLike) -> Expr:
        return cmp("<", self, o)

    def __le__(self, o: ExprLike) -> Expr:
        return cmp("<=", self, o)

    def __gt__(self, o: ExprLike) -> Expr:
        return cmp(">", self, o)

    def __ge__(self, o: ExprLike) -> Expr:
        return cmp(">=", self, o)

    def __bool__(self) -> bool:
        raise CompileError("an expression has no truth value; use te.all / te.any / te.select")

    def astype(self, dtype: str) -> Expr:
        return cast(dtype, self)

    def __repr__(self) -> str:
        from tessera.compiler.tensor.printer import expr_str

        return expr_str(self)


@dataclass(frozen=True, eq=False, repr=False)
class Var(Expr):
    name: str


@dataclass(frozen=True, eq=False, repr=False)
class Const(Expr):
    value: Any


@dataclass(frozen=True, eq=False, repr=False)
class Binary(Expr):
    op: str  # + - * / // % min max
    a: Expr
    b: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Cmp(Expr):
    op: str  # < <= > >= == !=
    a: Expr
    b: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Logic(Expr):
    op: str  # and or not (not ignores b)
    a: Expr
    b: Expr | None


@dataclass(frozen=True, eq=False, repr=False)
class Select(Expr):
    cond: Expr
    t: Expr
    f: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Cast(Expr):
    value: Expr


@dataclass(frozen=True, eq=False, repr=False)
class Call(Expr):
    """A math intrinsic (``exp``, ``log``, ...) or ``likely`` (a hint for loop partition)."""

    name: str
    args: tuple[Expr, ...]


@dataclass(frozen=True, eq=False, repr=False)
class TensorRead(Expr):
    """``tensor[indices]`` in a tensor expression (becomes a BufferLoad when lowered)."""

    tensor: Tensor
    indices: tuple[Expr, ...]


@dataclass(frozen=True, eq=False, repr=False)
class Reduce(Expr):
    """A commutative reduction (``sum``, ``max``, ``min``) of ``source`` over ``axis``."""

    combiner: str
    source: Expr
    axis: tuple[IterVar, ...]
    condition: Expr | None


@dataclass(frozen=True, eq=False, repr=False)
class BufferLoad(Expr):
    buffer: Buffer
    indices: tuple[Expr, ...]


@dataclass(frozen=True, eq=False, repr=False)
class Ramp(Expr):
    base: Expr
    stride: Expr
    lanes: int


@dataclass(frozen=True, eq=False, repr=False)
class Broadcast(Expr):
    value: Expr
    lanes: int


# constructors ---------------------------------------------------------------------------


def binary(op: str, a: ExprLike, b: ExprLike) -> Expr:
    ea, eb = _pair(a, b)
    if op in ("//", "%") and is_float(ea.dtype):
        raise CompileError(f"operator {op} must have integer operands, not {ea.dtype}")
    if op == "/" and is_int(ea.dtype):
        op = "//"
    return Binary(ea.dtype, op, ea, eb)


def cmp(op: str, a: ExprLike, b: ExprLike) -> Expr:
    ea, eb = _pair(a, b)
    return Cmp(with_lanes("bool", lanes_of(ea.dtype)), op, ea, eb)


def equal(a: ExprLike, b: ExprLike) -> Expr:
    return cmp("==", a, b)


def not_equal(a: ExprLike, b: ExprLike) -> Expr:
    return cmp("!=", a, b)


def minimum(a: ExprLike, b: ExprLike) -> Expr:
    return binary("min", a, b)


def maximum(a: ExprLike, b: ExprLike) -> Expr:
    return binary("max", a, b)


def all_of(*conds: Expr) -> Expr:
    out = conds[0]
    for c in conds[1:]:
        out = Logic(out.dtype, "and", out, c)
    return out


def any_of(*conds: Expr) -> Expr:
    out = conds[0]
    for c in conds[1:]:
        out = Logic(out.dtype, "or", out, c)
    return out


def logical_not(c: Expr) -> Expr:
    return Logic(c.dtype, "not", c, None)


def select(cond: Expr, t: ExprLike, f: ExprLike) -> Expr:
    et, ef = _pair(t, f)
    if scalar_of(cond.dtype) != "bool":
        raise CompileError(f"select condition must be bool, not {cond.dtype}")
    return Select(et.dtype, cond, et, ef)


def cast(dtype: str, value: ExprLike) -> Expr:
    check_dtype(dtype, "cast")
    e = as_expr(value)
    if e.dtype == dtype:
        return e
    return Cast(with_lanes(dtype, lanes_of(e.dtype)), e)


def call(name: str, *args: ExprLike) -> Expr:
    if name not in MATH_INTRINSICS:
        raise CompileError(f"intrinsic must be one of {', '.join(MATH_INTRINSICS)}, not {name!r}")
    eargs = tuple(as_expr(a, "float32") for a in args)
    if not is_float(eargs[0].dtype):
        raise CompileError(f"{name}: operand must be a float, not {eargs[0].dtype}")
    return Call(eargs[0].dtype, name, eargs)


def likely(cond: Expr) -> Expr:
    return Call(cond.dtype, "likely", (cond,))


def exp(x: ExprLike) -> Expr:
    return call("exp", x)


def log(x: ExprLike) -> Expr:
    return call("log", x)


def sqrt(x: ExprLike) -> Expr:
    return call("sqrt", x)


def tanh(x: ExprLike) -> Expr:
    return call("tanh", x)


def erf(x: ExprLike) -> Expr:
    return call("erf", x)


def sigmoid(x: ExprLike) -> Expr:
    return call("sigmoid", x)


def fabs(x: ExprLike) -> Expr:
    return call("fabs", x)


def min_value(dtype: str) -> Const:
    import numpy as np

    if is_float(dtype):
        return Const(dtype, float("-inf"))
    return Const(dtype, int(np.iinfo(dtype).min))


def max_value(dtype: str) -> Const:
    import numpy as np

    if is_float(dtype):
        return Const(dtype, float("inf"))
    return Const(dtype, int(np.iinfo(dtype).max))
