"""The loop-IR verifier: run after every pass in tests; raises InternalError on a violation."""

from __future__ import annotations

from typing import Any

from tessera.compiler.errors import InternalError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.functor import children


def verify(func: S.PrimFunc | S.Stmt, params: tuple[S.Buffer, ...] = ()) -> None:
    """Check scoping of variables and buffers, index arity and dtypes."""
    if isinstance(func, S.PrimFunc):
        params, body, where = func.params, func.body, func.name
    else:
        body, where = func, "stmt"
    _Verifier(where).check(body, set(), set(params))


class _Verifier:
    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, msg: str) -> None:
        raise InternalError(f"verify {self.where}: {msg}")

    def check(self, n: Any, scope: set[E.Var], bufs: set[S.Buffer]) -> None:
        if isinstance(n, E.Expr):
            self.expr(n, scope, bufs)
            return
        if isinstance(n, S.For):
            if n.kind not in S.FOR_KINDS:
                self.fail(f"loop {n.var.name}: kind must be one of {S.FOR_KINDS}, not {n.kind!r}")
            if n.var in scope:
                self.fail(f"loop {n.var.name}: variable must not be bound twice in one scope")
            self.expr(n.min, scope, bufs)
            self.expr(n.extent, scope, bufs)
            self.check(n.body, scope | {n.var}, bufs)
            return
        if isinstance(n, S.LetStmt):
            self.expr(n.value, scope, bufs)
            self.check(n.body, scope | {n.var}, bufs)
            return
        if isinstance(n, S.Allocate):
            if n.buffer in bufs:
                self.fail(f"buffer {n.buffer.name} must be allocated once, not twice")
            self.check(n.body, scope, bufs | {n.buffer})
            return
        if isinstance(n, S.BufferStore):
            self.access(n.buffer, n.indices, bufs)
            if E.scalar_of(n.value.dtype) != n.buffer.dtype:
                self.fail(f"store to {n.buffer.name}: value dtype must be {n.buffer.dtype}, "
                          f"not {n.value.dtype}")
            lanes = {E.lanes_of(n.value.dtype)} | {E.lanes_of(i.dtype) for i in n.indices}
            if len(lanes) != 1:
                self.fail(f"store to {n.buffer.name}: value and index lanes must agree, not "
                          f"{sorted(lanes)}")
        if isinstance(n, S.IfThenElse) and E.scalar_of(n.cond.dtype) != "bool":
            self.fail(f"if condition must be bool, not {n.cond.dtype}")
        for c in children(n):
            self.check(c, scope, bufs)

    def access(self, buf: S.Buffer, idx: tuple[E.Expr, ...], bufs: set[S.Buffer]) -> None:
        if buf not in bufs:
            self.fail(f"buffer {buf.name} must be a parameter or allocated in scope, not unknown")
        if len(idx) != len(buf.shape):
            self.fail(f"access to {buf.name}: must have {len(buf.shape)} indices, not {len(idx)}")
        for i in idx:
            if E.scalar_of(i.dtype) not in ("int32", "int64"):
                self.fail(f"access to {buf.name}: index dtype must be int32, not {i.dtype}")

    def expr(self, e: E.Expr, scope: set[E.Var], bufs: set[S.Buffer]) -> None:
        stack = [e]
        while stack:
            n = stack.pop()
            if isinstance(n, E.Var) and n not in scope:
                self.fail(f"variable {n.name} must be bound by an enclosing loop or let, not free")
            if isinstance(n, (E.TensorRead, E.Reduce)):
                self.fail(f"{type(n).__name__} must be lowered away, not left in the loop IR")
            if isinstance(n, E.BufferLoad):
                self.access(n.buffer, n.indices, bufs)
                if E.scalar_of(n.dtype) != n.buffer.dtype:
                    self.fail(f"load from {n.buffer.name}: dtype must be {n.buffer.dtype}, "
                              f"not {n.dtype}")
            if isinstance(n, E.Binary) and not (n.a.dtype == n.b.dtype == n.dtype):
                self.fail(f"binary {n.op}: operand dtypes must equal the result {n.dtype}, not "
                          f"{n.a.dtype} and {n.b.dtype}")
            if isinstance(n, E.Cmp) and n.a.dtype != n.b.dtype:
                self.fail(f"comparison {n.op}: operand dtypes must agree, not {n.a.dtype} and "
                          f"{n.b.dtype}")
            stack.extend(children(n))
