"""`tessera tune MODEL.onnx --target llvm --trials N --db tuning.db`: auto-tune a model's
operators, storing every measurement in the tuning database, with a live progress table and
a plot of best-so-far throughput against trials."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from rich.console import Console
from rich.live import Live
from rich.table import Table

from tessera.compiler.errors import CompileError


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("tune", help="auto-tune a model's operators into a tuning database")
    p.add_argument("model", help="ONNX model file")
    p.add_argument("--target", default="llvm", choices=("llvm", "vta"),
                   help="what to tune for (default: llvm)")
    p.add_argument("--trials", type=int, default=64, help="measurements per task (default 64)")
    p.add_argument("--db", default="tuning.db", help="SQLite tuning database (default: "
                   "tuning.db); a run started again continues where it stopped")
    p.add_argument("--strategy", default="xgb", choices=("xgb", "random"),
                   help="search: XGBoost-guided annealing or random (default: xgb)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--batch", type=int, default=8, help="candidates per round (default 8)")
    p.add_argument("--threads", type=int, default=2, help="threads per kernel (default 2)")
    p.add_argument("--timeout", type=float, default=30.0,
                   help="seconds per candidate before it counts as hung (default 30)")
    p.add_argument("--parallel", type=int, default=1, help="local measuring processes")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="measure on a Dask cluster (tcp://host:8786) instead of locally")
    p.add_argument("--minutes", type=float, help="stop after this much wall time")
    p.add_argument("--plot", metavar="PNG", help="best-so-far plot (default: DB.png)")
    p.add_argument("--device", default="fsim", choices=("fsim", "rtl-fast"),
                   help="vta: where cycles are measured (default: fsim's cycle model)")
    p.add_argument("--hw-config", default="default", choices=("default", "small"),
                   help="vta: accelerator configuration (default: default)")
    p.add_argument("--import-jsonl", metavar="FILE", help="add the records of a JSON-lines "
                   "export to the database first (what another machine or run measured)")
    p.add_argument("--export-jsonl", metavar="FILE", help="write every record of the "
                   "database as JSON lines at the end")
    p.add_argument("--input-shape", action="append", default=[], metavar="NAME=DxDx...",
                   help="static shape of a graph input (repeatable)")
    p.set_defaults(func=run)


def _table(rows: list[list[str]]) -> Table:
    t = Table(title="tessera tune")
    for col in ("task", "weight", "trials", "best", "GFLOPS", "vs untuned", "errors"):
        t.add_column(col, justify="left" if col == "task" else "right")
    for r in rows:
        t.add_row(*r)
    return t


def run(args: argparse.Namespace) -> int:
    from tessera.compiler.autotune import Database, LocalRunner, MeasureOptions
    from tessera.compiler.autotune.extract import extract_tasks
    from tessera.compiler.autotune.plot import plot_best_so_far
    from tessera.compiler.autotune.tuner import TuneResult, tune_tasks
    from tessera.compiler.cli.compile import parse_shape

    if args.trials < 1:
        raise CompileError(f"tune: --trials must be at least 1, not {args.trials}")
    console = Console(stderr=True)
    shapes = dict(parse_shape(s) for s in args.input_shape)
    weighted = extract_tasks(args.model, args.target, shapes or None, args.hw_config,
                             args.device)
    if not weighted:
        console.print("no tunable operators in the model")
        return 0
    opts = MeasureOptions(timeout_s=args.timeout, threads=args.threads)
    if args.scheduler:
        from tessera.compiler.autotune.dask_runner import DaskRunner

        runner = DaskRunner(args.scheduler, opts)
    else:
        runner = LocalRunner(opts, n_parallel=args.parallel)
    deadline = time.monotonic() + 60 * args.minutes if args.minutes else None
    rows = [[str(w.task)[:48], str(w.weight), f"0/{args.trials}", "-", "-", "-", "0"]
            for w in weighted]
    results: list[TuneResult] = []

    def update(k: int, res: TuneResult) -> None:
        best = res.best_cost
        speed = (f"{res.default_cost / best:.2f}x" if best and res.default_cost else "-")
        cycles = res.task.target == "vta"
        shown = (f"{best:.0f} cyc" if cycles else f"{best * 1e3:.3f} ms") if best else "-"
        rows[k] = [rows[k][0], rows[k][1], f"{res.trials}/{args.trials}", shown,
                   f"{res.task.flops / best / 1e9:.1f}" if best and not cycles else "-", speed,
                   str(sum(res.errors.values()))]
        live.update(_table(rows))

    try:
        with Database(args.db) as db:
            if args.import_jsonl:
                n = db.import_jsonl(args.import_jsonl)
                console.print(f"imported {n} records from {args.import_jsonl}")
            with Live(_table(rows), console=console, refresh_per_second=4) as live:
                results = tune_tasks([w.task for w in weighted], runner, db, args.trials,
                                     args.strategy, args.seed, args.batch, update, deadline)
            if args.export_jsonl:
                n = db.export_jsonl(args.export_jsonl)
                console.print(f"exported {n} records to {args.export_jsonl}")
    finally:
        runner.close()
    plot = Path(args.plot) if args.plot else Path(args.db).with_suffix(".png")
    plot_best_so_far(results, plot, title=f"tessera tune {Path(args.model).name}")
    total = sum(w.weight * (r.best_cost or 0.0) for w, r in zip(weighted, results))
    unit = f"{total:.0f} cycles" if args.target == "vta" else f"{total * 1e3:.3f} ms"
    console.print(f"tuned {len(results)} tasks; weighted best total {unit}; "
                  f"database {args.db}; plot {plot}")
    target = "" if args.target == "llvm" else f" --target {args.target}"
    console.print(f"use it: tessera compile {args.model}{target} --tuning-db {args.db}  "
                  f"(or compile(..., tuning_db={str(args.db)!r}))", highlight=False,
                  markup=False)
    return 0
