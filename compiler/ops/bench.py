"""The operator benchmark behind ``scripts/bench_ops.py`` and ``tessera bench-ops``.

Each case times a Tessera kernel and its reference (numpy/OpenBLAS for matmul, onnxruntime
for conv2d) in the same run: medians after warm-up, at 1 and 2 threads. Where
OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE are set, the numpy reference runs in a child process
with both unset, so OpenBLAS picks its own kernel for this CPU.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from tessera.runtime.hostinfo import machine, versions

log = logging.getLogger(__name__)
OPENBLAS_VARS = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
# OpenBLAS workers busy-wait about 0.1 s after a call (onnxruntime's pool spins too): a
# multi-threaded side timed sooner after the other finds a core taken (matmul 1024^3 at 2
# threads: tessera 13.7-19.9 ms 0.05 s after numpy's call, 10.8 ms 0.3 s after; numpy
# 11.8-12.8 ms either way)
SPIN_PAUSE_S = 0.3


def median_time(fn: Callable[[], Any], repeat: int, warmup: int = 2,
                min_time: float = 0.0) -> float:
    for _ in range(warmup):
        fn()
    times: list[float] = []
    start = time.perf_counter()
    while len(times) < repeat or time.perf_counter() - start < min_time:
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
        if len(times) > 10 * repeat:
            break
    return float(np.median(times))


LAST_CPU: dict[str, float] = {}  # process CPU seconds of the last paired_medians call


def paired_medians(fa: Callable[[], Any], fb: Callable[[], Any], repeat: int,
                   warmup: int = 3, pause_s: float = 0.0) -> tuple[float, float]:
    """Wall-clock medians of ``fa`` and ``fb`` timed alternately, so load from other
    processes on a shared machine hits both alike. The CPU-time medians (all threads of
    this process) go to ``LAST_CPU`` ("a", "b"): on a loaded machine they still tell how
    much work each side needs. ``pause_s`` sleeps before each timed call, so thread pools
    that busy-wait after the other side's call (OpenBLAS, onnxruntime: about 0.1 s) are
    idle again: use it when both sides run multi-threaded."""
    for _ in range(warmup):
        fa()
        fb()
    ta: list[float] = []
    tb: list[float] = []
    ca: list[float] = []
    cb: list[float] = []
    for _ in range(repeat):
        for f, wall, cpu in ((fa, ta, ca), (fb, tb, cb)):
            time.sleep(pause_s)
            c0, t0 = time.process_time(), time.perf_counter()
            f()
            wall.append(time.perf_counter() - t0)
            cpu.append(time.process_time() - c0)
    LAST_CPU.update(a=float(np.median(ca)), b=float(np.median(cb)))
    return float(np.median(ta)), float(np.median(tb))


def interleaved_medians_n(fns: list[Callable[[], Any]], rounds: int = 7, block: int = 3,
                          pause_s: float = SPIN_PAUSE_S, threads: int = 1,
                          around: Sequence[Callable[[], Any] | None] = ()) -> list[float]:
    """Wall-clock medians of each of ``fns`` timed in alternating blocks: each block starts
    with an untimed call of its function, then ``block`` timed calls, then a pause so that
    pools busy-waiting after it (OpenBLAS, onnxruntime) are idle before the next function.
    Load from other processes hits every side alike. The untimed call matters: the first
    tessera run after a pause measured ~50% slower on ResNet-18 at 2 threads (20 -> 30 ms;
    onnxruntime's ~7%): the pool's worker, woken after idling, lands on the caller's CPU
    (``runtime.cpu.affinity``).
    With ``threads`` > 1 each block starts once ``parallel_probe`` finds that many threads
    get their cores (its ``stats`` say how often they did not). ``around[k]``, when given,
    makes the context each block of ``fns[k]`` runs in (a bare kernel call, unlike
    ``Executor.run``, does not bind its threads: ``runtime.cpu.affinity.bound``)."""
    from tessera.compiler.ops.parallel_probe import probe_for

    probe = probe_for(threads)
    times: list[list[float]] = [[] for _ in fns]
    ctx = list(around) + [None] * (len(fns) - len(around))
    for _ in range(rounds):
        for f, out, make in zip(fns, times, ctx):
            probe.wait()
            with make() if make is not None else contextlib.nullcontext():
                f()
                for _ in range(block):
                    t0 = time.perf_counter()
                    f()
                    out.append(time.perf_counter() - t0)
            time.sleep(pause_s)
    return [float(np.median(t)) for t in times]


def interleaved_medians(fa: Callable[[], Any], fb: Callable[[], Any], rounds: int = 7,
                        block: int = 3, pause_s: float = SPIN_PAUSE_S,
                        threads: int = 1,
                        around: Sequence[Callable[[], Any] | None] = ()) -> tuple[float, float]:
    """``interleaved_medians_n`` of two functions."""
    ta, tb = interleaved_medians_n([fa, fb], rounds, block, pause_s, threads, around)
    return ta, tb


def cpu_fields(flops: float) -> dict[str, float]:
    """GFLOPS per CPU-second of both sides of the last paired run (extra, diagnostic)."""
    a, b = LAST_CPU.get("a", 0.0), LAST_CPU.get("b", 0.0)
    if a <= 0 or b <= 0:
        return {}
    return {"tessera_cpu_gflops": round(flops / a / 1e9, 2),
            "reference_cpu_gflops": round(flops / b / 1e9, 2), "cpu_ratio": round(b / a, 3)}


def blas_info() -> dict[str, Any]:
    from threadpoolctl import threadpool_info

    for info in threadpool_info():
        if info.get("user_api") == "blas":
            return {k: info.get(k) for k in ("internal_api", "version", "architecture",
                                             "threading_layer", "filepath")}
    return {}


def numpy_matmul_gflops(n: int, threads: int, repeat: int) -> dict[str, Any]:
    """numpy's matmul at ``threads`` threads, here or (OpenBLAS env vars set) in a child."""
    if any(v in os.environ for v in OPENBLAS_VARS):
        env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_VARS}
        code = ("import json,sys; from tessera.compiler.ops.bench import _numpy_matmul_local;"
                f"print(json.dumps(_numpy_matmul_local({n}, {threads}, {repeat})))")
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, timeout=600, check=True)
        res: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
        res["env_unset"] = [v for v in OPENBLAS_VARS if v in os.environ]
        return res
    return _numpy_matmul_local(n, threads, repeat)


