"""ALU: element-wise int32 operations on accumulator entries (normative).

Over the micro-op loop (``loops``; the micro-op's ``src`` indexes the accumulator too), each
iteration with indices ``(d, s)`` computes, lane by lane over the ``batch x block_out`` values::

    reset:  acc[d] = 0
    else:   a = acc[d]
            b = sign_extend_32(imm) if use_imm else acc[s]
            MIN: signed min(a, b)        MAX: signed max(a, b)
            ADD: a + b mod 2**32         MUL: low 32 bits of the signed product a * b
            SHR: n = b[5:0] read as a signed 6-bit number (-32..31);
                 n >= 0: a >> n (arithmetic);  n < 0: a << -n (logical, low 32 bits kept;
                 so a shift left by 32 gives 0)
            acc[d] = result
    both:   out[d] = acc[d] truncated to its low 8 bits (two's complement, no saturation)

``src`` is range checked only when it is read (not with ``use_imm`` or ``reset``).
Iterations run in loop order: a later iteration reads what an earlier one wrote. The simulator
runs a chunk of iterations at once when that gives the same result (every ``d`` distinct and no
iteration reads an entry an earlier one wrote); otherwise it splits the chunk into waves, each
wave a set of iterations whose reads do not depend on each other's writes (read-all then
write-all per wave, same result as the sequential loop).
"""

from __future__ import annotations

import numpy as np

from tessera.hw import isa as I
from tessera.sim.fsim.loops import LoopNest, Operand, cached
from tessera.sim.fsim.state import FSimState

_MASK32 = np.uint64(0xFFFFFFFF)


def apply(op: I.AluOp, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``op`` on int32 arrays ``a`` and ``b`` (broadcast), exactly as the hardware does it."""
    a = a.astype(np.int32, copy=False)
    b = np.asarray(b, dtype=np.int32)
    if op == I.AluOp.MIN:
        return np.minimum(a, b)
    if op == I.AluOp.MAX:
        return np.maximum(a, b)
    if op == I.AluOp.ADD:
        return np.add(a, b, dtype=np.int32)
    if op == I.AluOp.MUL:
        return np.multiply(a, b, dtype=np.int32)
    if op == I.AluOp.SHR and b.ndim == 0:  # an immediate: one shift amount for all lanes
        k = int(b) & 63
        k = k - 64 if k >= 32 else k
        if k >= 0:
            return a >> np.int32(k)
        if k == -32:
            return np.zeros_like(a)
        return (a.view(np.uint32) << np.uint32(-k)).view(np.int32)
    if op == I.AluOp.SHR:
        n = (b & 63).astype(np.int64)
        n = np.where(n >= 32, n - 64, n)
        a, n = np.broadcast_arrays(a, n)
        right = a >> np.clip(n, 0, 31).astype(np.int32)
        wide = a.astype(np.int64).astype(np.uint64) & _MASK32
        left = (wide << np.clip(-n, 0, 32).astype(np.uint64)) & _MASK32
        return np.where(n >= 0, right, left.astype(np.uint32).view(np.int32))
    raise ValueError(f"ALU op must be one of {[o.name for o in I.AluOp]}, not {op!r}")


def operands(state: FSimState, insn: I.AluInsn) -> list[Operand]:
    depth = state.cfg.acc_depth
    ops = [Operand("dst", insn.dst_factor_out, insn.dst_factor_in, "acc", depth)]
    if not (insn.reset or insn.use_imm):
        ops.append(Operand("src", insn.src_factor_out, insn.src_factor_in, "acc", depth))
    return ops


def _hazard_free(d: np.ndarray, s: np.ndarray | None, depth: int) -> bool:
    """Whether running all iterations at once equals running them in order."""
    first = np.full(depth, len(d), dtype=np.int64)
    first[d[::-1]] = np.arange(len(d) - 1, -1, -1)  # first iteration writing each entry
    if np.unique(d).size != d.size:
        return False
    return s is None or not bool(np.any(first[s] < np.arange(len(d))))


def _waves(d: np.ndarray, s: np.ndarray | None) -> np.ndarray:
    """A wave number per iteration: reads see every earlier write of an earlier wave, no entry
    is written twice in a wave, and a write never precedes a read of the same entry that comes
    earlier in loop order (reads of a wave happen before its writes)."""
    last_write: dict[int, int] = {}
    last_read: dict[int, int] = {}
    level = np.empty(len(d), dtype=np.int64)
    dl = d.tolist()
    sl = s.tolist() if s is not None else None
    for j, dj in enumerate(dl):
        lv = max(last_write.get(dj, -1) + 1, last_read.get(dj, 0))
        if sl is not None:
            sj = sl[j]
            lv = max(lv, last_write.get(sj, -1) + 1)
            last_read[sj] = max(last_read.get(sj, 0), lv)
        last_write[dj] = lv
        level[j] = lv
    return level


def _step(state: FSimState, insn: I.AluInsn, d: np.ndarray, s: np.ndarray | None) -> None:
    acc = state.acc
    if insn.use_imm:
        b: np.ndarray = np.int32(insn.imm)
    else:
        assert s is not None
        b = acc[s]
    new = apply(I.AluOp(insn.alu_op), acc[d], b)
    acc[d] = new
    state.out[d] = new.astype(np.int8)


def _plan(
    state: FSimState, pc: int, insn: I.AluInsn
) -> list[tuple[np.ndarray, np.ndarray | None]]:
    """(dst, src) index arrays per wave of each chunk, in execution order."""
    nest = LoopNest(state, pc, insn, operands(state, insn))
    steps: list[tuple[np.ndarray, np.ndarray | None]] = []
    for idx in nest.chunks():
        d = idx["dst"]
        s = None if (insn.use_imm or insn.reset) else idx["src"]
        if insn.reset or _hazard_free(d, s, state.cfg.acc_depth):
            steps.append((d, s))
            continue
        level = _waves(d, s)
        order = np.argsort(level, kind="stable")
        bounds = np.flatnonzero(np.diff(level[order])) + 1
        for part in np.split(order, bounds):
            steps.append((d[part], None if s is None else s[part]))
    return steps


def alu(state: FSimState, pc: int, insn: I.AluInsn) -> None:
    """Execute one ALU instruction on ``state``."""
    for d, s in cached(state, insn, lambda: _plan(state, pc, insn)):
        if insn.reset:
            state.acc[d] = 0
            state.out[d] = 0
        else:
            _step(state, insn, d, s)
