"""``inject_alu``: each ``pragma alu`` stage becomes one ALU instruction, in place.

An epilogue stage ``dst[i] = src[i] OP x`` of the accumulator scope maps onto an ALU opcode
(``intrin.ALU_OPS``): ``+ acc[..]`` is ADD with a tensor operand (the bias), ``// 2**s`` is
SHR by ``s``, ``min``/``max`` with a constant are MIN/MAX with an immediate. The stage is
computed in place on ``src``'s accumulators (``src`` dies there), so its buffer is dropped
and later reads of it read ``src``. The loops become the instruction's two-level loop
(``fuse_loops``: a bias is broadcast over the inner level); the block's lanes are the ALU's
vector.
"""

from __future__ import annotations

from tessera.compiler.errors import UnsupportedError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.functor import map_children, rewrite
from tessera.compiler.vta.intrin import ALU_OPS
from tessera.compiler.vta.passes.accel_ir import AccelStmt, affine, entry_of, ev, extent, nest
from tessera.compiler.vta.passes.fuse_loops import broadcast_loop, fused_loop
from tessera.compiler.vta.program import Alu


def _op(value: E.Expr, dst: S.Buffer) -> tuple[E.BufferLoad, str, E.BufferLoad | int]:
    if isinstance(value, E.Binary) and value.op == "+" and isinstance(value.b, E.BufferLoad) \
            and isinstance(value.a, E.BufferLoad):
        a, b = value.a, value.b
        if a.buffer.shape != dst.shape:  # the in-place operand has the stage's shape
            a, b = b, a
        return a, "add", b
    if isinstance(value, E.Binary) and isinstance(value.a, E.BufferLoad):
        a, b = value.a, value.b
        if isinstance(b, E.Const):
            v = int(b.value)
            if value.op == "//" and v > 0 and v & (v - 1) == 0:
                return a, "shr", v.bit_length() - 1
            if value.op in ("min", "max"):
                return a, value.op, v
    raise UnsupportedError(f"inject_alu: stage {dst.name} must be src + acc, src // 2**s, "
                           f"min(src, c) or max(src, c), not {value!r}")


def _alu(stage: S.AttrStmt) -> tuple[AccelStmt, S.Buffer]:
    loops, _, store = nest(stage.body)
    if not isinstance(store, S.BufferStore) or len(loops) < 2:
        raise UnsupportedError(f"inject_alu: a pragma alu region must be a loop nest around "
                               f"one store, not {type(store).__name__}")
    src, name, operand = _op(store.value, store.buffer)
    body, lanes = loops[:-2], {lp.var: 0 for lp in loops[-2:]}

    def fn(load: E.BufferLoad):  # noqa: ANN202
        return lambda env: entry_of(load.buffer, tuple(ev(i, {**env, **lanes})
                                                       for i in load.indices))

    d0, dc = affine(fn(src), body, {})
    if isinstance(operand, E.BufferLoad):
        s0, sc = affine(fn(operand), body, {})
        imm, bufs = None, (src.buffer, operand.buffer)
    else:
        s0, sc, imm, bufs = 0, [0] * len(body), operand, (src.buffer, None)
    levels = [(extent(lp), (d, s)) for lp, d, s in zip(body, dc, sc)]
    loop = fused_loop(levels) if imm is not None else broadcast_loop(levels)
    return AccelStmt(Alu(((d0, s0, 0),), loop, ALU_OPS[name], imm), bufs), src.buffer


def _rewrite(s: S.Stmt) -> S.Stmt:
    if isinstance(s, S.Allocate) and s.buffer.scope == "acc_buffer":
        seq = s.body.stmts if isinstance(s.body, S.SeqStmt) else (s.body,)
        first = seq[0]
        if isinstance(first, S.AttrStmt) and first.key == "pragma_alu":
            alu, src = _alu(first)
            dead = s.buffer

            def alias(n: object) -> E.Expr | None:
                if isinstance(n, E.BufferLoad) and n.buffer is dead:
                    return E.BufferLoad(n.dtype, src, n.indices)
                return None

            rest = rewrite(S.seq(*seq[1:]), alias) if len(seq) > 1 else S.SeqStmt(())
            return S.seq(alu, _rewrite(rest))
    if isinstance(s, (S.SeqStmt, S.Allocate, S.AttrStmt, S.For)):
        return map_children(s, lambda x: _rewrite(x) if isinstance(x, S.Stmt) else x)
    return s


def inject_alu(stmt: S.Stmt) -> S.Stmt:
    """``stmt`` with every ``pragma alu`` stage replaced by its ALU instruction."""
    return _rewrite(stmt)
