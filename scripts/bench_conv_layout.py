"""Which conv kernel a fused ResNet-18 conv group should run: the NCHW ``conv2d_nchw`` tuning
template (at its default point, or at the best point of a tuning database) or the NCHW[x]c
default (``ops.conv2d_nchwc``, what ``compile(layout="auto")`` builds), each with the group's
fused epilogue, measured in the same process, interleaved, medians of ``--repeat`` runs.

Prints one JSON document: per workload ``{"workload", "weight", "nchw_ms", "nchwc_ms",
"ratio"}`` (ratio = nchw_ms / nchwc_ms: above 1, NCHWc is faster), the weighted sums, the
machine and the versions. The layout transforms of the blocked path are not counted (they
happen once per model at its edges). Logs go to stderr.

    python scripts/bench_conv_layout.py [--threads 1] [--repeat 20] [--tuning-db tune.db]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import sys
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from build_resnet18 import build_resnet18  # noqa: E402

from tessera.compiler import tensor as te  # noqa: E402
from tessera.compiler.autotune.dispatch import apply_history_best, build_best, choose  # noqa: E402
from tessera.compiler.autotune.extract import extract_tasks  # noqa: E402
from tessera.compiler.autotune.templates.conv2d import epilogue_arg, out_size  # noqa: E402
from tessera.compiler.codegen import build  # noqa: E402
from tessera.compiler.ops import conv2d_nchwc, schedule_conv2d_nchwc  # noqa: E402
from tessera.compiler.ops.bench import paired_medians  # noqa: E402
from tessera.runtime.cpu import host_target  # noqa: E402
from tessera.runtime.hostinfo import machine, versions  # noqa: E402

log = logging.getLogger("bench_conv_layout")


def nchwc_kernel(args: tuple[Any, ...], block: int) -> tuple[Any, list[np.ndarray]]:
    """The blocked conv of the workload with its epilogue, and random arrays for it."""
    n, c, h, w, o, kh, kw, stride, pad, dtype = args[:10]
    oh, ow = out_size(args)
    epi = epilogue_arg(args)
    shapes = [(n, c // block, h, w, block), (o // block, c // block, kh, kw, block, block)]
    for step in epi:
        if step[0] == "bias":
            shapes.append((o // block, 1, 1, block))
        elif step[0] == "add":
            shapes.append((n, o // block, oh, ow, block))
    ph = [te.placeholder(s, dtype, f"in{k}") for k, s in enumerate(shapes)]
    out = conv2d_nchwc(ph[0], ph[1], stride=stride, padding=pad, epilogue=epi, operands=ph[2:])
    rng = np.random.default_rng(0)
    arrays = [rng.standard_normal(s).astype(dtype) for s in shapes]
    return build(schedule_conv2d_nchwc(out), [*ph, out]), [*arrays, np.zeros(out.shape, dtype)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--repeat", type=int, default=20)
    ap.add_argument("--tuning-db", default=None)
    args = ap.parse_args()
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING, format="%(message)s")
    block = host_target().vector_lanes(32)
    scope = (apply_history_best(args.tuning_db) if args.tuning_db
             else contextlib.nullcontext())
    records = []
    with scope:
        for wt in extract_tasks(build_resnet18(seed=0), layout="NCHW"):
            task = wt.task
            if task.template != "conv2d_nchw" or task.args[1] % block or task.args[4] % block:
                continue
            choice = choose(task)
            k_nchw = build_best(task, choice=choice, threads=args.threads)
            a_nchw = task.impl.arrays(task.args, np.random.default_rng(0))
            k_blk, a_blk = nchwc_kernel(task.args, block)
            k_blk.num_threads = args.threads
            t_nchw, t_blk = (1e3 * t for t in paired_medians(
                partial(k_nchw, *a_nchw), partial(k_blk, *a_blk), args.repeat, warmup=2))
            rec = {"workload": list(task.args[:9]),
                   "epilogue": [s[0] for s in epilogue_arg(task.args)], "weight": wt.weight,
                   "nchw_source": "tuning database" if choice.tuned else "default",
                   "nchw_ms": round(t_nchw, 4), "nchwc_ms": round(t_blk, 4),
                   "ratio": round(t_nchw / t_blk, 3)}
            log.warning("%s", json.dumps(rec))
            records.append(rec)
    tot_nchw = sum(r["nchw_ms"] * r["weight"] for r in records)
    tot_blk = sum(r["nchwc_ms"] * r["weight"] for r in records)
    doc = {"benchmark": "conv_layout", "model": "resnet18", "threads": args.threads,
           "repeat": args.repeat, "block": block, "records": records,
           "weighted_nchw_ms": round(tot_nchw, 3), "weighted_nchwc_ms": round(tot_blk, 3),
           "ratio": round(tot_nchw / tot_blk, 3), "machine": machine(),
           "versions": versions("llvmlite")}
    json.dump(doc, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