def _numpy_matmul_local(n: int, threads: int, repeat: int) -> dict[str, Any]:
    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    c = np.empty((n, n), np.float32)
    with threadpool_limits(limits=threads, user_api="blas"):
        t = median_time(lambda: np.matmul(a, b, out=c), repeat, warmup=3)
        info = blas_info()
    return {"gflops": 2 * n**3 / t / 1e9, "blas": info}


def bench_matmul(n: int, threads_list: list[int], repeat: int) -> list[dict[str, Any]]:
    from tessera.compiler import ops
    from tessera.compiler import tensor as te
    from tessera.compiler.codegen import build

    A = te.placeholder((n, n), "float32", "A")
    B = te.placeholder((n, n), "float32", "B")
    C = ops.matmul(A, B)
    kernel = build(ops.schedule_matmul(C), [A, B, C])
    rng = np.random.default_rng(0)
    a = rng.random((n, n), dtype=np.float32)
    b = rng.random((n, n), dtype=np.float32)
    c = np.zeros((n, n), np.float32)
    kernel(a, b, c)
    err = float(np.abs(c - a @ b).max() / max(1.0, float(np.abs(a @ b).max())))
    ptrs = kernel.check([a, b, c])
    out = []
    for th in threads_list:
        kernel.num_threads = th
        if any(v in os.environ for v in OPENBLAS_VARS):
            t = median_time(lambda: kernel.call_unchecked(*ptrs), repeat, warmup=3)
            ref = numpy_matmul_gflops(n, th, repeat)
        else:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=th, user_api="blas"):
                t, tr = paired_medians(lambda: kernel.call_unchecked(*ptrs),
                                       lambda: np.matmul(a, b, out=c), repeat,
                                       pause_s=SPIN_PAUSE_S if th > 1 else 0.0)
                ref = {"gflops": 2 * n**3 / tr / 1e9, "blas": blas_info(),
                       **cpu_fields(2 * n**3)}
        g = 2 * n**3 / t / 1e9
        out.append({"op": "matmul", "shape": [n, n, n], "dtype": "float32", "threads": th,
                    "tessera_gflops": round(g, 2), "reference": "numpy",
                    "reference_gflops": round(ref["gflops"], 2),
                    "ratio": round(g / ref["gflops"], 3), "max_rel_error": err,
                    "blas": ref["blas"], **({"env_unset": ref["env_unset"]}
                                            if "env_unset" in ref else {}),
                    **{k: v for k, v in ref.items() if "cpu" in k}})
    return out


def bench_conv2d(shape: tuple[int, int, int, int], cout: int, ksize: int, pad: int,
                 threads_list: list[int], repeat: int) -> list[dict[str, Any]]:
    from tessera.compiler.ops.bench_conv import bench_conv2d as run

    return run(shape, cout, ksize, pad, threads_list, repeat)


def parallel_launch_us(threads: int) -> float:
    """Cost of one empty parallel region: parallel minus serial kernel of the same body."""
    from tessera.compiler import tensor as te
    from tessera.compiler.codegen import build
    from tessera.runtime.cpu import CpuKernel

    n = max(2, threads)
    X = te.placeholder((n,), "float32", "X")
    kernels = []
    for par in (True, False):
        Y = te.compute((n,), lambda i: X[i] + 1.0, name="Y")
        s = te.create_schedule(Y)
        if par:
            s[Y].parallel(s[Y].op.axis[0])
        kernels.append(build(s, [X, Y], name="launch_par" if par else "launch_ser"))
    x = np.zeros(n, np.float32)
    y = np.zeros(n, np.float32)
    kernels[0].num_threads = threads
    times: list[float] = []
    for k in kernels:
        ptrs = k.check([x, y])

        def call(k: CpuKernel = k, ptrs: list[int] = ptrs) -> None:
            k.call_unchecked(*ptrs)

        times.append(median_time(call, 200, 20))
    return max(0.0, (times[0] - times[1]) * 1e6)


def run_benchmark(quick: bool = False, threads_list: list[int] | None = None,
                  progress: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """All cases; ``quick`` uses the small sizes (about a minute in total)."""
    say = progress or (lambda m: log.info("%s", m))
    ths = threads_list or [1, 2]
    repeat = 5 if quick else 15
    records: list[dict[str, Any]] = []
    for n in ((256,) if quick else (512, 1024)):
        say(f"matmul {n}^3")
        records += bench_matmul(n, ths, repeat)
    conv = ((1, 64, 28, 28) if quick else (1, 64, 56, 56))
    say(f"conv2d {conv} 64x3x3 pad 1")
    records += bench_conv2d(conv, 64, 3, 1, ths, repeat)
    say("parallel launch")
    launch = {str(t): round(parallel_launch_us(t), 2) for t in ths}
    meta = {"machine": machine(), "versions": versions("llvmlite", "onnxruntime"),
            "parallel_launch_us": launch}
    for r in records:
        r.update(meta)
    return records
