"""Benchmark the functional simulator on large blocked GEMMs.

Prints one JSON document on stdout: a list with one object per program, each with
``program``, ``config``, ``macs``, ``wall_s`` (median of the timed runs after a warm-up) and
``macs_per_s``, plus the same GEMM in numpy (int32 matmul) measured in the same run as the
reference, the ratio, fsim's modelled cycles, and the machine and library versions. Progress
goes to stderr. Bar (issue 4): >= 200e6 MACs/s on the default configuration.

    python scripts/bench_sim.py [--repeats 5] [--quick]
"""

from __future__ import annotations

import argparse
import json
import logging
import statistics
import sys
import time

import numpy as np

from tessera.hw import HwConfig
from tessera.hw import layout as L
from tessera.runtime.hostinfo import machine, versions
from tessera.sim.fsim import FSim
from tessera.sim.fsim.gemm_program import blocked_gemm, reference

log = logging.getLogger("bench_sim")


def bench(cfg: HwConfig, m: int, k: int, n: int, repeats: int) -> dict[str, object]:
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (n, k), dtype=np.int8)
    pa, pb = L.pack_matrix_inp(a, cfg), L.pack_matrix_wgt(b, cfg)
    aa = 1 << 12
    ba = aa + pa.nbytes
    ca = ba + pb.nbytes
    ua = -(-(ca + m * n) // 64) * 64
    prog = blocked_gemm(cfg, m, k, n, a_addr=aa, b_addr=ba, c_addr=ca, uop_addr=ua, shift=10)
    sim = FSim(cfg, ua + prog.uops.nbytes + (1 << 12))
    sim.write_dram(aa, pa.tobytes())
    sim.write_dram(ba, pb.tobytes())
    sim.write_dram(ua, prog.uops.tobytes())
    insns = list(prog.insns)

    res = sim.run(insns)  # warm-up, and the correctness check
    got = np.frombuffer(sim.read_dram(ca, m * n), np.int8).reshape(
        m // cfg.batch, n // cfg.block_out, cfg.batch, cfg.block_out)
    if not np.array_equal(L.unpack_matrix(got, (m, n), cfg), reference(a, b, 10)):
        raise SystemExit(f"fsim result differs from numpy for {m}x{k}x{n} on {cfg.name}")
    walls = []
    for r in range(repeats):
        t = time.perf_counter()
        sim.run(insns)
        walls.append(time.perf_counter() - t)
        log.info("%s %dx%dx%d run %d: %.3f s", cfg.name, m, k, n, r, walls[-1])
    a32, b32 = a.astype(np.int32), b.astype(np.int32)
    ref_walls = []
    for _ in range(repeats + 1):
        t = time.perf_counter()
        np.clip((a32 @ b32.T) >> 10, -128, 127).astype(np.int8)
        ref_walls.append(time.perf_counter() - t)
    wall = statistics.median(walls)
    ref = statistics.median(ref_walls[1:])
    return {
        "program": f"blocked_gemm_{m}x{k}x{n}",
        "config": cfg.name,
        "macs": prog.macs,
        "wall_s": wall,
        "macs_per_s": prog.macs / wall,
        "instructions": len(insns),
        "repeats": repeats,
        "cycles": res.cycles,
        "ideal_cycles": prog.macs // cfg.macs_per_cycle,
        "reference": "numpy int32 matmul + shift + clip",
        "reference_wall_s": ref,
        "ratio_fsim_over_reference": wall / ref,
        "machine": machine(),
        "versions": versions(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--quick", action="store_true", help="small sizes (a smoke test)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    cases = [(HwConfig.default(), 512, 1024, 1024), (HwConfig.small(), 128, 256, 256)]
    if args.quick:
        cases = [(HwConfig.default(), 64, 256, 128), (HwConfig.small(), 16, 32, 32)]
    results = [bench(cfg, m, k, n, args.repeats) for cfg, m, k, n in cases]
    json.dump(results, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
