"""Readable text for expressions, statements and PrimFuncs (also the structural hash key)."""

from __future__ import annotations

from typing import Any

from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S

_PREC = {"min": 0, "max": 0, "or": 1, "and": 2, "<": 3, "<=": 3, ">": 3, ">=": 3, "==": 3,
         "!=": 3, "+": 4, "-": 4, "*": 5, "/": 5, "//": 5, "%": 5}


def _const(c: E.Const) -> str:
    if c.dtype == "bool":
        return "True" if c.value else "False"
    if E.is_float(c.dtype):
        v = repr(float(c.value))
        return v if c.dtype == "float32" else f"{c.dtype}({v})"
    return str(c.value) if c.dtype == "int32" else f"{c.dtype}({c.value})"


def expr_str(e: Any) -> str:
    return _expr(e, 0)


_UID = False


def expr_key(e: Any) -> str:
    """Structural text where each variable is also told apart by identity (for arith)."""
    global _UID
    _UID = True
    try:
        return _expr(e, 0)
    finally:
        _UID = False


def _expr(e: Any, prec: int) -> str:
    if isinstance(e, E.Var):
        return f"{e.name}@{id(e):x}" if _UID else e.name
    if isinstance(e, E.Const):
        return _const(e)
    if isinstance(e, (E.Binary, E.Cmp)) or (isinstance(e, E.Logic) and e.op != "not"):
        if e.op in ("min", "max"):
            return f"{e.op}({_expr(e.a, 0)}, {_expr(e.b, 0)})"
        p = _PREC[e.op]
        text = f"{_expr(e.a, p)} {e.op} {_expr(e.b, p + 1)}"
        return f"({text})" if p < prec else text
    if isinstance(e, E.Logic):
        return f"not {_expr(e.a, 6)}"
    if isinstance(e, E.Select):
        return f"select({_expr(e.cond, 0)}, {_expr(e.t, 0)}, {_expr(e.f, 0)})"
    if isinstance(e, E.Cast):
        return f"{e.dtype}({_expr(e.value, 0)})"
    if isinstance(e, E.Call):
        return f"{e.name}({', '.join(_expr(a, 0) for a in e.args)})"
    if isinstance(e, E.TensorRead):
        return f"{e.tensor.name}[{', '.join(_expr(i, 0) for i in e.indices)}]"
    if isinstance(e, E.BufferLoad):
        return f"{e.buffer.name}[{', '.join(_expr(i, 0) for i in e.indices)}]"
    if isinstance(e, E.Reduce):
        axes = ", ".join(a.name for a in e.axis)
        cond = f", where={_expr(e.condition, 0)}" if e.condition is not None else ""
        return f"{e.combiner}({_expr(e.source, 0)}, axis=[{axes}]{cond})"
    if isinstance(e, E.Ramp):
        return f"ramp({_expr(e.base, 0)}, {_expr(e.stride, 0)}, {e.lanes})"
    if isinstance(e, E.Broadcast):
        return f"x{e.lanes}({_expr(e.value, 0)})"
    return f"<{type(e).__name__}>"


def stmt_str(s: S.Stmt, indent: int = 0) -> str:
    out: list[str] = []
    _stmt(s, indent, out)
    return "\n".join(out)


def _stmt(s: S.Stmt, ind: int, out: list[str]) -> None:
    pad = "  " * ind
    if isinstance(s, S.SeqStmt):
        for x in s.stmts:
            _stmt(x, ind, out)
    elif isinstance(s, S.For):
        ann = "".join(f" {k}={v}" for k, v in s.annotations)
        rng = f"{expr_str(s.extent)}" if _is_zero(s.min) else f"{expr_str(s.min)}, " \
            f"{expr_str(s.min)} + {expr_str(s.extent)}"
        out.append(f"{pad}for {s.var.name} in range({rng}):  # {s.kind}{ann}")
        _stmt(s.body, ind + 1, out)
    elif isinstance(s, S.BufferStore):
        idx = ", ".join(expr_str(i) for i in s.indices)
        out.append(f"{pad}{s.buffer.name}[{idx}] = {expr_str(s.value)}")
    elif isinstance(s, S.Allocate):
        b = s.buffer
        out.append(f"{pad}{b.name} = allocate({b.dtype}, {list(b.shape)}, scope={b.scope!r})")
        _stmt(s.body, ind, out)
    elif isinstance(s, S.IfThenElse):
        out.append(f"{pad}if {expr_str(s.cond)}:")
        _stmt(s.then_case, ind + 1, out)
        if s.else_case is not None:
            out.append(f"{pad}else:")
            _stmt(s.else_case, ind + 1, out)
    elif isinstance(s, S.LetStmt):
        out.append(f"{pad}{s.var.name} = {expr_str(s.value)}")
        _stmt(s.body, ind, out)
    elif isinstance(s, S.Evaluate):
        out.append(f"{pad}{expr_str(s.value)}")
    elif isinstance(s, S.AttrStmt):
        out.append(f"{pad}with attr({s.key!r}, {s.value!r}):")
        _stmt(s.body, ind + 1, out)
    elif hasattr(s, "script_line"):  # a target's statement prints itself
        out.append(f"{pad}{s.script_line()}")
    else:
        out.append(f"{pad}<{type(s).__name__}>")


def _is_zero(e: E.Expr) -> bool:
    return isinstance(e, E.Const) and e.value == 0


def func_str(f: S.PrimFunc) -> str:
    params = ", ".join(f"{b.name}: {b.dtype}{list(b.shape)}" for b in f.params)
    return f"def {f.name}({params}):\n{stmt_str(f.body, 1)}"
