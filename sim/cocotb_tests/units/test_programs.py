"""Random legal programs on tessera_top against the functional simulator (the scoreboard).

Each program loads micro-ops, inputs, weights and accumulators, runs GEMM and ALU loops and
stores results; its tokens order the units, so the final DRAM must match fsim bit for bit
whatever the timing. Buffers persist across programs on both sides, as on the hardware; the
micro-op cache is zeroed before each program (the generator assumes a fresh one).
"""

from __future__ import annotations

import os

import cocotb
import numpy as np

from tessera.hw import isa as I
from tessera.sim.cocotb_tests.units.program_bench import Bench, config
from tessera.sim.fsim import FSim, random_program


@cocotb.test()
async def random_programs_match_fsim(dut: object) -> None:
    cfg = config()
    seeds = [int(s) for s in os.environ.get("TESSERA_SEEDS", "1,2,3,4,5,6").split(",")]
    bench = Bench(dut, cfg)
    await bench.reset()
    sim = FSim(cfg, dram_bytes=1 << 20)
    zeros = 1 << 19
    clear_uops = [I.MemInsn(mem_type=I.MemType.UOP, sram_base=0, dram_base=zeros // 4,
                            y_size=1, x_size=cfg.uop_depth, x_stride=cfg.uop_depth),
                  I.FinishInsn()]
    for seed in seeds:
        sim.run(clear_uops)
        cleared = await bench.run(clear_uops)
        assert cleared.done, f"clearing the micro-op cache must end done, not {cleared}"
        prog = random_program.random_program(cfg, seed, length=12, dram_base=1 << 16)
        bench.ram.write(prog.dram_base, prog.image)
        sim.write_dram(prog.dram_base, prog.image)
        expected = sim.run(list(prog.insns))
        out = await bench.run(list(prog.insns))
        assert out.done and not out.error, (
            f"seed {seed}: the run must end done, not CTRL={out.ctrl:#x} STATUS={out.status} "
            f"ERROR_PC={out.error_pc}"
        )
        want = np.frombuffer(sim.read_dram(prog.dram_base, len(prog.image)), np.uint8)
        got = np.frombuffer(bench.ram.read(prog.dram_base, len(prog.image)), np.uint8)
        bad = np.flatnonzero(want != got)
        assert bad.size == 0, (
            f"seed {seed}: {bad.size} DRAM bytes differ from fsim, first at "
            f"0x{prog.dram_base + int(bad[0]):x}: expected {want[bad[0]]}, got {got[bad[0]]}"
        )
        assert out.counters["insn_done"] == len(prog.insns), (
            f"seed {seed}: insn_done must be {len(prog.insns)}, not {out.counters['insn_done']}"
        )
        dut._log.info("seed %d: %d cycles (fsim model %d)", seed, out.counters["cycles"],  # type: ignore[attr-defined]
                      expected.cycles)
