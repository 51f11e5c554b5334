"""Static legality of instructions: what the RTL reports as ``ILLEGAL_INSN``.

Checked before a program runs, for every instruction up to and including the first FINISH:

- dependency flags the executing unit cannot honour (the load unit has no previous stage, the
  store unit no next stage; ``isa.token_queues``);
- LOAD of OUT (the output buffer is written only by GEMM and ALU);
- STORE of anything but OUT, and STORE with any non-zero padding;
- LOAD of UOP with any non-zero padding.

Range checks (windows past a buffer or DRAM, micro-op indices) depend on data and run when the
instruction executes (``dma``, ``compute``).
"""

from __future__ import annotations

from collections.abc import Sequence

from tessera.hw import isa as I
from tessera.hw.errors import EncodingError
from tessera.sim.fsim.describe import where
from tessera.sim.fsim.errors import IllegalInsnError
from tessera.sim.fsim.tokens import token_queues

PADS = ("y_pad_0", "y_pad_1", "x_pad_0", "x_pad_1")


def check_insn(pc: int, insn: I.Insn) -> None:
    """Raise IllegalInsnError naming ``pc`` if ``insn`` cannot execute."""
    try:
        token_queues(insn)
    except EncodingError as err:
        raise IllegalInsnError(f"{where(pc, insn)}: {err}", pc) from None
    if not isinstance(insn, I.MemInsn):
        return
    mem = I.MemType(insn.mem_type)
    if insn.store:
        if mem != I.MemType.OUT:
            raise IllegalInsnError(
                f"{where(pc, insn)}: STORE mem_type must be OUT, not {mem.name}", pc
            )
        _no_pads(pc, insn, "STORE")
    elif mem == I.MemType.OUT:
        raise IllegalInsnError(
            f"{where(pc, insn)}: LOAD mem_type must be one of UOP, WGT, INP, ACC, not OUT", pc
        )
    elif mem == I.MemType.UOP:
        _no_pads(pc, insn, "LOAD UOP")


def _no_pads(pc: int, insn: I.MemInsn, what: str) -> None:
    for pad in PADS:
        value = getattr(insn, pad)
        if value:
            raise IllegalInsnError(f"{where(pc, insn)}: {what} {pad} must be 0, not {value}", pc)


def check_program(insns: Sequence[I.Insn]) -> int:
    """Check every instruction up to the first FINISH; return the FINISH's index. A program
    without FINISH is illegal (the hardware would never raise done)."""
    for pc, insn in enumerate(insns):
        check_insn(pc, insn)
        if isinstance(insn, I.FinishInsn):
            return pc
    raise IllegalInsnError(
        f"program must end with FINISH, but none of its {len(insns)} instructions is one",
        len(insns),
    )
