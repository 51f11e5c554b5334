"""The accelerator's instruction set: 128-bit instructions and 32-bit micro-ops.

This module is the single source of truth for the encoding; the functional simulator, the
assembler, the compiler's code generator and the generated Verilog parameter file all read the
field layouts from here. Field widths derive from a ``HwConfig``.

Instructions (fields packed LSB first, after a 7-bit header)::

    header   opcode[3] pop_prev[1] pop_next[1] push_prev[1] push_next[1]
    LOAD/    mem_type[3] sram_base[S] dram_base[32] y_size[16] x_size[16] x_stride[16]
    STORE    y_pad_0[4] y_pad_1[4] x_pad_0[4] x_pad_1[4]
    GEMM     reset[1] uop_bgn[U] uop_end[U+1] iter_out[14] iter_in[14]
             dst_factor_out[A] dst_factor_in[A] src_factor_out[I] src_factor_in[I]
             wgt_factor_out[W] wgt_factor_in[W]
    ALU      reset[1] uop_bgn[U] uop_end[U+1] iter_out[14] iter_in[14]
             dst_factor_out[A] dst_factor_in[A] src_factor_out[A] src_factor_in[A]
             alu_op[3] use_imm[1] imm[16, signed]
    FINISH   header only

with U = log2(uop_depth), A = log2(acc_depth), I = log2(inp_depth), W = log2(wgt_depth) and
S = the largest of those (any buffer's index fits). Micro-ops (32 bits, LSB first)::

    dst[A]  src[max(I, A)]  wgt[W]

Which unit runs what (as in VTA): LOAD of INP or WGT runs on the load unit; LOAD of UOP or ACC,
GEMM, ALU and FINISH run on the compute unit; STORE runs on the store unit.

Dependency tokens: each unit's "previous" and "next" stage are load -> compute -> store. The
four queues are ``l2c`` (load pushes, compute pops), ``c2l``, ``c2s`` and ``s2c``. The load unit
has no previous stage and the store unit no next stage: those flags set on their instructions
make the instruction illegal.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, fields
from typing import Any, ClassVar

from tessera.hw.config import INSN_BITS, UOP_BITS, HwConfig
from tessera.hw.errors import EncodingError


class Opcode(enum.IntEnum):
    LOAD = 0
    STORE = 1
    GEMM = 2
    ALU = 3
    FINISH = 4


class MemType(enum.IntEnum):
    UOP = 0
    WGT = 1
    INP = 2
    ACC = 3
    OUT = 4


class AluOp(enum.IntEnum):
    MIN = 0
    MAX = 1
    ADD = 2
    SHR = 3  # arithmetic shift right by a signed amount (negative: shift left)
    MUL = 4


QUEUES = ("l2c", "c2l", "c2s", "s2c")
UNITS = ("fetch", "load", "compute", "store")

ITER_BITS = 14
SIZE_BITS = 16
PAD_BITS = 4
DRAM_BITS = 32
IMM_BITS = 16
HEADER_BITS = 7


@dataclass(frozen=True)
class Field:
    """One field of an encoding: bit position, width and signedness."""

    name: str
    lsb: int
    width: int
    signed: bool = False

    @property
    def lo(self) -> int:
        return -(1 << (self.width - 1)) if self.signed else 0

    @property
    def hi(self) -> int:
        return (1 << (self.width - 1)) - 1 if self.signed else (1 << self.width) - 1


def _pack(spec: list[tuple[str, int] | tuple[str, int, bool]], start: int = 0) -> list[Field]:
    out: list[Field] = []
    pos = start
    for item in spec:
        name, width = item[0], item[1]
        signed = bool(item[2]) if len(item) > 2 else False
        out.append(Field(name, pos, width, signed))
        pos += width
    return out


def _header() -> list[tuple[str, int]]:
    return [("opcode", 3), ("pop_prev", 1), ("pop_next", 1), ("push_prev", 1), ("push_next", 1)]


def sram_index_bits(cfg: HwConfig) -> int:
    return max(cfg.log_uop_depth, cfg.log_inp_depth, cfg.log_wgt_depth, cfg.log_acc_depth)


def insn_layout(cfg: HwConfig, opcode: Opcode) -> list[Field]:
    """The fields of an instruction with ``opcode`` under ``cfg``, LSB first."""
    u, a = cfg.log_uop_depth, cfg.log_acc_depth
    i, w = cfg.log_inp_depth, cfg.log_wgt_depth
    spec: list[tuple[str, int] | tuple[str, int, bool]] = list(_header())
    if opcode in (Opcode.LOAD, Opcode.STORE):
        spec += [
            ("mem_type", 3), ("sram_base", sram_index_bits(cfg)), ("dram_base", DRAM_BITS),
            ("y_size", SIZE_BITS), ("x_size", SIZE_BITS), ("x_stride", SIZE_BITS),
            ("y_pad_0", PAD_BITS), ("y_pad_1", PAD_BITS),
            ("x_pad_0", PAD_BITS), ("x_pad_1", PAD_BITS),
        ]
    elif opcode == Opcode.GEMM:
        spec += [
            ("reset", 1), ("uop_bgn", u), ("uop_end", u + 1),
            ("iter_out", ITER_BITS), ("iter_in", ITER_BITS),
            ("dst_factor_out", a), ("dst_factor_in", a),
            ("src_factor_out", i), ("src_factor_in", i),
            ("wgt_factor_out", w), ("wgt_factor_in", w),
        ]
    elif opcode == Opcode.ALU:
        spec += [
            ("reset", 1), ("uop_bgn", u), ("uop_end", u + 1),
            ("iter_out", ITER_BITS), ("iter_in", ITER_BITS),
            ("dst_factor_out", a), ("dst_factor_in", a),
            ("src_factor_out", a), ("src_factor_in", a),
            ("alu_op", 3), ("use_imm", 1), ("imm", IMM_BITS, True),
        ]
    layout = _pack(spec)
    end = layout[-1].lsb + layout[-1].width
    if end > INSN_BITS:
        raise EncodingError(
            f"{opcode.name} needs {end} bits under configuration {cfg.name!r}, "
            f"more than the {INSN_BITS}-bit instruction"
        )
    return layout


def uop_layout(cfg: HwConfig) -> list[Field]:
    """Micro-op fields under ``cfg``: accumulator index, input (or second accumulator) index,
    weight index."""
    src_bits = max(cfg.log_inp_depth, cfg.log_acc_depth)
    layout = _pack([("dst", cfg.log_acc_depth), ("src", src_bits), ("wgt", cfg.log_wgt_depth)])
    assert layout[-1].lsb + layout[-1].width <= UOP_BITS  # guaranteed by HwConfig.validate
    return layout


# ---------------------------------------------------------------------- instruction classes
@dataclass(frozen=True)
class Insn:
    """Base of all instructions: the four dependency flags."""

    pop_prev: bool = False
    pop_next: bool = False
    push_prev: bool = False
    push_next: bool = False

    OPCODE: ClassVar[Opcode]

    @property
    def opcode(self) -> Opcode:
        return self.OPCODE

    def values(self) -> dict[str, int]:
        out = {"opcode": int(self.OPCODE)}
        for f in fields(self):
            out[f.name] = int(getattr(self, f.name))
        return out

    @property
    def unit(self) -> str:
        """The unit that executes this instruction: 'load', 'compute' or 'store'."""
        return "compute"


@dataclass(frozen=True)
class MemInsn(Insn):
    """LOAD or STORE of a 2-D strided window between DRAM and an on-chip buffer.

    Reads ``y_size`` rows of ``x_size`` entries, row ``r`` starting at DRAM entry
    ``dram_base + r * x_stride`` (entries of ``mem_type``), and writes them densely from
    ``sram_base``, inside a frame of zero padding: the on-chip window is
    ``(y_pad_0 + y_size + y_pad_1) x (x_pad_0 + x_size + x_pad_1)`` entries.
    STORE moves the window the other way, from the output buffer, and takes no padding.
    """

    OPCODE: ClassVar[Opcode] = Opcode.LOAD  # STORE when ``store``; see ``opcode``
    store: bool = False
    mem_type: MemType = MemType.INP
    sram_base: int = 0
    dram_base: int = 0
    y_size: int = 1
    x_size: int = 1
    x_stride: int = 1
    y_pad_0: int = 0
    y_pad_1: int = 0
    x_pad_0: int = 0
    x_pad_1: int = 0

    @property
    def opcode(self) -> Opcode:
        return Opcode.STORE if self.store else Opcode.LOAD

    def values(self) -> dict[str, int]:
        out = super().values()
        out["opcode"] = int(self.opcode)
        del out["store"]
        return out

    @property
    def unit(self) -> str:
        if self.store:
            return "store"
        return "load" if self.mem_type in (MemType.INP, MemType.WGT) else "compute"


@dataclass(frozen=True)
class LoopInsn(Insn):
    """The two-level loop over a micro-op range that GEMM and ALU share.

    For ``o`` in ``iter_out``, ``i`` in ``iter_in``, ``u`` in ``[uop_bgn, uop_end)``:
    ``dst = uop.dst + o*dst_factor_out + i*dst_factor_in`` (likewise src).
    """

    reset: bool = False
    uop_bgn: int = 0
    uop_end: int = 1
    iter_out: int = 1
    iter_in: int = 1
    dst_factor_out: int = 0
    dst_factor_in: int = 0
    src_factor_out: int = 0
    src_factor_in: int = 0


@dataclass(frozen=True)
class GemmInsn(LoopInsn):
    """acc[dst] += inp[src] x wgt[wgt]^T over the loop (weights indexed like dst and src).

    With ``reset`` the accumulator entry is zeroed instead.
    """

    OPCODE: ClassVar[Opcode] = Opcode.GEMM
    wgt_factor_out: int = 0
    wgt_factor_in: int = 0


@dataclass(frozen=True)
class AluInsn(LoopInsn):
    """acc[dst] = op(acc[dst], imm if use_imm else acc[src]) over the loop."""

    OPCODE: ClassVar[Opcode] = Opcode.ALU
    alu_op: AluOp = AluOp.ADD
    use_imm: bool = False
    imm: int = 0


@dataclass(frozen=True)
class FinishInsn(Insn):
    """Ends the program: the core raises done once every unit has drained."""

    OPCODE: ClassVar[Opcode] = Opcode.FINISH


@dataclass(frozen=True)
class Uop:
    """A micro-op: accumulator index, input (GEMM) or accumulator (ALU) index, weight index."""

    dst: int = 0
    src: int = 0
    wgt: int = 0


# ---------------------------------------------------------------------- encode / decode
def _check(where: str, f: Field, value: int) -> None:
    if not f.lo <= value <= f.hi:
        raise EncodingError(f"{where}.{f.name} must be in [{f.lo}, {f.hi}], not {value}")


def encode(insn: Insn, cfg: HwConfig) -> int:
    """The 128-bit word of ``insn`` as an int; a field that does not fit raises EncodingError."""
    values = insn.values()
    word = 0
    where = insn.opcode.name
    for f in insn_layout(cfg, insn.opcode):
        v = values[f.name]
        _check(where, f, v)
        word |= (v & ((1 << f.width) - 1)) << f.lsb
    return word


def _extract(word: int, f: Field) -> int:
    v = (word >> f.lsb) & ((1 << f.width) - 1)
    if f.signed and v >> (f.width - 1):
        v -= 1 << f.width
    return v


def decode(word: int, cfg: HwConfig) -> Insn:
    """Inverse of ``encode``; an unknown opcode, memory type or ALU op raises EncodingError."""
    raw_op = word & 0x7
    try:
        opcode = Opcode(raw_op)
    except ValueError:
        raise EncodingError(f"opcode must be one of 0..4, not {raw_op}") from None
    vals: dict[str, Any] = {f.name: _extract(word, f) for f in insn_layout(cfg, opcode)}
    del vals["opcode"]
    flags = {k: bool(vals.pop(k)) for k in ("pop_prev", "pop_next", "push_prev", "push_next")}
    if opcode in (Opcode.LOAD, Opcode.STORE):
        try:
            mem = MemType(vals.pop("mem_type"))
        except ValueError as err:
            raise EncodingError(f"{opcode.name}.mem_type must be one of 0..4: {err}") from None
        return MemInsn(**flags, store=opcode == Opcode.STORE, mem_type=mem, **vals)
    if opcode == Opcode.GEMM:
        return GemmInsn(**flags, reset=bool(vals.pop("reset")), **vals)
    if opcode == Opcode.ALU:
        try:
            op = AluOp(vals.pop("alu_op"))
        except ValueError as err:
            raise EncodingError(f"ALU.alu_op must be one of 0..4: {err}") from None
        return AluInsn(
            **flags, reset=bool(vals.pop("reset")), alu_op=op,
            use_imm=bool(vals.pop("use_imm")), **vals,
        )
    return FinishInsn(**flags)


def encode_uop(uop: Uop, cfg: HwConfig) -> int:
    word = 0
    for f in uop_layout(cfg):
        v = getattr(uop, f.name)
        _check("uop", f, v)
        word |= v << f.lsb
    return word


def decode_uop(word: int, cfg: HwConfig) -> Uop:
    return Uop(**{f.name: _extract(word, f) for f in uop_layout(cfg)})


def program_bytes(insns: list[Insn], cfg: HwConfig) -> bytes:
    """Instructions as they lie in DRAM: 16 little-endian bytes each."""
    return b"".join(encode(i, cfg).to_bytes(INSN_BITS // 8, "little") for i in insns)


def program_from_bytes(data: bytes, cfg: HwConfig) -> list[Insn]:
    size = INSN_BITS // 8
    if len(data) % size:
        raise EncodingError(
            f"an instruction stream must be a multiple of {size} bytes, not {len(data)}"
        )
    return [
        decode(int.from_bytes(data[k : k + size], "little"), cfg)
        for k in range(0, len(data), size)
    ]


# ---------------------------------------------------------------------- token discipline
_QUEUE_OF = {
    # (unit, flag) -> queue
    ("load", "pop_next"): "c2l",
    ("load", "push_next"): "l2c",
    ("compute", "pop_prev"): "l2c",
    ("compute", "pop_next"): "s2c",
    ("compute", "push_prev"): "c2l",
    ("compute", "push_next"): "c2s",
    ("store", "pop_prev"): "c2s",
    ("store", "push_prev"): "s2c",
}


def token_queues(insn: Insn) -> tuple[list[str], list[str]]:
    """(queues popped before, queues pushed after) ``insn`` runs; an impossible flag (the load
    unit has no previous stage, the store unit no next) raises EncodingError."""
    pops: list[str] = []
    pushes: list[str] = []
    for flag in ("pop_prev", "pop_next", "push_prev", "push_next"):
        if not getattr(insn, flag):
            continue
        queue = _QUEUE_OF.get((insn.unit, flag))
        if queue is None:
            raise EncodingError(
                f"{insn.opcode.name} runs on the {insn.unit} unit, which has no "
                f"{'previous' if flag.endswith('prev') else 'next'} stage: {flag} must be 0"
            )
        (pops if flag.startswith("pop") else pushes).append(queue)
    return pops, pushes
