"""The ``rtl-fast`` device: the RTL under a native Verilator harness, for whole networks.

The design and the C++ harness (``sim/native/harness.cpp``: DRAM model, AXI-Lite master and
the cycle loop) are built once per configuration and source digest into a shared library
(``tessera.sim.verilator.build_native``) and loaded with ctypes. DRAM lives in the harness;
its timing contract is the one of the ``rtl`` device (``tessera.sim.dram_timing``), so both
report the same DRAM contents and the same ``CYCLES``. The simulated core persists between
runs (each run resets it; on-chip buffers keep their contents, as on the hardware).

Waveforms: ``RtlFastDevice(waves="vcd", wave_path=...)`` builds the traced variant and
records every run into that one VCD file (FST is offered by the ``rtl`` device only).

Timelines: ``run(program, timeline=True)`` records the design's ``events_o`` port (the bits
the busy/stall counters count) at every change and returns fsim-style intervals
``(unit, "busy" | "stall", start, end)`` in ``RunResult.timeline``; each unit's busy and
stall time adds up to its counter exactly.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np

from tessera.hw import regmap
from tessera.hw.config import HwConfig
from tessera.runtime.device import (
    DEFAULT_DRAM_BYTES,
    DeviceError,
    RunResult,
    register_device,
)
from tessera.runtime.rtl_device import (
    DEFAULT_MAX_CYCLES,
    DEFAULT_TIMEOUT_S,
    RtlDeviceBase,
    accelerator_design,
    check_outcome,
    counters_of,
)
from tessera.sim.verilator import DesignSources, SimBuildError, build_native, cache_root

log = logging.getLogger(__name__)

RESET_CYCLES = 8
AXIL_TIMEOUT_CYCLES = 10_000
POLL_CYCLES = 256
_STATUS = {0: "done", 1: "error", 2: "cycle_limit", 3: "timeout", 4: "control"}
_LIBS: dict[Path, ctypes.CDLL] = {}


def _load(path: Path) -> ctypes.CDLL:
    if path not in _LIBS:
        lib = ctypes.CDLL(str(path))
        vp, u32, u64 = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint64
        buf = ctypes.c_char_p
        lib.th_create.argtypes = [u64, u32, u32, ctypes.c_char_p]
        lib.th_create.restype = vp
        lib.th_destroy.argtypes = [vp]
        lib.th_reset.argtypes = [vp, u32]
        lib.th_write_dram.argtypes = [vp, u64, buf, u64]
        lib.th_read_dram.argtypes = [vp, u64, ctypes.c_void_p, u64]
        lib.th_axil_write.argtypes = [vp, u32, u32, u64]
        lib.th_axil_read.argtypes = [vp, u32, ctypes.POINTER(u32), u64]
        lib.th_run.argtypes = [vp, u32, u32, u32, u64, u32, ctypes.c_double,
                               ctypes.POINTER(u64)]
        lib.th_step.argtypes = [vp, u64]
        lib.th_now.argtypes = [vp]
        lib.th_now.restype = u64
        lib.th_bus_bits.restype = u32
        lib.th_events_record.argtypes = [vp, ctypes.c_int]
        lib.th_events_count.argtypes = [vp]
        lib.th_events_count.restype = u64
        lib.th_events_copy.argtypes = [vp, ctypes.c_void_p, ctypes.c_void_p]
        _LIBS[path] = lib
    return _LIBS[path]


class RtlFastDevice(RtlDeviceBase):
    """The accelerator's RTL in a native Verilator harness (C++ DRAM model and cycle loop)."""

    name = "rtl-fast"
    RUN_OPTIONS = RtlDeviceBase.RUN_OPTIONS | {"timeline"}

    def __init__(
        self,
        cfg: HwConfig | None = None,
        dram_bytes: int = DEFAULT_DRAM_BYTES,
        design: DesignSources | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_cycles: int = DEFAULT_MAX_CYCLES,
        waves: str | None = None,
        wave_path: str | Path | None = None,
    ) -> None:
        super().__init__(cfg or HwConfig.default(), dram_bytes)
        if waves not in (None, "vcd"):
            raise DeviceError(
                f"{self.name}: waves must be None or 'vcd', not {waves!r} (FST: use 'rtl')"
            )
        self.design = design if design is not None else accelerator_design(self.cfg)
        self.timeout_s = timeout_s
        self.max_cycles = max_cycles
        self.waves = waves
        self.wave_path: Path | None = None
        try:
            lib_path = build_native(self.design, self.cfg.dram_bus_bits, trace=waves is not None)
        except SimBuildError as err:
            raise DeviceError(f"{self.name}: {err}") from None
        self._lib = _load(lib_path)
        if waves is not None:
            self.wave_path = Path(wave_path) if wave_path else (
                cache_root() / "runs" / f"rtl-fast-{time.strftime('%Y%m%d-%H%M%S')}.vcd")
            self.wave_path.parent.mkdir(parents=True, exist_ok=True)
        path_arg = str(self.wave_path).encode() if self.wave_path else None
        handle = self._lib.th_create(dram_bytes, self.cfg.dram_read_latency,
                                     self.cfg.dram_write_latency, path_arg)
        if not handle:
            raise DeviceError(f"{self.name}: could not allocate {dram_bytes} bytes of DRAM")
        self._h: int | None = handle

    # ----------------------------------------------------------------- plumbing
    def _handle(self) -> int:
        if self._h is None:
            raise DeviceError(f"{self.name}: the device is closed")
        return self._h

    def _write_reg(self, addr: int, value: int) -> None:
        rc = self._lib.th_axil_write(self._handle(), addr, value & 0xFFFFFFFF,
                                     AXIL_TIMEOUT_CYCLES)
        if rc != 0:
            raise DeviceError(
                f"{self.name}: the control slave must answer a write of register 0x{addr:02x} "
                f"with OKAY within {AXIL_TIMEOUT_CYCLES} cycles, not {rc}"
            )

    def read_reg(self, addr: int) -> int:
        """One 32-bit control register (``tessera.hw.regmap`` offsets)."""
        out = ctypes.c_uint32(0)
        rc = self._lib.th_axil_read(self._handle(), addr, ctypes.byref(out),
                                    AXIL_TIMEOUT_CYCLES)
        if rc != 0:
            raise DeviceError(
                f"{self.name}: the control slave must answer a read of register 0x{addr:02x} "
                f"with OKAY within {AXIL_TIMEOUT_CYCLES} cycles, not {rc}"
            )
        return int(out.value)

    # ----------------------------------------------------------------- DRAM
    def write_dram(self, addr: int, data: bytes) -> None:
        raw = bytes(data)
        if addr < 0 or self._lib.th_write_dram(self._handle(), addr, raw, len(raw)) != 0:
            raise DeviceError(
                f"{self.name}: DRAM access [0x{addr:x}, 0x{addr + len(raw):x}) must lie within "
                f"the {self.dram_bytes}-byte DRAM"
            )

    def read_dram(self, addr: int, nbytes: int) -> bytes:
        out = ctypes.create_string_buffer(max(nbytes, 1))
        if addr < 0 or nbytes < 0 or self._lib.th_read_dram(self._handle(), addr, out,
                                                            nbytes) != 0:
            raise DeviceError(
                f"{self.name}: DRAM access [0x{addr:x}, 0x{addr + nbytes:x}) must lie within "
                f"the {self.dram_bytes}-byte DRAM"
            )
        return out.raw[:nbytes]

    # ----------------------------------------------------------------- running
    def run_from_dram(self, insn_addr: int, insn_count: int, name: str = "program",
                      **options: Any) -> RunResult:
        """Run the ``insn_count`` instructions already in DRAM at ``insn_addr``."""
        self.check_options(options)
        if options.get("waves", self.waves) != self.waves:
            raise DeviceError(
                f"{self.name}: waves must be chosen when the device is created "
                f"(RtlFastDevice(waves='vcd')), not per run ({options['waves']!r})"
            )
        max_cycles = int(options.get("max_cycles", self.max_cycles))
        timeout_s = float(options.get("timeout_s", self.timeout_s))
        started = time.monotonic()
        handle = self._handle()
        self._lib.th_reset(handle, RESET_CYCLES)
        self._write_reg(regmap.INSN_ADDR, insn_addr)
        self._write_reg(regmap.INSN_COUNT, insn_count)
        if options.get("watchdog") is not None:
            self._write_reg(regmap.WATCHDOG, int(options["watchdog"]))
        timeline = bool(options.get("timeline", False))
        if timeline:
            self._lib.th_events_record(handle, 1)
        origin = int(self._lib.th_now(handle))
        self._write_reg(regmap.CTRL, regmap.CTRL_START)
        sim_cycles = ctypes.c_uint64(0)
        sim_started = time.monotonic()
        rc = self._lib.th_run(handle, regmap.CTRL, regmap.CTRL_DONE, regmap.CTRL_ERROR,
                              max_cycles, POLL_CYCLES, timeout_s, ctypes.byref(sim_cycles))
        sim_wall = time.monotonic() - sim_started
        intervals = self._timeline(handle, origin) if timeline else None
        registers = {reg: self.read_reg(addr) for reg, addr in regmap.COUNTERS.items()}
        registers["status"] = self.read_reg(regmap.STATUS)
        registers["error_pc"] = self.read_reg(regmap.ERROR_PC)
        check_outcome(self.name, name, _STATUS.get(rc, str(rc)), registers, max_cycles,
                      timeout_s)
        return RunResult(
            cycles=int(registers["cycles"]),
            counters=counters_of(registers),
            wall_s=time.monotonic() - started,
            waveform=self.wave_path,
            timeline=intervals,
            extra={"sim_wall_s": sim_wall, "sim_cycles": int(sim_cycles.value)},
        )

    def _timeline(self, handle: int, origin: int) -> list[tuple[str, str, int, int]]:
        """The recorded changes of the design's ``events_o`` as fsim-style intervals
        ``(unit, "busy" | "stall", start, end)``, cycle 0 being the host's START write."""
        end = int(self._lib.th_now(handle)) - origin
        n = int(self._lib.th_events_count(handle))
        self._lib.th_events_record(handle, 0)
        cycles = np.zeros(n, np.uint64)
        values = np.zeros(n, np.uint16)
        if n:
            self._lib.th_events_copy(handle, cycles.ctypes.data, values.ctypes.data)
        return events_to_intervals(cycles.astype(np.int64) - origin, values, end)

    def close(self) -> None:
        if self._h is not None:
            self._lib.th_destroy(self._h)
            self._h = None

    def __del__(self) -> None:
        with contextlib.suppress(Exception):  # interpreter shutdown
            self.close()


# events_o bit -> (unit, kind), as tessera_top.v packs them (bits 8, 9: gemm and alu issue)
EVENT_BITS = (("load", "busy"), ("load", "stall"), ("compute", "busy"), ("compute", "stall"),
              ("store", "busy"), ("store", "stall"), ("fetch", "busy"), ("fetch", "stall"))


def events_to_intervals(cycles: np.ndarray, values: np.ndarray, end: int
                        ) -> list[tuple[str, str, int, int]]:
    """Per-bit intervals from the change list (``values[i]`` holds from ``cycles[i]`` until the
    next change; the last until ``end``), sorted by start."""
    out: list[tuple[str, str, int, int]] = []
    bounds = np.append(cycles, end)
    for bit, (unit, kind) in enumerate(EVENT_BITS):
        on = (values.astype(np.int64) >> bit) & 1
        edges = np.diff(np.concatenate(([0], on, [0])))
        starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        out.extend((unit, kind, int(bounds[a]), int(bounds[b])) for a, b in zip(starts, stops))
    out.sort(key=lambda t: (t[2], t[0], t[1]))
    return out


register_device("rtl-fast", RtlFastDevice)
