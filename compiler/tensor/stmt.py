"""The loop IR: buffers, statements and the PrimFunc that ``lower`` returns.

Statements are frozen dataclasses. Loop kinds are open strings: ``serial``, ``parallel``,
``vectorized``, ``unrolled``, plus the hooks ``vthread`` and ``thread_binding`` for later
targets. Storage scopes (``global``, ``local``, ``acc_buffer``, ...) and attribute keys
(``pragma_dma_copy``, ...) are open strings too, so target lowerings can hook them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from tessera.compiler.tensor.expr import Expr, Var

SERIAL, PARALLEL, VECTORIZED, UNROLLED = "serial", "parallel", "vectorized", "unrolled"
FOR_KINDS = (SERIAL, PARALLEL, VECTORIZED, UNROLLED, "vthread", "thread_binding")


@dataclass(frozen=True, eq=False)
class Buffer:
    """A named region of memory: dtype, static shape and storage scope."""

    name: str
    dtype: str
    shape: tuple[int, ...]
    scope: str = "global"

    @property
    def size(self) -> int:
        return math.prod(self.shape)

    def __repr__(self) -> str:
        return f"Buffer({self.name}, {self.dtype}, {self.shape}, {self.scope})"


@dataclass(frozen=True, eq=False)
class Stmt:
    def __repr__(self) -> str:
        from tessera.compiler.tensor.printer import stmt_str

        return stmt_str(self)


@dataclass(frozen=True, eq=False, repr=False)
class BufferStore(Stmt):
    buffer: Buffer
    value: Expr
    indices: tuple[Expr, ...]


@dataclass(frozen=True, eq=False, repr=False)
class For(Stmt):
    var: Var
    min: Expr
    extent: Expr
    kind: str
    body: Stmt
    annotations: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, eq=False, repr=False)
class Allocate(Stmt):
    buffer: Buffer
    body: Stmt


@dataclass(frozen=True, eq=False, repr=False)
class IfThenElse(Stmt):
    cond: Expr
    then_case: Stmt
    else_case: Stmt | None = None


@dataclass(frozen=True, eq=False, repr=False)
class LetStmt(Stmt):
    var: Var
    value: Expr
    body: Stmt


@dataclass(frozen=True, eq=False, repr=False)
class Evaluate(Stmt):
    value: Expr


@dataclass(frozen=True, eq=False, repr=False)
class SeqStmt(Stmt):
    stmts: tuple[Stmt, ...]


@dataclass(frozen=True, eq=False, repr=False)
class AttrStmt(Stmt):
    """An annotation over ``body``: pragmas (``pragma_<name>``), tensorize hooks, scopes."""

    key: str
    value: str
    body: Stmt


def seq(*stmts: Stmt | None) -> Stmt:
    flat: list[Stmt] = []
    for s in stmts:
        if s is None:
            continue
        if isinstance(s, SeqStmt):
            flat.extend(s.stmts)
        else:
            flat.append(s)
    if len(flat) == 1:
        return flat[0]
    return SeqStmt(tuple(flat))


@dataclass(frozen=True, eq=False)
class PrimFunc:
    """A lowered kernel: parameters (buffers in call order) and a body."""

    name: str
    params: tuple[Buffer, ...]
    body: Stmt
    attrs: dict[str, str] = field(default_factory=dict)

    def __repr__(self) -> str:
        from tessera.compiler.tensor.printer import func_str

        return func_str(self)

    def script(self) -> str:
        from tessera.compiler.tensor.printer import func_str

        return func_str(self)
