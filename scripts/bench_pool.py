"""MaxPool: the compiled kernel (the graph's llvm strategy) against the numpy reference kernel
and onnxruntime, on ResNet-18's stem pool (3x3, stride 2, pad 1 of 1x64x112x112) by default.

The three run interleaved (paired medians), at each thread count. Prints one JSON document on
stdout: ``{"records": [{"shape", "threads", "compiled_ms", "numpy_ms", "onnxruntime_ms",
"ratio_vs_numpy", "ratio_vs_onnxruntime"}], "loadavg", "machine"}`` with ratio = other_ms /
compiled_ms (above 1: the compiled kernel is faster).

    python scripts/bench_pool.py [--repeat 30] [--threads 1,2]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time

import numpy as np
import onnxruntime as ort
from onnx import TensorProto, helper

from tessera.compiler.graph.cpu_op_kernels import OP_BUILDERS
from tessera.compiler.graph.ir import Graph, Node, TensorType
from tessera.runtime.cpu.target import host_target
from tessera.runtime.reference import run_kernel

ATTRS = {"kernel_shape": [3, 3], "strides": [2, 2], "pads": [1, 1, 1, 1]}


def _graph(shape: tuple[int, ...], out: tuple[int, ...]) -> tuple[Node, Graph]:
    node = Node.make("pool", "MaxPool", ["x"], ["y"], ATTRS)
    types = {"x": TensorType(shape, "float32"), "y": TensorType(out, "float32")}
    return node, Graph(name="pool", nodes=(node,), inputs=("x",), outputs=("y",), types=types,
                       constants={})


def _ort(shape: tuple[int, ...], threads: int) -> ort.InferenceSession:
    g = helper.make_graph([helper.make_node("MaxPool", ["x"], ["y"], **ATTRS)], "pool",
                          [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
                          [helper.make_tensor_value_info("y", TensorProto.FLOAT, None)])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    return ort.InferenceSession(model.SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


def _time(fns: list, repeat: int) -> list[float]:
    for fn in fns:
        fn()
    times: list[list[float]] = [[] for _ in fns]
    for _ in range(repeat):
        for k, fn in enumerate(fns):
            t0 = time.perf_counter()
            fn()
            times[k].append(time.perf_counter() - t0)
    return [float(np.median(t)) * 1e3 for t in times]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--shape", default="1,64,112,112")
    args = ap.parse_args()
    shape = tuple(int(d) for d in args.shape.split(","))
    x = np.random.default_rng(0).standard_normal(shape).astype(np.float32)
    ref = run_kernel("MaxPool", [x], ATTRS)[0]
    node, graph = _graph(shape, ref.shape)
    made = OP_BUILDERS["MaxPool"](node, graph)
    if made is None:
        raise SystemExit(f"MaxPool {shape} {ATTRS}: no compiled kernel")
    kernel = made[0]
    out = np.empty(ref.shape, np.float32)
    kernel(x, out)
    np.testing.assert_array_equal(out, ref)
    records = []
    for th in (int(t) for t in args.threads.split(",")):
        kernel.num_threads = th
        sess = _ort(shape, th)
        ms = _time([lambda: kernel(x, out), lambda: run_kernel("MaxPool", [x], ATTRS),
                    lambda s=sess: s.run(None, {"x": x})], args.repeat)
        records.append({"shape": list(shape), **ATTRS, "threads": th,
                        "compiled_ms": round(ms[0], 4), "numpy_ms": round(ms[1], 4),
                        "onnxruntime_ms": round(ms[2], 4),
                        "ratio_vs_numpy": round(ms[1] / ms[0], 3),
                        "ratio_vs_onnxruntime": round(ms[2] / ms[0], 3)})
        print(records[-1], file=sys.stderr)
    print(json.dumps({"records": records, "loadavg": os.getloadavg(),
                      "machine": {"platform": platform.platform(), "cpu": host_target().cpu}},
                     indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
