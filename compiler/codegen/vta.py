"""Accelerator code generation: the instruction stream, the micro-op cache and the DRAM
placement of every tensor, packaged as a relocatable ``tessera.runtime.accel.AccelKernel``.

- Micro-op kernels are cached by content: each distinct kernel is placed once in the ``uops``
  constant and loaded once into the micro-op cache (one LOAD UOP at the start); every GEMM or
  ALU that uses it names the same ``[uop_bgn, uop_end)`` range.
- DRAM placement: tensors lie one after another in the kernel's region, each aligned to the
  largest buffer entry so every ``dram_base`` is a whole entry; ``dram_base`` counts entries
  of the instruction's memory type from the region start (``AccelKernel.relocate`` rebases).
- The stream ends with FINISH.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tessera.compiler.errors import InternalError, ScheduleError
from tessera.compiler.vta.program import Alu, Gemm, Kernel, Load, Op, Store
from tessera.hw import isa as I
from tessera.hw.config import HwConfig
from tessera.runtime.accel import REGION_ALIGN, AccelKernel, DramTensor, Role

KIND = {I.MemType.UOP: "uop", I.MemType.WGT: "wgt", I.MemType.INP: "inp",
        I.MemType.ACC: "acc", I.MemType.OUT: "out"}


@dataclass(frozen=True)
class TensorSpec:
    """A tensor to place: role, blocked shape, dtype, and the buffer kind of its entries."""

    name: str
    role: Role
    shape: tuple[int, ...]
    dtype: str
    kind: str


class UopCache:
    """Distinct micro-op kernels in order of first use, and where each lies in the cache."""

    def __init__(self) -> None:
        self.ranges: dict[Kernel, tuple[int, int]] = {}
        self.words = 0

    def add(self, kernel: Kernel) -> tuple[int, int]:
        if kernel not in self.ranges:
            self.ranges[kernel] = (self.words, self.words + len(kernel))
            self.words += len(kernel)
        return self.ranges[kernel]

    def encode(self, cfg: HwConfig) -> np.ndarray:
        out = np.zeros(self.words, dtype=np.uint32)
        for kernel, (bgn, _) in self.ranges.items():
            for i, (d, s, w) in enumerate(kernel):
                out[bgn + i] = I.encode_uop(I.Uop(d, s, w), cfg)
        return out


def uop_cache(ops: Sequence[Op]) -> UopCache:
    cache = UopCache()
    for op in ops:
        if isinstance(op, (Gemm, Alu)):
            cache.add(op.kernel)
    return cache


def place(cfg: HwConfig, specs: Sequence[TensorSpec]) -> tuple[tuple[DramTensor, ...], int]:
    """Byte offsets of ``specs`` in the region and the region's size."""
    align = max(64, *(cfg.entry_bytes(k) for k in ("inp", "wgt", "acc", "out")))
    offset = 0
    out = []
    for s in specs:
        t = DramTensor(s.name, s.role, s.shape, s.dtype, offset)
        out.append(t)
        offset += -(-t.nbytes // align) * align
    return tuple(out), max(REGION_ALIGN, -(-offset // REGION_ALIGN) * REGION_ALIGN)


def _flags(op: Op) -> dict[str, bool]:
    f = op.flags
    return {"pop_prev": f.pop_prev, "pop_next": f.pop_next, "push_prev": f.push_prev,
            "push_next": f.push_next}


def _insn(cfg: HwConfig, op: Op, cache: UopCache, entry_base: dict[str, int]) -> I.Insn:
    if isinstance(op, (Load, Store)):
        mem = op.mem if isinstance(op, Load) else I.MemType.OUT
        pads = op.pads if isinstance(op, Load) else (0, 0, 0, 0)
        return I.MemInsn(
            store=isinstance(op, Store), mem_type=mem, sram_base=op.sram_base,
            dram_base=entry_base[op.tensor] + op.dram_entry, y_size=op.y_size,
            x_size=op.x_size, x_stride=op.x_stride, y_pad_0=pads[0], y_pad_1=pads[1],
            x_pad_0=pads[2], x_pad_1=pads[3], **_flags(op),
        )
    bgn, end = cache.ranges[op.kernel]
    lp = op.loop
    common: dict[str, Any] = dict(
        uop_bgn=bgn, uop_end=end, iter_out=lp.iter_out, iter_in=lp.iter_in,
        dst_factor_out=lp.dst[0], dst_factor_in=lp.dst[1], src_factor_out=lp.src[0],
        src_factor_in=lp.src[1], **_flags(op),
    )
    if isinstance(op, Gemm):
        return I.GemmInsn(reset=op.reset, wgt_factor_out=lp.wgt[0], wgt_factor_in=lp.wgt[1],
                          **common)
    if isinstance(op, Alu):
        return I.AluInsn(alu_op=op.op, use_imm=op.imm is not None,
                         imm=0 if op.imm is None else op.imm, **common)
    raise InternalError(f"codegen vta: operation must be Load, Store, Gemm or Alu, not {op!r}")


def generate(
    name: str, cfg: HwConfig, ops: Sequence[Op], specs: Sequence[TensorSpec],
    consts: dict[str, np.ndarray], macs: int, meta: dict[str, Any], where: str = "",
) -> AccelKernel:
    """The ``AccelKernel`` of ``ops``: micro-op cache load, the operations, FINISH.
    ``where`` names the layer in errors."""
    cache = uop_cache(ops)
    if cache.words > cfg.uop_depth:
        raise ScheduleError(
            f"{where or name}: the schedule overflows uop_buffer: it needs {cache.words} entries "
            f"(every distinct micro-op kernel), {cache.words - cfg.uop_depth} more than its "
            f"{cfg.uop_depth}"
        )
    all_specs = [TensorSpec("uops", "const", (cache.words,), "uint32", "uop"), *specs]
    tensors, region = place(cfg, all_specs)
    kinds = {s.name: s.kind for s in all_specs}
    entry_base = {t.name: t.offset // cfg.entry_bytes(kinds[t.name]) for t in tensors}
    insns: list[I.Insn] = [I.MemInsn(mem_type=I.MemType.UOP, dram_base=entry_base["uops"],
                                     y_size=1, x_size=cache.words, x_stride=cache.words)]
    insns += [_insn(cfg, op, cache, entry_base) for op in ops]
    insns.append(I.FinishInsn())
    for pc, insn in enumerate(insns):  # every field fits its encoding, or it is our bug
        try:
            I.encode(insn, cfg)
        except Exception as err:  # noqa: BLE001 - re-raised as an invariant failure
            raise InternalError(f"{name}: instruction {pc} does not encode: {err}") from None
    all_consts = {"uops": cache.encode(cfg), **consts}
    meta = {**meta, "uop_words": cache.words, "uop_kernels": len(cache.ranges),
            "insns": len(insns)}
    return AccelKernel(name, cfg, tuple(insns), tensors, region, all_consts, macs, meta)
