"""``verify_accel``: the accelerator invariants of the loop IR, checked after every pass.

- scopes: a LOAD fills the buffer of its memory type (input -> ``inp_buffer``, weight ->
  ``wgt_buffer``, accumulator -> ``acc_buffer``), a STORE and every GEMM/ALU destination
  use ``acc_buffer``, a GEMM reads ``inp_buffer`` and ``wgt_buffer``;
- bounds: every on-chip index an operation touches (window, micro-op kernel plus loop
  offsets) lies inside its buffer (before placement) or the configuration's buffer depth
  (after);
- tokens: in program order, no queue is popped before it is pushed, and what is left over
  fits the queue depth.

A failure is an ``InternalError`` naming the pass and the operation.
"""

from __future__ import annotations

from collections import Counter

from tessera.compiler.errors import InternalError
from tessera.compiler.tensor import stmt as S
from tessera.compiler.vta.passes.accel_ir import SCOPE_OF_MEM, accel_stmts, entries
from tessera.compiler.vta.program import Alu, Gemm, Load, Loop, Op, Store
from tessera.hw.config import HwConfig

_QUEUES = {("load", "push_next"): "l2c", ("compute", "pop_prev"): "l2c",
           ("compute", "push_prev"): "c2l", ("load", "pop_next"): "c2l",
           ("compute", "push_next"): "c2s", ("store", "pop_prev"): "c2s",
           ("store", "push_prev"): "s2c", ("compute", "pop_next"): "s2c"}


def _top(kernel: tuple[tuple[int, int, int], ...], lp: Loop, k: int) -> int:
    f = {0: lp.dst, 1: lp.src, 2: lp.wgt}[k]
    return max(u[k] for u in kernel) + (lp.iter_out - 1) * f[0] + (lp.iter_in - 1) * f[1]


def _roles(op: Op) -> list[tuple[int, str, int]]:
    """(operand position, scope, highest index) of every on-chip access of ``op``."""
    if isinstance(op, Load):
        rows = op.pads[0] + op.y_size + op.pads[1]
        cols = op.pads[2] + op.x_size + op.pads[3]
        return [(0, SCOPE_OF_MEM[op.mem], op.sram_base + rows * cols - 1)]
    if isinstance(op, Store):
        return [(0, "acc_buffer", op.sram_base + (op.y_size - 1) * op.x_size + op.x_size - 1)]
    if isinstance(op, Gemm):
        out = [(0, "acc_buffer", _top(op.kernel, op.loop, 0))]
        if not op.reset:
            out += [(1, "inp_buffer", _top(op.kernel, op.loop, 1)),
                    (2, "wgt_buffer", _top(op.kernel, op.loop, 2))]
        return out
    assert isinstance(op, Alu)
    out = [(0, "acc_buffer", _top(op.kernel, op.loop, 0))]
    if op.imm is None:
        out.append((1, "acc_buffer", _top(op.kernel, op.loop, 1)))
    return out


def verify_accel(f: S.PrimFunc, cfg: HwConfig, where: str) -> None:
    """Raise InternalError if ``f`` breaks an accelerator invariant after pass ``where``."""
    depth = {"inp_buffer": cfg.inp_depth, "wgt_buffer": cfg.wgt_depth,
             "acc_buffer": cfg.acc_depth}
    pushes: Counter[str] = Counter()
    pops: Counter[str] = Counter()
    for n, a in enumerate(accel_stmts(f.body)):
        op = a.op
        what = f"{where}: operation {n} ({type(op).__name__})"
        for pos, scope, top in _roles(op):
            buf = a.bufs[pos] if pos < len(a.bufs) else None
            if a.bufs and buf is None:
                raise InternalError(f"{what}: operand {pos} must name its {scope}, not none")
            if buf is not None and buf.scope != scope:
                raise InternalError(f"{what}: operand {pos} must be in {scope}, not "
                                    f"{buf.name} in {buf.scope}")
            limit = entries(buf) if buf is not None else depth[scope]
            if top >= limit:
                raise InternalError(f"{what}: {scope} index must stay below {limit}, not "
                                    f"reach {top}")
        unit = "load" if isinstance(op, Load) and op.unit == "load" else \
            "store" if isinstance(op, Store) else "compute"
        fl = op.flags
        for flag in ("pop_prev", "pop_next"):
            if getattr(fl, flag):
                q = _QUEUES[(unit, flag)]
                pops[q] += 1
                if pops[q] > pushes[q]:
                    raise InternalError(f"{what}: pops queue {q} before anything was pushed")
        for flag in ("push_prev", "push_next"):
            if getattr(fl, flag):
                pushes[_QUEUES[(unit, flag)]] += 1
    for q in set(pushes) | set(pops):
        if pushes[q] - pops[q] > cfg.token_depth:
            raise InternalError(f"{where}: queue {q} must balance within {cfg.token_depth} "
                                f"tokens, not {pushes[q]} pushes and {pops[q]} pops")
