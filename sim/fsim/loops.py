"""The two-level micro-op loop shared by GEMM and ALU (normative).

For ``o`` in ``[0, iter_out)``, ``i`` in ``[0, iter_in)``, ``u`` in ``[uop_bgn, uop_end)``
(that order, ``u`` innermost), with micro-op ``uop[u] = (dst, src, wgt)``::

    d = dst + o*dst_factor_out + i*dst_factor_in
    s = src + o*src_factor_out + i*src_factor_in
    w = wgt + o*wgt_factor_out + i*wgt_factor_in      (GEMM only)

``uop_end <= uop_bgn`` is an empty loop (legal, does nothing). ``uop_end > uop_depth`` is out of
range. No index wraps: one past its buffer is an ``OutOfRangeError`` naming the field and the
first iteration (in loop order) that produced it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import TypeAlias, TypeVar

import numpy as np

from tessera.hw import isa as I
from tessera.hw.config import HwConfig
from tessera.sim.fsim.describe import where
from tessera.sim.fsim.errors import OutOfRangeError
from tessera.sim.fsim.state import FSimState

CHUNK = 1 << 16  # iterations gathered at once; bounds the working set of a huge instruction
PLAN_LIMIT = 1 << 20  # instructions with more iterations are not cached
PLAN_CACHE = 512  # cached plans per simulator (the cache is cleared when full)
T = TypeVar("T")

LoopInsn: TypeAlias = I.GemmInsn | I.AluInsn


def iterations(insn: LoopInsn) -> int:
    """How many (o, i, u) iterations ``insn`` runs."""
    return insn.iter_out * insn.iter_in * max(0, insn.uop_end - insn.uop_bgn)


@lru_cache(maxsize=16)
def _uop_layout(cfg: HwConfig) -> list[I.Field]:
    return I.uop_layout(cfg)


def cached(state: FSimState, insn: LoopInsn, build: Callable[[], T]) -> T:
    """``build()``, cached per (instruction, micro-op cache version): repeated instructions
    (the same kernel on the same micro-ops) skip index generation and range checks."""
    hit = state.plans.get(insn)
    if hit is not None and hit[0] == state.uop_version:
        return hit[1]
    value = build()
    if iterations(insn) <= PLAN_LIMIT:
        if len(state.plans) >= PLAN_CACHE:
            state.plans.clear()
        state.plans[insn] = (state.uop_version, value)
    return value


@dataclass(frozen=True)
class Operand:
    """One index stream: its micro-op field, loop factors, buffer and depth."""

    field: str       # micro-op field: dst, src or wgt
    factor_out: int
    factor_in: int
    buffer: str      # acc, inp or wgt
    depth: int


class LoopNest:
    """The decoded micro-ops of a GEMM or ALU instruction and its index streams."""

    def __init__(self, state: FSimState, pc: int, insn: LoopInsn, operands: list[Operand]):
        cfg = state.cfg
        self.pc, self.insn = pc, insn
        if insn.uop_end > cfg.uop_depth:
            raise OutOfRangeError(
                f"{where(pc, insn)}: uop_end must be <= {cfg.uop_depth} (uop_depth), "
                f"not {insn.uop_end}",
                pc,
            )
        self.nu = max(0, insn.uop_end - insn.uop_bgn)
        self.n = iterations(insn)
        words = state.uop[insn.uop_bgn : insn.uop_bgn + self.nu].astype(np.int64)
        self.fields = {
            f.name: (words >> f.lsb) & ((1 << f.width) - 1) for f in _uop_layout(cfg)
        }
        self.operands = operands
        if self.n:
            for op in operands:
                self._check(op)

    def _check(self, op: Operand) -> None:
        base = self.fields[op.field]
        top = int(base.max()) + (self.insn.iter_out - 1) * op.factor_out
        top += (self.insn.iter_in - 1) * op.factor_in
        if top < op.depth:
            return
        # Find the first offending iteration in loop order (an error path: may be slow).
        for o in range(self.insn.iter_out):
            for i in range(self.insn.iter_in):
                idx = base + o * op.factor_out + i * op.factor_in
                bad = np.flatnonzero(idx >= op.depth)
                if bad.size:
                    u = self.insn.uop_bgn + int(bad[0])
                    raise OutOfRangeError(
                        f"{where(self.pc, self.insn)}: {op.field} index must be < {op.depth} "
                        f"({op.buffer}_depth), not {int(idx[bad[0]])} "
                        f"(micro-op {u}, o={o}, i={i})",
                        self.pc,
                    )

    def chunks(self, size: int = CHUNK) -> Iterator[dict[str, np.ndarray]]:
        """Index arrays of each operand for consecutive runs of at most ``size`` iterations,
        in loop order."""
        per_o = self.insn.iter_in * self.nu
        for start in range(0, self.n, size):
            n = np.arange(start, min(self.n, start + size), dtype=np.int64)
            o, rem = np.divmod(n, per_o)
            i, u = np.divmod(rem, self.nu)
            yield {
                op.field: self.fields[op.field][u] + o * op.factor_out + i * op.factor_in
                for op in self.operands
            }
