"""`tessera profile MODEL`: the per-layer profile of a model on the accelerator.

MODEL is a ``.tsr`` artifact compiled for ``vta`` or an ONNX file (compiled here for ``vta``,
calibrated on ``--calibration`` samples, else on random inputs with a warning). Prints the
per-layer table; ``--json``, ``--chrome-trace`` (Perfetto / chrome://tracing) and ``--png``
(one layer's unit timeline with ``--layer``, else the model's steps) write files;
``--trace LAYER`` records that layer's waveform on the RTL (``--waves vcd|fst``).
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console

from tessera.compiler.cli.run import read_npy_arg
from tessera.compiler.errors import CompileError

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("profile", help="per-layer profile of a model on the accelerator")
    p.add_argument("model", help=".tsr artifact (target vta) or ONNX model")
    p.add_argument("--device", default="fsim", choices=["fsim", "rtl", "rtl-fast"],
                   help="accelerator device (default fsim: it records unit timelines)")
    p.add_argument("--input", action="append", default=[], metavar="NAME=FILE.npy",
                   help="an input (default: uniform random in [0, 1))")
    p.add_argument("--calibration", action="append", default=[], metavar="NAME=FILE.npy",
                   help="calibration samples (first axis: samples) for an ONNX model")
    p.add_argument("--json", metavar="FILE", help="write the profile as JSON")
    p.add_argument("--chrome-trace", metavar="FILE", help="write Chrome trace events")
    p.add_argument("--png", metavar="FILE", help="write a timeline PNG")
    p.add_argument("--layer", help="layer for --png (default: the whole model)")
    p.add_argument("--trace", metavar="LAYER", help="record LAYER's waveform on the RTL")
    p.add_argument("--waves", default="vcd", choices=["vcd", "fst"], help="waveform format")
    p.set_defaults(func=run)


def _npy(spec: str, what: str) -> tuple[str, np.ndarray]:
    return read_npy_arg(spec, what, CompileError)


def _random_feeds(inputs: list[dict[str, Any]], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {i["name"]: rng.random(i["shape"]).astype(i["dtype"]) for i in inputs}


def load_module(args: argparse.Namespace, err: Console) -> Any:
    if args.model.endswith(".tsr"):
        from tessera.runtime.artifact import load

        return load(args.model, device=args.device)
    from tessera.compiler import compile
    from tessera.compiler.frontend import import_onnx

    graph = import_onnx(args.model)
    specs = [{"name": i, "shape": list(graph.types[i].shape), "dtype": graph.types[i].dtype}
             for i in graph.inputs]
    calib: list[dict[str, np.ndarray]]
    if args.calibration:
        arrays = dict(_npy(s, "--calibration") for s in args.calibration)
        count = min(len(a) for a in arrays.values())
        calib = [{k: a[j:j + 1] for k, a in arrays.items()} for j in range(count)]
    else:
        err.print("[yellow]no --calibration given: calibrating on 8 random inputs in [0, 1)")
        calib = [_random_feeds(specs, seed) for seed in range(8)]
    return compile(graph, target="vta", device=args.device, calibration=calib).module


def run(args: argparse.Namespace) -> int:
    from tessera.runtime.profile import profile_module

    out, err = Console(width=140), Console(stderr=True)
    module = load_module(args, err)
    feeds = dict(_npy(s, "--input") for s in args.input) or _random_feeds(module.inputs, 0)
    prof = profile_module(module, feeds)
    out.print(prof.table())
    out.print(f"accelerator: {prof.accel_cycles:,} cycles, {prof.accel_macs:,} MACs",
              highlight=False)
    if args.json:
        Path(args.json).write_text(json.dumps(prof.to_json(), indent=1))
    if args.chrome_trace:
        prof.save_trace(args.chrome_trace)
        out.print(f"wrote {args.chrome_trace} (open in https://ui.perfetto.dev or "
                  "chrome://tracing)", highlight=False)
    if args.png:
        prof.save_png(args.png, layer=args.layer)
        out.print(f"wrote {args.png}", highlight=False)
    if args.trace:
        path = trace_layer(module, feeds, args.trace, args.waves)
        out.print(f"waveform of {args.trace}: {path}", highlight=False)
    return 0


def trace_layer(module: Any, feeds: dict[str, np.ndarray], layer: str, waves: str) -> Path:
    """Run one accelerator layer on the cocotb RTL device with a waveform; its path."""
    import tessera.runtime as rt
    from tessera.runtime.accel_exec import AccelStep
    from tessera.runtime.profile import step_values

    values = step_values(module, feeds)
    for step, kernel in zip(module.plan["steps"], module._kernels):
        if isinstance(kernel, AccelStep) and layer in (step.get("layer"), step["name"]):
            dev = rt.device("rtl", cfg=kernel.kernel.cfg)
            _, res = kernel.kernel.run(dev, {"data": values[step["inputs"][0]]}, waves=waves)
            if res.waveform is None:
                raise CompileError(f"the rtl device recorded no waveform for layer {layer!r}")
            return Path(res.waveform)
    names = [s.get("layer") or s["name"] for s, k in zip(module.plan["steps"], module._kernels)
             if isinstance(k, AccelStep)]
    raise CompileError(f"--trace layer must be one of the accelerator layers {names}, "
                       f"not {layer!r}")


def vta_options(args: argparse.Namespace, shapes: dict[str, tuple[int, ...]],
                err: Console) -> dict[str, Any]:
    """``compile(..., target="vta")`` keywords from ``--device`` and ``--calibration``."""
    from tessera.compiler.frontend import import_onnx

    if args.calibration:
        arrays = dict(_npy(s, "--calibration") for s in args.calibration)
        count = min(len(a) for a in arrays.values())
        calib = [{k: a[j:j + 1] for k, a in arrays.items()} for j in range(count)]
    else:
        graph = import_onnx(args.model, shapes or None)
        specs = [{"name": i, "shape": list(graph.types[i].shape),
                  "dtype": graph.types[i].dtype} for i in graph.inputs]
        err.print("[yellow]no --calibration given: calibrating on 8 random inputs in [0, 1)")
        calib = [_random_feeds(specs, seed) for seed in range(8)]
    return {"device": args.device, "calibration": calib}
