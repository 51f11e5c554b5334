"""The ``rtl`` device: whole programs on the Verilog accelerator under Verilator, via cocotb.

The slow, faithful path: each ``run`` starts the cocotb simulator (built once per
configuration and source digest, see ``tessera.sim.verilator``) in a child process with the
top-level testbench (``sim/cocotb_tests/top``): DRAM is cocotbext-axi storage behind the
timing contract of ``tessera.sim.dram_timing`` (``cfg.dram_bus_bits``,
``cfg.dram_read_latency``, ``cfg.dram_write_latency``), control goes through cocotbext-axi's
AXI-Lite master. The run reports the design's own ``CYCLES`` register and counters, and on
request a waveform::

    dev = tessera.runtime.device("rtl", cfg=HwConfig.small())
    result = dev.run(program, waves="vcd")     # result.waveform: Path to dump.vcd

The host keeps the DRAM image; the pages ever written (by the host or the design) travel to
the simulator, and the pages the design wrote come back. Each run starts a fresh simulator
(reset, empty on-chip buffers), so a program must load what it uses -- as compiled programs
do. ``rtl-fast``
(``tessera.runtime.rtl_fast_device``) gives the same results and cycle counts much faster.
"""

from __future__ import annotations

import abc
import logging
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from tessera.hw import regmap
from tessera.hw.config import HwConfig
from tessera.runtime.device import (
    DEFAULT_DRAM_BYTES,
    Device,
    DeviceError,
    Program,
    RunResult,
    register_device,
)
from tessera.sim.verilator import DesignSources, SimBuildError, cache_root

log = logging.getLogger(__name__)

PAGE = 4096
DEFAULT_TIMEOUT_S = 600.0
DEFAULT_MAX_CYCLES = (1 << 32) - 1


def accelerator_design(cfg: HwConfig) -> DesignSources:
    """The accelerator's RTL for ``cfg`` (``tessera.hw.rtl_sources``)."""
    try:
        from tessera.hw.rtl_sources import rtl_sources
    except ImportError:
        raise DeviceError(
            "the accelerator RTL (tessera.hw.rtl_sources) must be installed to use an RTL "
            "device, but it is not"
        ) from None
    design = rtl_sources(cfg)
    missing = [str(f) for f in design.files if not Path(f).exists()]
    if missing:
        raise DeviceError(f"the accelerator RTL is incomplete: missing {missing}")
    return design


class RtlRunError(DeviceError):
    """The design stopped in its error state: ``code`` (``regmap.ErrorCode``), ``pc`` (the
    failing instruction, ERROR_PC) and ``cycles`` tell where."""

    def __init__(self, message: str, code: regmap.ErrorCode | int, pc: int, cycles: int):
        super().__init__(message)
        self.code = code
        self.pc = pc
        self.cycles = cycles


def check_outcome(device: str, name: str, status: str, registers: Mapping[str, int],
                  max_cycles: int, timeout_s: float) -> None:
    """Raise the DeviceError that ``status`` calls for (shared by rtl and rtl-fast)."""
    if status == "done":
        return
    if status == "error":
        raw = registers.get("status", 0)
        code: regmap.ErrorCode | int
        try:
            code = regmap.ErrorCode(raw)
            what = code.name
        except ValueError:
            code, what = raw, f"unknown error code {raw}"
        pc, cycles = registers.get("error_pc", 0), registers.get("cycles", 0)
        raise RtlRunError(
            f"{device}: program {name!r} stopped with {what} at instruction {pc} after "
            f"{cycles} cycles", code, pc, cycles,
        )
    if status == "cycle_limit":
        raise DeviceError(
            f"{device}: program {name!r} must finish within {max_cycles} cycles, "
            "but was still running"
        )
    if status == "timeout":
        raise DeviceError(
            f"{device}: program {name!r} must finish within {timeout_s:g} s of "
            "wall-clock time, but was still running"
        )
    raise DeviceError(f"{device}: the control interface stopped answering ({status})")


def counters_of(registers: Mapping[str, int]) -> dict[str, int]:
    return {name: int(registers[name]) for name in regmap.COUNTERS if name in registers}


