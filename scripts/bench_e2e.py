"""End-to-end benchmark of the int8 models on the accelerator devices.

Prints one JSON list on stdout: per (model, device) ``{"model", "device", "cycles",
"wall_s", "cycles_per_s", "utilization", "layers": [...]}`` plus what the record rests on
(accelerator-only wall time, repeats, the fsim reference measured in the same run and the
ratio, the published tsim anchor, machine and library versions). ``wall_s`` is the median
wall time of one whole inference (CPU steps included) after a warm-up run; ``cycles`` the
accelerator cycles of one inference; ``cycles_per_s`` the simulated accelerator cycles per
second of the accelerator steps' own wall time.

Anchor: VTA's tsim (Chisel RTL under Verilator) took 228 s for ResNet-18 where its functional
simulator took about 1 s; the bar here is ResNet-18 int8 on the cycle-accurate RTL in under
20 s.

    python scripts/bench_e2e.py [--models digits,resnet18] [--devices rtl-fast,fsim]
                                [--repeat 3] [--size 224]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from tessera.runtime.hostinfo import machine, versions

HERE = Path(__file__).resolve().parent
TSIM_RESNET18_S = 228.0
BAR_S = 20.0
log = logging.getLogger("bench_e2e")


def model_and_data(name: str, size: int) -> tuple[Any, list[dict[str, np.ndarray]],
                                                   dict[str, np.ndarray]]:
    if name == "digits":
        from tessera.compiler.models import digits_model_path, digits_split

        xtr, xte, _, _ = digits_split()
        return (str(digits_model_path()), [{"x": xtr[i:i + 1]} for i in range(100)],
                {"x": xte[:1]})
    sys.path.insert(0, str(HERE))
    from build_resnet18 import build_resnet18

    rng = np.random.default_rng(0)

    def blob() -> np.ndarray:  # random image with low-frequency structure
        low = np.kron(rng.normal(size=(1, 3, 4, 4)), np.ones((-(-size // 4),) * 2))
        return (low[:, :, :size, :size] + 0.3 * rng.normal(size=(1, 3, size, size))
                ).astype(np.float32)

    return build_resnet18(seed=0), [{"data": blob()} for _ in range(2)], {"data": blob()}


def bench(model: Any, device: str, cal: list[dict[str, np.ndarray]],
          feeds: dict[str, np.ndarray], repeat: int, name: str) -> dict[str, Any]:
    from tessera.compiler import compile
    from tessera.runtime.accel_exec import AccelStep
    from tessera.runtime.profile import profile_module

    t0 = time.perf_counter()
    shapes = {k: v.shape for k, v in feeds.items()}
    m = compile(model, target="vta", device=device, calibration=cal, input_shapes=shapes)
    compile_s = time.perf_counter() - t0
    out = m.run(feeds)[0]  # warm-up: loads every kernel's region onto the device
    walls, accel_walls = [], []
    cycles = 0
    for _ in range(repeat):
        prof = profile_module(m.module, feeds, timeline=False)
        walls.append(sum(lp.wall_s for lp in prof.layers))
        accel_walls.append(sum(lp.wall_s for lp in prof.layers if lp.where == "vta"))
        cycles = prof.accel_cycles
    cfg = next(k.kernel.cfg for k in m.module._kernels if isinstance(k, AccelStep))
    wall = statistics.median(walls)
    accel_wall = statistics.median(accel_walls)
    log.info("%s on %s: %d cycles, %.2f s", name, device, cycles, wall)
    return {
        "model": name, "device": device, "cycles": int(cycles), "wall_s": wall,
        "cycles_per_s": cycles / accel_wall if accel_wall else 0.0,
        "utilization": prof.utilization(cfg),
        "layers": [{k: v for k, v in lp.record().items() if k != "timeline"}
                   for lp in prof.layers if lp.where == "vta"],
        "accel_wall_s": accel_wall, "cpu_wall_s": wall - accel_wall, "repeat": repeat,
        "compile_s": compile_s, "clock_mhz": cfg.clock_mhz,
        "output_sha256": hashlib.sha256(np.ascontiguousarray(out).tobytes()).hexdigest(),
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description="end-to-end int8 benchmark on the accelerator")
    p.add_argument("--models", default="digits,resnet18")
    p.add_argument("--devices", default="rtl-fast,fsim")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--size", type=int, default=224, help="ResNet-18 input size")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(levelname)s %(name)s: %(message)s")
    info = {**machine(), "versions": versions("onnx", "llvmlite")}
    records = []
    for name in a.models.split(","):
        model, cal, feeds = model_and_data(name, a.size)
        rows = {d: bench(model, d, cal, feeds, a.repeat, name) for d in a.devices.split(",")}
        ref = rows.get("fsim")
        for dev, r in rows.items():
            r["reference"] = {"device": "fsim", "wall_s": ref["wall_s"] if ref else None,
                              "ratio_wall_vs_fsim": r["wall_s"] / ref["wall_s"] if ref
                              else None,
                              "same_output_as_fsim": (r["output_sha256"]
                                                      == ref["output_sha256"]) if ref
                              else None}
            if name == "resnet18" and dev != "fsim":
                r["anchor"] = {"tsim_s": TSIM_RESNET18_S, "bar_s": BAR_S,
                               "speedup_vs_tsim": TSIM_RESNET18_S / r["wall_s"],
                               "under_bar": r["wall_s"] < BAR_S, "input_size": a.size}
            r["machine"] = info
            records.append(r)
    json.dump(records, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
