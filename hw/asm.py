"""The accelerator's assembly language: a readable text form of a program that round-trips.

One statement per line; ``#`` or ``;`` starts a comment. A statement is a mnemonic, for LOAD
and STORE a memory type and for ALU an operation, then bare flags and ``field=value`` pairs
in any order (values in decimal or ``0x`` hex, negative where the field is signed)::

    LOAD INP sram_base=0 dram_base=0x40 y_size=4 x_size=16 x_stride=16 x_pad_0=1 push_next
    LOAD UOP dram_base=256 x_size=8 x_stride=8
    GEMM uop_end=8 iter_out=4 dst_factor_out=16 src_factor_out=16 pop_prev push_prev
    ALU SHR use_imm imm=8 uop_bgn=8 uop_end=9 iter_out=64 dst_factor_out=1
    STORE OUT dram_base=0x80 y_size=4 x_size=16 x_stride=16 pop_prev push_prev
    FINISH
    UOP dst=1 src=16 wgt=2          # a micro-op word (goes to the micro-op section)

Flags: ``pop_prev``, ``pop_next``, ``push_prev``, ``push_next``, ``reset`` (GEMM, ALU) and
``use_imm`` (ALU). A field left out takes its default: 1 for ``y_size``, ``x_size``,
``x_stride``, ``uop_end``, ``iter_out`` and ``iter_in``, 0 for everything else. ``format_insn``
writes the flags that are set and the fields that differ from their default, so
``assemble(disassemble(b)) == b`` for every stream that decodes.

The binary form of a program is its instruction stream as it lies in DRAM (16 little-endian
bytes per instruction, ``isa.program_bytes``); micro-ops are 4 little-endian bytes each.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any

from tessera.hw import isa as I
from tessera.hw.config import INSN_BITS, UOP_BITS, HwConfig
from tessera.hw.errors import AsmError, EncodingError

_CLASSES: dict[str, type[I.Insn]] = {
    "LOAD": I.MemInsn, "STORE": I.MemInsn, "GEMM": I.GemmInsn, "ALU": I.AluInsn,
    "FINISH": I.FinishInsn,
}
_INT = re.compile(r"^-?(0x[0-9a-f]+|\d+)$", re.IGNORECASE)


@dataclass(frozen=True)
class AsmProgram:
    """A parsed assembly file: the instructions and the micro-op words, in source order."""

    insns: tuple[I.Insn, ...]
    uops: tuple[I.Uop, ...] = ()

    def insn_bytes(self, cfg: HwConfig) -> bytes:
        return I.program_bytes(list(self.insns), cfg)

    def uop_bytes(self, cfg: HwConfig) -> bytes:
        return b"".join(I.encode_uop(u, cfg).to_bytes(UOP_BITS // 8, "little") for u in self.uops)


# --------------------------------------------------------------------------- printing
def _defaults(cls: type[Any]) -> dict[str, Any]:
    return {f.name: f.default for f in dataclasses.fields(cls)}


def format_insn(insn: I.Insn) -> str:
    """One line of assembly for ``insn``."""
    head = [insn.opcode.name]
    if isinstance(insn, I.MemInsn):
        head.append(I.MemType(insn.mem_type).name)
    elif isinstance(insn, I.AluInsn):
        head.append(I.AluOp(insn.alu_op).name)
    defaults = _defaults(type(insn))
    flags, fields = [], []
    for name, value in dataclasses.asdict(insn).items():
        if name in ("store", "mem_type", "alu_op"):
            continue
        if isinstance(defaults[name], bool):
            if value:
                flags.append(name)
        elif value != defaults[name]:
            fields.append(f"{name}={int(value)}")
    return " ".join(head + fields + flags)


def format_uop(uop: I.Uop) -> str:
    return f"UOP dst={uop.dst} src={uop.src} wgt={uop.wgt}"


def disassemble(data: bytes, cfg: HwConfig, comments: bool = True) -> str:
    """Assembly text of an instruction stream; with ``comments`` each line ends with its
    index. A word that does not decode raises AsmError naming its index."""
    size = INSN_BITS // 8
    if len(data) % size:
        raise AsmError(f"an instruction stream must be a multiple of {size} bytes, "
                       f"not {len(data)}")
    lines = []
    for k in range(0, len(data), size):
        try:
            insn = I.decode(int.from_bytes(data[k : k + size], "little"), cfg)
        except EncodingError as err:
            raise AsmError(f"instruction {k // size}: {err}") from None
        text = format_insn(insn)
        lines.append(f"{text:<72} # {k // size}" if comments else text)
    return "\n".join(lines) + ("\n" if lines else "")


def disassemble_uops(data: bytes, cfg: HwConfig) -> str:
    """Assembly text of micro-op words."""
    size = UOP_BITS // 8
    if len(data) % size:
        raise AsmError(f"micro-op words must be a multiple of {size} bytes, not {len(data)}")
    words = [int.from_bytes(data[k : k + size], "little") for k in range(0, len(data), size)]
    return "".join(format_uop(I.decode_uop(w, cfg)) + "\n" for w in words)


# --------------------------------------------------------------------------- parsing
def _value(lineno: int, key: str, text: str) -> int:
    if not _INT.match(text):
        raise AsmError(f"line {lineno}: {key} must be an integer, not {text!r}")
    sign, digits = (-1, text[1:]) if text.startswith("-") else (1, text)
    return sign * (int(digits, 16) if digits.lower().startswith("0x") else int(digits, 10))


def _enum(lineno: int, what: str, enum: type[Any], words: list[str], mnemonic: str) -> Any:
    names = [e.name for e in enum]
    if not words:
        raise AsmError(f"line {lineno}: {mnemonic} needs {what} (one of {', '.join(names)})")
    word = words.pop(0).upper()
    if word not in names:
        raise AsmError(f"line {lineno}: {mnemonic} {what} must be one of {', '.join(names)}, "
                       f"not {word!r}")
    return enum[word]


def parse_line(lineno: int, line: str, cfg: HwConfig) -> I.Insn | I.Uop | None:
    """One statement (None for a blank or comment line); range checked against ``cfg``."""
    words = re.split(r"\s+", re.split(r"[#;]", line, maxsplit=1)[0].strip())
    if words == [""]:
        return None
    mnemonic = words.pop(0).upper()
    kwargs: dict[str, Any] = {}
    if mnemonic == "UOP":
        cls: type[Any] = I.Uop
    elif mnemonic in _CLASSES:
        cls = _CLASSES[mnemonic]
        if mnemonic in ("LOAD", "STORE"):
            kwargs["store"] = mnemonic == "STORE"
            kwargs["mem_type"] = _enum(lineno, "a memory type", I.MemType, words, mnemonic)
        elif mnemonic == "ALU":
            kwargs["alu_op"] = _enum(lineno, "an operation", I.AluOp, words, mnemonic)
    else:
        raise AsmError(f"line {lineno}: mnemonic must be one of "
                       f"{', '.join([*_CLASSES, 'UOP'])}, not {mnemonic!r}")
    defaults = _defaults(cls)
    for word in words:
        key, eq, text = word.partition("=")
        if key not in defaults or key in ("store", "mem_type", "alu_op"):
            known = [k for k in defaults if k not in ("store", "mem_type", "alu_op")]
            raise AsmError(f"line {lineno}: {mnemonic} has no field {key!r}; "
                           f"it has {', '.join(known)}")
        if key in kwargs:
            raise AsmError(f"line {lineno}: {key} is given twice")
        if isinstance(defaults[key], bool):
            if eq:
                raise AsmError(f"line {lineno}: {key} is a flag: write it bare, not {word!r}")
            kwargs[key] = True
        else:
            if not eq:
                raise AsmError(f"line {lineno}: {key} needs a value ({key}=N)")
            kwargs[key] = _value(lineno, key, text)
    item = cls(**kwargs)
    try:
        if isinstance(item, I.Uop):
            I.encode_uop(item, cfg)
        else:
            I.encode(item, cfg)
    except EncodingError as err:
        raise AsmError(f"line {lineno}: {err}") from None
    return item


def parse(text: str, cfg: HwConfig) -> AsmProgram:
    """Parse assembly text into instructions and micro-ops (each checked against ``cfg``)."""
    insns: list[I.Insn] = []
    uops: list[I.Uop] = []
    for lineno, line in enumerate(text.splitlines(), start=1):
        item = parse_line(lineno, line, cfg)
        if isinstance(item, I.Uop):
            uops.append(item)
        elif item is not None:
            insns.append(item)
    return AsmProgram(tuple(insns), tuple(uops))


def assemble(text: str, cfg: HwConfig) -> bytes:
    """The instruction stream of assembly ``text`` (micro-op lines are ignored: use
    ``parse(...).uop_bytes``)."""
    return parse(text, cfg).insn_bytes(cfg)
