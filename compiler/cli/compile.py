"""`tessera compile MODEL.onnx --target llvm -o OUT.tsr`: compile a model into an artifact."""

from __future__ import annotations

import argparse
from pathlib import Path

from rich.console import Console

from tessera.compiler.errors import CompileError
from tessera.compiler.graph.ir import Graph
from tessera.compiler.graph.printer import print_graph


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("compile", help="compile an ONNX model into a .tsr artifact")
    p.add_argument("model", help="ONNX model file")
    p.add_argument("--target", default="llvm", help="code generation target (default: llvm)")
    p.add_argument("-o", "--output", help="artifact path (default: MODEL.tsr)")
    p.add_argument(
        "--input-shape", action="append", default=[], metavar="NAME=DxDx...",
        help="static shape of a graph input, e.g. data=1x3x224x224 (repeatable)",
    )
    p.add_argument("--dump-graph", action="store_true", help="print the graph after each pass")
    p.add_argument("--kernels", choices=("auto", "compiled", "numpy"), default="auto",
                   help="tensor-compiler kernels where faster (auto), always, or numpy only")
    p.add_argument("--layout", choices=("auto", "NCHW", "NCHWc"), default="auto",
                   help="convolution layout (auto: blocked NCHWc where kernels are compiled)")
    p.add_argument("--device", default="fsim", help="vta: accelerator device (fsim, rtl, "
                   "rtl-fast)")
    p.add_argument("--calibration", action="append", default=[], metavar="NAME=FILE.npy",
                   help="vta: calibration samples (first axis: samples; default: 8 random)")
    p.add_argument("--tuning-db", metavar="DB",
                   help="build tunable operators with the best schedules this tuning database "
                        "(written by `tessera tune`) records for this hardware")
    p.add_argument("--dump-partition", action="store_true",
                   help="vta: print which steps run on the accelerator and which on the CPU")
    p.set_defaults(func=run)


def parse_shape(spec: str) -> tuple[str, tuple[int, ...]]:
    """``name=1x3x224x224`` -> (name, (1, 3, 224, 224))."""
    name, sep, dims = spec.rpartition("=")
    try:
        shape = tuple(int(d) for d in dims.lower().split("x"))
    except ValueError:
        shape = ()
    if not sep or not name or not shape or min(shape) <= 0:
        raise CompileError(
            f"--input-shape must look like NAME=1x3x224x224 (positive dims), not {spec!r}"
        )
    return name, shape


def _compiled_specs(plan: dict) -> list[dict]:
    return [spec for st in plan["steps"] for spec in st.get("compiled", {}).values()]


def run(args: argparse.Namespace) -> int:
    from tessera.compiler.build import compile

    console = Console()
    shapes = dict(parse_shape(s) for s in args.input_shape)

    def dump(name: str, graph: Graph) -> None:
        if args.dump_graph:
            console.rule(f"after {name}")
            console.print(print_graph(graph, max_consts=8), markup=False, highlight=False,
                          soft_wrap=True)

    if args.target == "vta":
        from tessera.compiler.cli.profile import vta_options

        model = compile(args.model, target="vta", input_shapes=shapes, after_pass=dump,
                        tuning_db=args.tuning_db,
                        **vta_options(args, shapes, Console(stderr=True)))
        from tessera.compiler.partition.flow import AccelModel

        if args.dump_partition and isinstance(model, AccelModel):
            console.print(model.partition_text(), markup=False, highlight=False)
        for note in getattr(model, "notes", []):
            console.print(f"note: {note}", markup=False, highlight=False)
    else:
        model = compile(args.model, target=args.target, input_shapes=shapes, after_pass=dump,
                        kernels=args.kernels, layout=args.layout, tuning_db=args.tuning_db)
    out = Path(args.output) if args.output else Path(args.model).with_suffix(".tsr")
    model.save(out)
    if args.tuning_db:
        tuned = [s["tuning"] for s in _compiled_specs(model.module.plan)
                 if s.get("tuning", {}).get("source") == "tuning database"]
        console.print(f"{len(tuned)} operators built with schedules from {args.tuning_db}",
                      highlight=False)
    info = model.info()
    mem = info["memory"]
    console.print(
        f"wrote {out}: {info['nodes']} nodes in {info['steps']} steps; memory planned "
        f"{mem.get('planned_bytes', 0):,} bytes vs naive {mem.get('naive_bytes', 0):,}",
        highlight=False,
    )
    return 0
