"""A static verifier of generated accelerator kernels (run by ``build`` on every kernel).

Stronger than the simulator's range checks, which only know the buffers and the whole DRAM:

- every LOAD/STORE window lies inside one tensor of the kernel (``dram_base`` and the last
  entry it touches), LOADs read inputs or constants of the matching entry kind and STOREs
  write outputs;
- every on-chip window and every GEMM/ALU index (micro-op + loop offsets, taken from the
  kernel's own micro-op words) lies inside its buffer, and micro-op ranges inside the one
  LOAD UOP's;
- tokens balance: no queue is popped more often than pushed, and what is left over fits the
  queue depth.

A failure is an ``InternalError``: the lowering produced an illegal program (our bug).
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from tessera.compiler.errors import InternalError
from tessera.hw import isa as I
from tessera.runtime.accel import AccelKernel, DramTensor

KIND = {I.MemType.UOP: "uop", I.MemType.WGT: "wgt", I.MemType.INP: "inp",
        I.MemType.ACC: "acc", I.MemType.OUT: "out"}


def _fail(k: AccelKernel, pc: int, what: str) -> InternalError:
    return InternalError(f"kernel {k.name!r}: instruction {pc}: {what}")


def _tensor_of(k: AccelKernel, pc: int, insn: I.MemInsn) -> DramTensor:
    kind = KIND[I.MemType(insn.mem_type)]
    step = k.cfg.entry_bytes(kind)
    first = insn.dram_base * step
    last = (insn.dram_base + (insn.y_size - 1) * insn.x_stride + insn.x_size) * step
    for t in k.tensors:
        if t.offset <= first and last <= t.offset + t.nbytes:
            roles = ("output",) if insn.store else ("input", "const")
            if t.role not in roles:
                raise _fail(k, pc, f"{'STORE' if insn.store else 'LOAD'} must touch a tensor "
                            f"of role {roles}, not {t.name!r} ({t.role})")
            return t
    raise _fail(k, pc, f"DRAM bytes [{first}, {last}) must lie inside one tensor, not across "
                f"{[(t.name, t.offset, t.offset + t.nbytes) for t in k.tensors]}")


def _uop_fields(k: AccelKernel) -> dict[str, np.ndarray]:
    words = np.asarray(k.consts["uops"], dtype=np.int64)
    return {f.name: (words >> f.lsb) & ((1 << f.width) - 1) for f in I.uop_layout(k.cfg)}


def _check_loop(k: AccelKernel, pc: int, insn: I.GemmInsn | I.AluInsn,
                uops: dict[str, np.ndarray], loaded: int) -> None:
    if not 0 <= insn.uop_bgn < insn.uop_end <= loaded:
        raise _fail(k, pc, f"micro-op range [{insn.uop_bgn}, {insn.uop_end}) must lie in the "
                    f"{loaded} loaded micro-ops")
    cfg = k.cfg
    reads_operands = not insn.reset and not (isinstance(insn, I.AluInsn) and insn.use_imm)
    operands = [("dst", insn.dst_factor_out, insn.dst_factor_in, cfg.acc_depth)]
    if reads_operands:
        src_depth = cfg.inp_depth if isinstance(insn, I.GemmInsn) else cfg.acc_depth
        operands.append(("src", insn.src_factor_out, insn.src_factor_in, src_depth))
    if isinstance(insn, I.GemmInsn) and not insn.reset:
        operands.append(("wgt", insn.wgt_factor_out, insn.wgt_factor_in, cfg.wgt_depth))
    for field, f_out, f_in, depth in operands:
        top = int(uops[field][insn.uop_bgn:insn.uop_end].max())
        top += (insn.iter_out - 1) * f_out + (insn.iter_in - 1) * f_in
        if top >= depth:
            raise _fail(k, pc, f"{field} index must stay below {depth}, not reach {top}")


def verify_kernel(k: AccelKernel) -> None:
    """Raise InternalError if ``k`` is not a legal, self-contained program."""
    cfg = k.cfg
    uops = _uop_fields(k)
    loaded = 0
    pushes: Counter[str] = Counter()
    pops: Counter[str] = Counter()
    for pc, insn in enumerate(k.insns):
        popped, pushed = I.token_queues(insn)
        pops.update(popped)
        pushes.update(pushed)
        if isinstance(insn, I.MemInsn):
            _tensor_of(k, pc, insn)
            kind = KIND[I.MemType(insn.mem_type)]
            rows = insn.y_pad_0 + insn.y_size + insn.y_pad_1
            cols = insn.x_pad_0 + insn.x_size + insn.x_pad_1
            if insn.sram_base + rows * cols > cfg.depth(kind):
                raise _fail(k, pc, f"{kind} window end must be <= {cfg.depth(kind)}, not "
                            f"{insn.sram_base + rows * cols}")
            if kind == "uop":
                loaded = max(loaded, insn.sram_base + insn.x_size)
        elif isinstance(insn, (I.GemmInsn, I.AluInsn)):
            _check_loop(k, pc, insn, uops, loaded)
    for q in I.QUEUES:
        if pops[q] > pushes[q] or pushes[q] - pops[q] > cfg.token_depth:
            raise InternalError(
                f"kernel {k.name!r}: queue {q} must balance (pops <= pushes <= pops + "
                f"{cfg.token_depth}), not {pushes[q]} pushes and {pops[q]} pops"
            )
    if not k.insns or not isinstance(k.insns[-1], I.FinishInsn):
        raise InternalError(f"kernel {k.name!r}: the stream must end with FINISH")
