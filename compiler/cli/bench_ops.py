"""`tessera bench-ops`: run the CPU operator benchmark and print a table (or JSON)."""

from __future__ import annotations

import argparse
import json
import sys

from rich.console import Console
from rich.table import Table


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench-ops", help="benchmark CPU operators against numpy/onnxruntime")
    p.add_argument("--quick", action="store_true",
                   help="small sizes (matmul 256, conv2d 1x64x28x28; well under a minute)")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    p.add_argument("--json", action="store_true", help="print the JSON records instead")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from tessera.compiler.ops.bench import run_benchmark

    err = Console(stderr=True)
    threads = [int(t) for t in args.threads.split(",") if t]
    with err.status("benchmarking") as status:
        records = run_benchmark(quick=args.quick, threads_list=threads,
                                progress=lambda m: status.update(f"benchmarking {m}"))
    if args.json:
        json.dump(records, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 0
    table = Table(title="Tessera CPU operators vs references")
    for col in ("op", "shape", "threads", "tessera GFLOPS", "reference", "ref GFLOPS", "ratio",
                "CPU-time ratio"):
        table.add_column(col, justify="right" if col not in ("op", "reference") else "left")
    for r in records:
        table.add_row(r["op"], "x".join(str(d) for d in r["shape"]), str(r["threads"]),
                      f"{r['tessera_gflops']:.1f}", r["reference"],
                      f"{r['reference_gflops']:.1f}", f"{r['ratio']:.2f}",
                      f"{r['cpu_ratio']:.2f}" if "cpu_ratio" in r else "-")
    out = Console()
    out.print(table)
    if records:
        meta = records[0]
        launch = ", ".join(f"{t} threads {us:.1f} us"
                           for t, us in meta["parallel_launch_us"].items())
        out.print(f"parallel region launch: {launch}; CPU {meta['machine']['cpu']} "
                  f"({', '.join(meta['machine']['cpu_flags'])}); load average "
                  f"{meta['machine']['load_average'][0]} (CPU-time ratios hold on a busy "
                  f"machine)")
    return 0
