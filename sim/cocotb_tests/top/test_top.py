"""The top-level cocotb testbench: one whole program on the RTL.

It runs inside the simulator process (started by ``tessera.sim.rtl_runner``) and takes its
job from the directory named by ``TESSERA_RTL_JOB`` (see ``tessera.sim.rtl_job``): the
configuration, the DRAM image, the instruction stream's address and length, the watchdog,
the cycle and wall-clock limits. DRAM is ``TimedAxiRam`` (cocotbext-axi storage with the
shared timing contract), control goes through cocotbext-axi's ``AxiLiteMaster``. When the job
names a scoreboard (``module:function``), the function computes the expected DRAM pages from
the initial image (the functional simulator, for the real accelerator) and the test fails on
any byte that differs. The outcome (status, registers, the pages the design wrote) goes back
to the job directory.
"""

from __future__ import annotations

import importlib
import os
import time
from pathlib import Path

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles
from cocotbext.axi import AxiBus, AxiLiteBus, AxiLiteMaster

from tessera.hw import regmap
from tessera.sim.cocotb_tests.top.timed_axi_ram import TimedAxiRam
from tessera.sim.rtl_job import Job, JobResult

RESET_CYCLES = 8


def _scoreboard(job: Job, ram: TimedAxiRam) -> list[str]:
    """Mismatches between the DRAM after the run and the scoreboard's expectation."""
    module_name, func_name = job.scoreboard.split(":")
    func = getattr(importlib.import_module(module_name), func_name)
    expected: dict[int, bytes] = func(job)
    problems = []
    for addr, want in sorted(expected.items()):
        got = bytes(ram.read(addr, len(want)))
        if got != want:
            first = next(i for i in range(len(want)) if got[i] != want[i])
            problems.append(
                f"DRAM at 0x{addr + first:x}: expected 0x{want[first]:02x}, "
                f"got 0x{got[first]:02x} (region 0x{addr:x}+{len(want)})"
            )
    return problems


@cocotb.test()
async def run_program(dut: object) -> None:
    job_dir = Path(os.environ["TESSERA_RTL_JOB"])
    job = Job.load(job_dir)
    started = time.monotonic()
    Clock(dut.clk_i, 10, unit="ns").start()  # type: ignore[attr-defined]
    ram = TimedAxiRam(AxiBus.from_prefix(dut, "m_axi"), dut.clk_i,  # type: ignore[attr-defined]
                      job.dram_bytes, job.read_latency, job.write_latency)
    for addr, data in job.pages():
        ram.write(addr, data)
    ctrl = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk_i,  # type: ignore[attr-defined]
                         dut.rst_ni, reset_active_level=False)  # type: ignore[attr-defined]
    dut.rst_ni.value = 0  # type: ignore[attr-defined]
    await ClockCycles(dut.clk_i, RESET_CYCLES)  # type: ignore[attr-defined]
    dut.rst_ni.value = 1  # type: ignore[attr-defined]
    await ClockCycles(dut.clk_i, 1)  # type: ignore[attr-defined]
    ram.model.reset()

    await ctrl.write_dword(regmap.INSN_ADDR, job.insn_addr)
    await ctrl.write_dword(regmap.INSN_COUNT, job.insn_count)
    if job.watchdog is not None:
        await ctrl.write_dword(regmap.WATCHDOG, job.watchdog)
    first = ram.model.now
    await ctrl.write_dword(regmap.CTRL, regmap.CTRL_START)

    status = "cycle_limit"
    while ram.model.now - first < job.max_cycles:
        ctrl_value = await ctrl.read_dword(regmap.CTRL)
        if ctrl_value & regmap.CTRL_ERROR:
            status = "error"
            break
        if ctrl_value & regmap.CTRL_DONE:
            status = "done"
            break
        if time.monotonic() - started > job.timeout_s:
            status = "timeout"
            break
        await ClockCycles(dut.clk_i, job.poll)  # type: ignore[attr-defined]

    registers = {}
    for name, addr in {**regmap.COUNTERS, "status": regmap.STATUS,
                       "error_pc": regmap.ERROR_PC, "ctrl": regmap.CTRL}.items():
        registers[name] = await ctrl.read_dword(addr)
    written = {page << 12: bytes(ram.read(page << 12, 4096)) for page in ram.model.written}
    result = JobResult(
        status=status, registers=registers, sim_cycles=ram.model.now - first,
        wall_s=time.monotonic() - started, written=written,
    )
    result.save(job_dir)
    ram.stop()
    if job.scoreboard and status == "done":
        problems = _scoreboard(job, ram)
        assert not problems, "scoreboard: " + "; ".join(problems[:5])
