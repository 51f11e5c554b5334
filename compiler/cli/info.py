"""`tessera info OUT.tsr`: what an artifact holds and how each op runs (compiled or numpy)."""

from __future__ import annotations

import argparse

from rich.console import Console
from rich.table import Table

from tessera.runtime.artifact import load


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("info", help="describe a compiled .tsr artifact")
    p.add_argument("artifact", help=".tsr file from `tessera compile`")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    info = load(args.artifact).info()
    console = Console()
    console.print(f"[bold]{info['name']}[/bold] target {info['target']}: {info['nodes']} "
                  f"nodes in {info['steps']} steps, weights {info['weights_bytes']:,} bytes")
    io = Table(title="inputs and outputs")
    io.add_column("kind")
    io.add_column("name")
    io.add_column("type")
    for spec in info["inputs"]:
        io.add_row("input", spec["name"], f"{spec['dtype']}{spec['shape']}")
    for name in info["outputs"]:
        io.add_row("output", name, "")
    console.print(io)
    ops = Table(title="ops by kernel strategy (compiled code or numpy fallback)")
    ops.add_column("strategy")
    ops.add_column("op")
    ops.add_column("count", justify="right")
    for kind, counts in sorted(info["ops_by_strategy"].items()):
        for op, n in sorted(counts.items()):
            ops.add_row(kind, op, str(n))
    console.print(ops)
    mem = info["memory"]
    if mem:
        saved = 1 - mem["planned_bytes"] / mem["naive_bytes"] if mem["naive_bytes"] else 0.0
        console.print(
            f"memory plan: {mem['planned_bytes']:,} bytes in {mem['buffers']} buffers vs naive "
            f"{mem['naive_bytes']:,} bytes ({saved:.0%} saved)", highlight=False,
        )
    return 0