class RtlDeviceBase(Device):
    """What the rtl and rtl-fast devices share: the program goes into DRAM like the hardware
    reads it, then ``run_from_dram`` runs it."""

    RUN_OPTIONS = frozenset({"waves", "max_cycles", "timeout_s", "watchdog"})

    def run(self, program: Program, **options: Any) -> RunResult:
        """Run ``program``. Options: ``waves``, ``max_cycles``, ``timeout_s``, ``watchdog``
        (cycles without progress before the error state); see each device's run_from_dram."""
        if program.cfg != self.cfg:
            raise DeviceError(
                f"{self.name}: program {program.name!r} must be built for configuration "
                f"{self.cfg.name!r}, not {program.cfg.name!r}"
            )
        raw = program.to_bytes()
        buf = self.alloc(len(raw))
        try:
            self.write_dram(buf.addr, raw)
            return self.run_from_dram(buf.addr, len(raw) // 16, name=program.name, **options)
        finally:
            self.free(buf)

    def check_options(self, options: Mapping[str, Any]) -> None:
        unknown = sorted(set(options) - self.RUN_OPTIONS)
        if unknown:
            raise DeviceError(f"{self.name}: unknown run option(s) {unknown}")

    @abc.abstractmethod
    def run_from_dram(self, insn_addr: int, insn_count: int, name: str = "program",
                      **options: Any) -> RunResult:
        """Run the ``insn_count`` instructions already in DRAM at ``insn_addr``."""


class RtlDevice(RtlDeviceBase):
    """The accelerator's RTL under Verilator, driven by the cocotb top-level testbench."""

    name = "rtl"

    def __init__(
        self,
        cfg: HwConfig | None = None,
        dram_bytes: int = DEFAULT_DRAM_BYTES,
        design: DesignSources | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_cycles: int = DEFAULT_MAX_CYCLES,
        workdir: str | Path | None = None,
        scoreboard: str = "",
        pythonpath: tuple[str, ...] = (),
    ) -> None:
        super().__init__(cfg or HwConfig.default(), dram_bytes)
        self.design = design if design is not None else accelerator_design(self.cfg)
        self.timeout_s = timeout_s
        self.max_cycles = max_cycles
        self.workdir = Path(workdir) if workdir is not None else cache_root() / "runs"
        self.scoreboard = scoreboard
        self.pythonpath = pythonpath
        self._dram = np.zeros(dram_bytes, dtype=np.uint8)
        # Pages written by the host or the design: each run starts a fresh simulator, which
        # gets all of them (the rest of DRAM is zero).
        self._touched: set[int] = set()

    # ----------------------------------------------------------------- DRAM
    def _check(self, addr: int, nbytes: int) -> None:
        if addr < 0 or nbytes < 0 or addr + nbytes > self.dram_bytes:
            raise DeviceError(
                f"{self.name}: DRAM access [0x{addr:x}, 0x{addr + nbytes:x}) must lie within "
                f"the {self.dram_bytes}-byte DRAM"
            )

    def write_dram(self, addr: int, data: bytes) -> None:
        self._check(addr, len(data))
        self._dram[addr : addr + len(data)] = np.frombuffer(bytes(data), dtype=np.uint8)
        if data:
            self._touched.update(range(addr // PAGE, (addr + len(data) - 1) // PAGE + 1))

    def read_dram(self, addr: int, nbytes: int) -> bytes:
        self._check(addr, nbytes)
        return self._dram[addr : addr + nbytes].tobytes()

    # ----------------------------------------------------------------- running
    def run_from_dram(self, insn_addr: int, insn_count: int, name: str = "program",
                      **options: Any) -> RunResult:
        """Run the ``insn_count`` instructions already in DRAM at ``insn_addr``."""
        from tessera.sim.rtl_job import Job
        from tessera.sim.rtl_runner import run_job
        from tessera.sim.verilator import build_cocotb

        self.check_options(options)
        waves = options.get("waves")
        max_cycles = int(options.get("max_cycles", self.max_cycles))
        timeout_s = float(options.get("timeout_s", self.timeout_s))
        started = time.monotonic()
        try:
            build = build_cocotb(self.design, waves=waves)
        except SimBuildError as err:
            raise DeviceError(f"{self.name}: {err}") from None
        job = Job(
            cfg=self.cfg.to_dict(), dram_bytes=self.dram_bytes,
            read_latency=self.cfg.dram_read_latency, write_latency=self.cfg.dram_write_latency,
            insn_addr=insn_addr, insn_count=insn_count, max_cycles=max_cycles,
            timeout_s=timeout_s, watchdog=options.get("watchdog"), scoreboard=self.scoreboard,
        )
        self.workdir.mkdir(parents=True, exist_ok=True)
        job_dir = Path(tempfile.mkdtemp(prefix=f"{name}-", dir=self.workdir))
        pages = {
            p * PAGE: self._dram[p * PAGE : (p + 1) * PAGE].tobytes()
            for p in sorted(self._touched)
        }
        try:
            result = run_job(build, job, pages, job_dir, timeout_s + 60.0,
                             pythonpath=self.pythonpath)
        except SimBuildError as err:
            raise DeviceError(f"{self.name}: {err}") from None
        for addr, data in result.written.items():
            self._dram[addr : addr + len(data)] = np.frombuffer(data, dtype=np.uint8)
            self._touched.add(addr // PAGE)
        waveform = None
        if waves is not None:
            waveform = job_dir / ("dump.fst" if waves == "fst" else "dump.vcd")
        else:
            shutil.rmtree(job_dir, ignore_errors=True)
        check_outcome(self.name, name, result.status, result.registers, max_cycles, timeout_s)
        return RunResult(
            cycles=int(result.registers["cycles"]),
            counters=counters_of(result.registers),
            wall_s=time.monotonic() - started,
            waveform=waveform,
            extra={"sim_wall_s": result.wall_s, "sim_cycles": result.sim_cycles},
        )


register_device("rtl", RtlDevice)
