"""Whole-model latency: Tessera (target llvm) against onnxruntime, in the same run.

Prints one JSON document on stdout: ``{"records": [{"model", "threads", "tessera_ms",
"onnxruntime_ms", "ratio", ...}], "machine", "versions", ...}`` with ratio =
onnxruntime_ms / tessera_ms (above 1: Tessera is faster). Medians over ``--repeat`` rounds in
which the two runtimes alternate in blocks (an untimed run, three timed runs, a pause), so
machine load affects both alike and neither is timed right after the other
(``ops.bench.interleaved_medians`` says why). Models:
a ResNet-18 (1x3x224x224) built by scripts/build_resnet18.py, and resnet50 from onnx's light
model set. Logs go to stderr.

    python scripts/bench_models.py [--repeat 10] [--threads 1,2] [--models resnet18,resnet50]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
from threadpoolctl import threadpool_limits

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_resnet18 import build_resnet18  # noqa: E402

from tessera.compiler import compile  # noqa: E402
from tessera.compiler.ops.bench import interleaved_medians  # noqa: E402
from tessera.runtime.hostinfo import machine, versions  # noqa: E402

log = logging.getLogger("bench_models")
LIGHT = Path(os.path.dirname(onnx.__file__)) / "backend" / "test" / "data" / "light"


def load_model(name: str) -> onnx.ModelProto:
    if name == "resnet18":
        return build_resnet18(seed=0)
    return onnx.load(str(LIGHT / f"light_{name}.onnx"))


def data_input(model: onnx.ModelProto) -> tuple[str, list[int]]:
    inits = {i.name for i in model.graph.initializer}
    vi = next(i for i in model.graph.input if i.name not in inits)
    return vi.name, [d.dim_value for d in vi.type.tensor_type.shape.dim]


def bench(name: str, threads: int, repeat: int) -> dict[str, Any]:
    model = load_model(name)
    inp, shape = data_input(model)
    x = np.random.default_rng(0).uniform(0, 1, shape).astype(np.float32)
    t0 = time.perf_counter()
    compiled = compile(model, target="llvm")
    compile_s = time.perf_counter() - t0
    compiled.module.num_threads = threads
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.log_severity_level = 3
    sess = ort.InferenceSession(model.SerializeToString(), opts)
    with threadpool_limits(limits=threads):
        got = compiled.run({inp: x})
        ref = sess.run(None, {inp: x})
        t_s, o_s = interleaved_medians(lambda: compiled.run({inp: x}),
                                       lambda: sess.run(None, {inp: x}), rounds=repeat,
                                       threads=threads)
        t_ms, o_ms = t_s * 1e3, o_s * 1e3
    info = compiled.info()
    by = info["ops_by_strategy"]
    from tessera.compiler.ops.parallel_probe import probe_for

    record = {
        "model": name, "threads": threads, "parallel_probe": dict(probe_for(threads).stats),
        "tessera_ms": round(t_ms, 3),
        "onnxruntime_ms": round(o_ms, 3), "ratio": round(o_ms / t_ms, 4),
        "max_abs_diff": float(np.max(np.abs(got[0] - ref[0]))),
        "compile_s": round(compile_s, 2),
        "nodes_compiled": sum(n for k, c in by.items() if k != "numpy" for n in c.values()),
        "nodes_numpy": sum(by.get("numpy", {}).values()),
        "ops_by_strategy": by,
    }
    log.warning("%s", json.dumps({k: v for k, v in record.items() if k != "ops_by_strategy"}))
    return record


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=7, help="rounds of 3 timed runs")
    ap.add_argument("--threads", default=f"1,{os.cpu_count() or 1}")
    ap.add_argument("--models", default="resnet18,resnet50")
    args = ap.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(message)s")
    threads = sorted({int(t) for t in args.threads.split(",")})
    records = [bench(m, t, args.repeat) for m in args.models.split(",") for t in threads]
    doc = {"benchmark": "models", "repeat": args.repeat,
           "timing": "ops.bench.interleaved_medians", "records": records,
           "machine": machine(),
           "versions": versions("onnx", "onnxruntime", "llvmlite")}
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
