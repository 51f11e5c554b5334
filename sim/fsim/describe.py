"""How error messages and timelines name an instruction."""

from __future__ import annotations

from tessera.hw import isa as I


def mnemonic(insn: I.Insn) -> str:
    """``LOAD INP``, ``STORE OUT``, ``GEMM``, ``ALU ADD``, ``FINISH``."""
    if isinstance(insn, I.MemInsn):
        return f"{insn.opcode.name} {I.MemType(insn.mem_type).name}"
    if isinstance(insn, I.AluInsn):
        return f"ALU {I.AluOp(insn.alu_op).name}"
    return insn.opcode.name


def where(pc: int, insn: I.Insn) -> str:
    """``instruction 3 (LOAD INP)``: the prefix of every per-instruction error message."""
    return f"instruction {pc} ({mnemonic(insn)})"
