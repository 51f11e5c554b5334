"""`tessera asm` and `tessera disasm`: accelerator assembly to binary and back.

    tessera asm prog.s -o prog.bin [--uops-out uops.bin] [--config small]
    tessera disasm prog.bin [--config small] [--no-comments]
    tessera disasm --uops uops.bin
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tessera.compiler.cli.hw_info import load_config
from tessera.hw import asm
from tessera.hw.errors import AsmError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("asm", help="assemble accelerator assembly into an instruction stream")
    p.add_argument("source", help="assembly file (.s)")
    p.add_argument("-o", "--output", help="instruction stream to write (default: SOURCE.bin)")
    p.add_argument("--uops-out", help="where to write the UOP lines' micro-op words")
    p.add_argument("--config", default="default", help="preset name or a HwConfig JSON file")
    p.set_defaults(func=run_asm)
    d = sub.add_parser("disasm", help="disassemble an instruction stream (or micro-op words)")
    d.add_argument("binary", help="instruction stream (16 bytes per instruction)")
    d.add_argument("--uops", action="store_true", help="the file holds micro-op words")
    d.add_argument("--no-comments", action="store_true", help="omit the index comments")
    d.add_argument("--config", default="default", help="preset name or a HwConfig JSON file")
    d.set_defaults(func=run_disasm)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as err:
        raise AsmError(f"cannot read {path}: {err.strerror}") from None


def run_asm(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    try:
        prog = asm.parse(_read(args.source).decode("utf-8", errors="replace"), cfg)
    except AsmError as err:
        raise AsmError(f"{args.source}: {err}") from None
    out = Path(args.output or Path(args.source).with_suffix(".bin"))
    if prog.uops and not args.uops_out:
        raise AsmError(f"{args.source} has {len(prog.uops)} UOP lines: give --uops-out FILE")
    out.write_bytes(prog.insn_bytes(cfg))
    if args.uops_out:
        Path(args.uops_out).write_bytes(prog.uop_bytes(cfg))
    sys.stderr.write(f"{out}: {len(prog.insns)} instructions")
    sys.stderr.write(f", {args.uops_out}: {len(prog.uops)} micro-ops\n" if args.uops_out
                     else "\n")
    return 0


def run_disasm(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    data = _read(args.binary)
    if args.uops:
        text = asm.disassemble_uops(data, cfg)
    else:
        text = asm.disassemble(data, cfg, comments=not args.no_comments)
    sys.stdout.write(text)
    return 0
