"""`tessera hw-info`: print an accelerator configuration and its instruction encoding."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from tessera.hw import HwConfig
from tessera.hw import isa as I


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("hw-info", help="show an accelerator configuration and its ISA layout")
    p.add_argument("--config", default="default", help="preset name or a HwConfig JSON file")
    p.set_defaults(func=run)


def load_config(spec: str) -> HwConfig:
    """A preset name (``default``, ``small``) or the path of a HwConfig JSON file."""
    if spec.endswith(".json"):
        return HwConfig.load(spec)
    return HwConfig.named(spec)


def run(args: argparse.Namespace) -> int:
    cfg = load_config(args.config)
    console = Console()
    table = Table(title=f"HwConfig {cfg.name!r} ({cfg.key()})")
    table.add_column("buffer")
    table.add_column("entries", justify="right")
    table.add_column("entry bytes", justify="right")
    table.add_column("KiB", justify="right")
    for kind in ("uop", "inp", "wgt", "acc", "out"):
        table.add_row(
            kind, str(cfg.depth(kind)), str(cfg.entry_bytes(kind)),
            f"{cfg.buffer_bytes(kind) / 1024:g}",
        )
    console.print(table)
    console.print(
        f"GEMM core {cfg.batch}x{cfg.block_in}x{cfg.block_out}: {cfg.macs_per_cycle} MACs/cycle, "
        f"{cfg.peak_gops:.1f} GOPS peak at {cfg.clock_mhz:g} MHz; DRAM bus {cfg.dram_bus_bits} "
        f"bits, read latency {cfg.dram_read_latency} cycles"
    )
    enc = Table(title="Instruction layouts (LSB first)")
    enc.add_column("opcode")
    enc.add_column("fields")
    for op in I.Opcode:
        enc.add_row(
            op.name, " ".join(f"{f.name}[{f.width}]" for f in I.insn_layout(cfg, op))
        )
    enc.add_row("uop", " ".join(f"{f.name}[{f.width}]" for f in I.uop_layout(cfg)))
    console.print(enc)
    return 0
