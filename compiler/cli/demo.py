"""`tessera demo`: the digits CNN compiled for the accelerator, end to end.

Compiles the shipped digits CNN for the CPU (float) and for the accelerator (int8, calibrated
on training images), runs the whole test split on ``rtl-fast`` (the cycle-accurate RTL under
Verilator; ``fsim`` where the RTL cannot be built), cross-checks a sample of images bit for bit
between fsim and the RTL, and prints accuracies, cycles, images per second at the
configuration's clock and the per-layer profile. Progress goes to stderr.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

log = logging.getLogger(__name__)


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("demo", help="digits CNN on the accelerator: accuracy, cycles, profile")
    p.add_argument("--device", default="auto", choices=["auto", "rtl-fast", "fsim", "rtl"],
                   help="accelerator device (auto: rtl-fast, else fsim)")
    p.add_argument("--images", type=int, default=0, help="test images to run (0: all 450)")
    p.add_argument("--check", type=int, default=8,
                   help="images cross-checked bit for bit between fsim and the RTL")
    p.add_argument("--calibration", type=int, default=100, help="training images to calibrate")
    p.add_argument("--json", metavar="FILE", help="write the results as JSON")
    p.add_argument("--chrome-trace", metavar="FILE", help="write a Chrome trace of one image")
    p.set_defaults(func=run)


def pick_device(name: str, cfg: Any, err: Console) -> tuple[str, str]:
    """(device, note): rtl-fast where it builds, else fsim."""
    import tessera.runtime as rt
    from tessera.hw.errors import TesseraError

    if name != "auto":
        return name, ""
    try:
        err.print("[dim]preparing the RTL simulator (the first build takes a minute or two)")
        rt.device("rtl-fast", cfg=cfg).close()
    except (TesseraError, OSError) as e:
        return "fsim", f"rtl-fast unavailable ({e}); using fsim"
    return "rtl-fast", ""


def demo(args: argparse.Namespace, out: Console, err: Console) -> dict[str, Any]:
    from tessera.compiler import compile
    from tessera.compiler.models import digits_model_path, digits_split
    from tessera.compiler.partition.flow import AccelModel
    from tessera.hw.config import HwConfig
    from tessera.runtime.accel_exec import AccelStep, retarget, shared_device
    from tessera.runtime.executor import GraphModule
    from tessera.runtime.profile import accel_cycles_of_last_run, profile_module, step_values

    started = time.perf_counter()
    cfg = HwConfig.default()
    xtr, xte, _, yte = digits_split()
    n = len(xte) if args.images <= 0 else min(args.images, len(xte))
    device, note = pick_device(args.device, cfg, err)
    if note:
        err.print(f"[yellow]{note}")
    path = str(digits_model_path())
    float_model = compile(path, target="llvm")
    calib = [{"x": xtr[i:i + 1]} for i in range(min(args.calibration, len(xtr)))]
    model = compile(path, target="vta", device=device, calibration=calib, cfg=cfg)
    assert isinstance(model, AccelModel)
    float_ok = int_ok = 0
    cycles: list[int] = []
    wall0 = time.perf_counter()
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task(f"{n} test images on {device}", total=n)
        for i in range(n):
            x = {"x": xte[i:i + 1]}
            float_ok += int(float_model.run(x)[0].argmax() == yte[i])
            int_ok += int(model.run(x)[0].argmax() == yte[i])
            cycles.append(accel_cycles_of_last_run(model.module))
            bar.advance(task)
    run_s = time.perf_counter() - wall0
    # bit-exact cross-check: every step's output on fsim against the RTL device
    rtl = device if device != "fsim" else None
    checked, mismatches = 0, []
    if rtl is not None and args.check > 0:
        plan, consts, code = model.module.plan, model.module.constants, model.module.code
        on_fsim = GraphModule(retarget(plan, "fsim"), consts, code)
        on_rtl = GraphModule(retarget(plan, rtl), consts, code)
        for k in on_rtl._kernels:
            if isinstance(k, AccelStep):
                k.bind(shared_device(rtl, cfg))
        for i in range(min(args.check, n)):
            a = step_values(on_fsim, {"x": xte[i:i + 1]})
            b = step_values(on_rtl, {"x": xte[i:i + 1]})
            bad = [v for v in a if not np.array_equal(a[v], b[v])]
            mismatches += [f"image {i}: {v}" for v in bad]
            checked += 1
    from tessera.compiler.quant import accuracy_report, report_table

    qrows = accuracy_report(model.float_graph, model.qgraph, calib[:20]) if model.qgraph \
        else []
    prof = profile_module(model.module, {"x": xte[:1]})
    if args.chrome_trace:  # unit busy/stall intervals come from fsim's timeline
        plan, consts, code = model.module.plan, model.module.constants, model.module.code
        fsim_module = GraphModule(retarget(plan, "fsim"), consts, code)
        profile_module(fsim_module, {"x": xte[:1]}).save_trace(args.chrome_trace)
    per_image = float(np.mean(cycles)) if cycles else 0.0
    result = {
        "model": "digits", "device": device, "images": n,
        "float_accuracy": float_ok / n, "int8_accuracy": int_ok / n,
        "bit_exact": {"against": "fsim", "device": rtl, "images": checked,
                      "mismatches": mismatches, "ok": rtl is not None and checked > 0
                      and not mismatches},
        "total_cycles": int(sum(cycles)), "cycles_per_image": per_image,
        "clock_mhz": cfg.clock_mhz,
        "images_per_s_at_clock": cfg.clock_mhz * 1e6 / per_image if per_image else 0.0,
        "utilization": prof.utilization(cfg), "run_wall_s": run_s,
        "wall_s": time.perf_counter() - started, "notes": [*model.notes, *([note] if note
                                                                          else [])],
        "profile": prof.to_json(),
        "quantization": [r.to_dict() for r in qrows],
    }
    out.print(report_table(qrows, "quantization: error per layer on calibration images"))
    _print(out, result, model.partition_text(), prof.table())
    return result


def _print(out: Console, r: dict[str, Any], partition: str, table: Table) -> None:
    out.print(partition, highlight=False, markup=False)
    out.print(table)
    t = Table(title="tessera demo: digits CNN on the accelerator", show_header=False)
    t.add_column("what")
    t.add_column("value", justify="right")
    be = r["bit_exact"]
    exact = (f"{'yes' if be['ok'] else 'NO'}: {be['images']} images, every step, fsim vs "
             f"{be['device']}" if be["device"] else "skipped (no RTL device)")
    rows = [
        ("device", r["device"]), ("test images", str(r["images"])),
        ("float accuracy (CPU)", f"{r['float_accuracy']:.2%}"),
        ("int8 accuracy (accelerator)", f"{r['int8_accuracy']:.2%}"),
        ("bit-exact fsim vs RTL", exact),
        ("total accelerator cycles", f"{r['total_cycles']:,}"),
        ("cycles per image", f"{r['cycles_per_image']:,.0f}"),
        (f"images/s at {r['clock_mhz']:.0f} MHz", f"{r['images_per_s_at_clock']:,.0f}"),
        ("accelerator utilization", f"{r['utilization']:.1%}"),
        ("wall time", f"{r['wall_s']:.1f} s"),
    ]
    for a, b in rows:
        t.add_row(a, b)
    out.print(t)
    for note in r["notes"]:
        out.print(f"note: {note}", highlight=False)


def run(args: argparse.Namespace) -> int:
    out, err = Console(width=120), Console(stderr=True)
    result = demo(args, out, err)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))
    return 0 if result["bit_exact"]["ok"] or result["bit_exact"]["device"] is None else 1
