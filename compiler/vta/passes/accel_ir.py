"""The accelerator statement of the loop IR and the arithmetic the passes share.

An ``AccelStmt`` holds one ``program`` operation. Until ``inject_virtual_threads`` places the
on-chip buffers, its on-chip indices are relative to the buffers in ``bufs`` (Load/Store:
``(sram,)``; Gemm: ``(dst, src, wgt)``; Alu: ``(dst, src or None)``); placed, they are
absolute and ``bufs`` is empty.

On-chip entries: the four outer dimensions of a buffer (its last two are the block's lanes),
row-major, except ``acc_buffer``, laid out ``[oc][n][y][x]`` so an output-channel block of a
tile is contiguous (the epilogue's bias add walks it with one loop level).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

from tessera.compiler.errors import InternalError, UnsupportedError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.arith import IntRange
from tessera.compiler.tensor.functor import map_children
from tessera.compiler.tensor.passes.simplify import simplify_expr
from tessera.compiler.vta.program import Alu, Gemm, Load, Op, Store
from tessera.hw import isa as I

SCOPE_OF_MEM = {I.MemType.INP: "inp_buffer", I.MemType.WGT: "wgt_buffer",
                I.MemType.ACC: "acc_buffer"}
MEM_OF_SCOPE = {v: k for k, v in SCOPE_OF_MEM.items()}


@dataclass(frozen=True, eq=False, repr=False)
class AccelStmt(S.Stmt):
    """One accelerator operation (see the module docstring for ``bufs``)."""

    op: Op
    bufs: tuple[S.Buffer | None, ...] = ()

    def script_line(self) -> str:
        names = ", ".join(b.name if b is not None else "-" for b in self.bufs)
        return f"vta.{type(self.op).__name__.lower()}{f'[{names}]' if names else ''} {self.op}"


def on_chip(buf: S.Buffer) -> bool:
    return buf.scope != "global"


def entry_dims(buf: S.Buffer) -> list[int]:
    """Buffer dimensions in entry order (outermost first)."""
    n = len(buf.shape) - 2
    order = list(range(n))
    if buf.scope == "acc_buffer" and n == 4:
        order = [1, 0, 2, 3]
    return order


def entry_strides(buf: S.Buffer) -> dict[int, int]:
    """Entry stride of each outer dimension of ``buf``."""
    out: dict[int, int] = {}
    step = 1
    for d in reversed(entry_dims(buf)):
        out[d] = step
        step *= buf.shape[d]
    return out


def entries(buf: S.Buffer) -> int:
    return math.prod(buf.shape[:-2])


def entry_of(buf: S.Buffer, idx: tuple[int, ...]) -> int:
    st = entry_strides(buf)
    return sum(st[d] * idx[d] for d in st)


def ev(e: E.Expr, env: dict[E.Var, int]) -> int:
    """The integer value of ``e`` with loop variables bound by ``env``."""
    if isinstance(e, E.Const):
        return int(e.value)
    if isinstance(e, E.Var):
        if e not in env:
            raise InternalError(f"vta lowering: variable {e.name} must be bound, not free")
        return env[e]
    if isinstance(e, E.Binary):
        a, b = ev(e.a, env), ev(e.b, env)
        ops = {"+": a + b, "-": a - b, "*": a * b, "min": min(a, b), "max": max(a, b)}
        if e.op in ops:
            return ops[e.op]
        if e.op == "//":
            return a // b
        if e.op == "%":
            return a % b
    if isinstance(e, E.Cmp):
        a, b = ev(e.a, env), ev(e.b, env)
        return int({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b, "==": a == b,
                    "!=": a != b}[e.op])
    if isinstance(e, E.Logic):
        if e.op == "not":
            return int(not ev(e.a, env))
        assert e.b is not None
        return int(ev(e.a, env) and ev(e.b, env)) if e.op == "and" else \
            int(ev(e.a, env) or ev(e.b, env))
    if isinstance(e, E.Call) and e.name == "likely":
        return ev(e.args[0], env)
    raise UnsupportedError(f"vta lowering: index {e!r} must be integer arithmetic")


def affine(f: object, loops: list[S.For], env: dict[E.Var, int]) -> tuple[int, list[int]]:
    """(value at the loops' origin, coefficient of each loop) of ``f(env)``, an affine
    function of the loop variables (checked at the far corner)."""
    fn = f if callable(f) else (lambda en: ev(f, en))
    base_env = {**env, **{lp.var: 0 for lp in loops}}
    c0 = fn(base_env)
    coefs = [fn({**base_env, lp.var: 1}) - c0 for lp in loops]
    far = {**base_env, **{lp.var: extent(lp) - 1 for lp in loops}}
    want = c0 + sum(c * (extent(lp) - 1) for c, lp in zip(coefs, loops))
    if fn(far) != want:
        raise UnsupportedError(
            f"vta lowering: an index over loops ({', '.join(lp.var.name for lp in loops)}) "
            f"must be affine, not {fn(far)} at the far corner where {want} was expected"
        )
    return c0, coefs


def extent(lp: S.For) -> int:
    if not isinstance(lp.extent, E.Const) or not isinstance(lp.min, E.Const) or lp.min.value:
        raise InternalError(f"vta lowering: loop {lp.var.name} must run from 0 over a "
                            f"constant extent")
    return int(lp.extent.value)


def nest(s: S.Stmt) -> tuple[list[S.For], list[S.AttrStmt], S.Stmt]:
    """The loops and attributes around the innermost statement of a perfect nest."""
    loops: list[S.For] = []
    attrs: list[S.AttrStmt] = []
    while True:
        if isinstance(s, S.For):
            loops.append(s)
            s = s.body
        elif isinstance(s, S.AttrStmt):
            attrs.append(s)
            s = s.body
        else:
            return loops, attrs, s


def simplify_guards(s: S.Stmt, rng: dict[E.Var, IntRange] | None = None) -> S.Stmt:
    """Simplify expressions and drop guards proven true, keeping every loop (extent-1 loops
    carry the strides of the instruction they become)."""
    rng = rng or {}
    if isinstance(s, S.For):
        inner = {**rng, s.var: (0, extent(s) - 1)}
        body = simplify_guards(s.body, inner)
        return S.SeqStmt(()) if _empty(body) else S.For(s.var, s.min, s.extent, s.kind, body,
                                                        s.annotations)
    if isinstance(s, S.IfThenElse):
        c = simplify_expr(s.cond, rng)
        if isinstance(c, E.Const):
            if c.value:
                return simplify_guards(s.then_case, rng)
            return simplify_guards(s.else_case, rng) if s.else_case else S.SeqStmt(())
        return S.IfThenElse(c, simplify_guards(s.then_case, rng),
                            simplify_guards(s.else_case, rng) if s.else_case else None)
    if isinstance(s, S.SeqStmt):
        return S.seq(*[x for x in (simplify_guards(x, rng) for x in s.stmts) if not _empty(x)]) \
            if s.stmts else s
    if isinstance(s, (S.Allocate, S.AttrStmt)):
        body = simplify_guards(s.body, rng)
        return S.SeqStmt(()) if _empty(body) else map_children(s, lambda _: body)
    if isinstance(s, AccelStmt):
        return s
    return map_children(s, lambda x: simplify_expr(x, rng))


def _empty(s: S.Stmt) -> bool:
    return isinstance(s, S.SeqStmt) and not s.stmts


def accel_stmts(s: S.Stmt) -> Iterator[AccelStmt]:
    """Every ``AccelStmt`` in program order."""
    if isinstance(s, AccelStmt):
        yield s
    elif isinstance(s, S.SeqStmt):
        for x in s.stmts:
            yield from accel_stmts(x)
    elif isinstance(s, (S.For, S.Allocate, S.AttrStmt, S.LetStmt)):
        yield from accel_stmts(s.body)
    elif isinstance(s, S.IfThenElse):
        yield from accel_stmts(s.then_case)
        if s.else_case is not None:
            yield from accel_stmts(s.else_case)


def unit_of(op: Op) -> str:
    if isinstance(op, Load):
        return op.unit
    return "store" if isinstance(op, Store) else "compute"


__all__ = ["AccelStmt", "Alu", "Gemm", "Load", "Store", "accel_stmts", "affine", "entries",
           "entry_of", "entry_strides", "ev", "nest", "on_chip", "simplify_guards", "unit_of"]
