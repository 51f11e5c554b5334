"""The device interface every accelerator back end implements (fsim, rtl, rtl-fast, pynq).

A device owns a flat, byte-addressed DRAM. Software allocates buffers in it, copies data in,
places an instruction stream (``Program``) and runs it; the device answers with a
``RunResult``: cycles, the register-map counters (``tessera.hw.regmap.COUNTERS`` names), and
wall time. Micro-op kernels are data like any other: they live in DRAM buffers and the program
LOADs them into the micro-op cache.

Back ends register a factory with ``register_device``; users call ``device("fsim")``.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from tessera.hw.config import HwConfig
from tessera.hw.errors import TesseraError
from tessera.hw.isa import Insn, program_bytes

DEFAULT_DRAM_BYTES = 256 << 20
ALIGN = 64


class DeviceError(TesseraError, RuntimeError):
    """A device could not run a program: deadlock, watchdog, illegal instruction, bad access."""


@dataclass(frozen=True)
class Buffer:
    """A region of device DRAM: byte address and size."""

    addr: int
    nbytes: int

    def entry(self, cfg: HwConfig, kind: str) -> int:
        """This buffer's address in entries of ``kind`` (the unit of LOAD/STORE dram_base)."""
        size = cfg.entry_bytes(kind)
        if self.addr % size:
            raise DeviceError(
                f"buffer at 0x{self.addr:x} must be aligned to a {kind} entry ({size} bytes)"
            )
        return self.addr // size


@dataclass(frozen=True)
class Program:
    """An instruction stream for one configuration."""

    insns: tuple[Insn, ...]
    cfg: HwConfig
    name: str = "program"

    def to_bytes(self) -> bytes:
        return program_bytes(list(self.insns), self.cfg)


@dataclass
class RunResult:
    """What a run reports. ``counters`` uses the names of ``tessera.hw.regmap.COUNTERS``."""

    cycles: int
    counters: dict[str, int] = field(default_factory=dict)
    wall_s: float = 0.0
    waveform: Path | None = None
    # Optional per-unit busy/stall intervals [(unit, kind, start, end)] for timelines.
    timeline: list[tuple[str, str, int, int]] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


class Device(abc.ABC):
    """An accelerator with its own DRAM. Subclasses implement the five abstract methods."""

    name: str = "device"

    def __init__(self, cfg: HwConfig | None = None, dram_bytes: int = DEFAULT_DRAM_BYTES):
        self.cfg = cfg or HwConfig.default()
        self.dram_bytes = dram_bytes
        self._live: dict[int, Buffer] = {}

    # ----------------------------------------------------------------- allocation
    def alloc(self, nbytes: int, align: int = ALIGN) -> Buffer:
        """A new buffer of ``nbytes``: the lowest gap between live buffers that fits (first
        fit), else after the last one. Freed space is reused, so a model whose constants stay
        loaded can run any number of times, and the same sequence of allocations always gets
        the same addresses (DMA timing depends on them: cycle counts stay reproducible)."""
        if nbytes <= 0:
            raise DeviceError(f"{self.name}: allocation size must be positive, not {nbytes}")
        end = ALIGN  # address 0 stays unused so a zero address is always a bug
        for start in sorted(self._live):
            addr = -(-end // align) * align
            if addr + nbytes <= start:
                break
            end = max(end, start + self._live[start].nbytes)
        else:
            addr = -(-end // align) * align
        if addr + nbytes > self.dram_bytes:
            raise DeviceError(
                f"{self.name}: out of DRAM: {nbytes} bytes requested, "
                f"{self.dram_bytes - addr} of {self.dram_bytes} left"
            )
        buf = Buffer(addr, nbytes)
        self._live[addr] = buf
        return buf

    def free(self, buf: Buffer) -> None:
        if self._live.pop(buf.addr, None) is None:
            raise DeviceError(f"{self.name}: buffer at 0x{buf.addr:x} is not allocated")

    def reset(self) -> None:
        """Free every buffer."""
        self._live.clear()

    # ----------------------------------------------------------------- data movement
    def copy_in(self, buf: Buffer, data: np.ndarray | bytes, offset: int = 0) -> None:
        raw = data.tobytes() if isinstance(data, np.ndarray) else bytes(data)
        if offset < 0 or offset + len(raw) > buf.nbytes:
            raise DeviceError(
                f"{self.name}: copy of {len(raw)} bytes at offset {offset} does not fit the "
                f"{buf.nbytes}-byte buffer at 0x{buf.addr:x}"
            )
        self.write_dram(buf.addr + offset, raw)

    def copy_out(
        self, buf: Buffer, dtype: Any = np.uint8, shape: tuple[int, ...] | None = None
    ) -> np.ndarray:
        out = np.frombuffer(self.read_dram(buf.addr, buf.nbytes), dtype=np.uint8).copy()
        arr = out.view(dtype)
        return arr.reshape(shape) if shape is not None else arr

    # ----------------------------------------------------------------- back-end hooks
    @abc.abstractmethod
    def write_dram(self, addr: int, data: bytes) -> None:
        """Write raw bytes at a DRAM byte address."""

    @abc.abstractmethod
    def read_dram(self, addr: int, nbytes: int) -> bytes:
        """Read raw bytes from a DRAM byte address."""

    @abc.abstractmethod
    def run(self, program: Program, **options: Any) -> RunResult:
        """Place ``program`` in DRAM, run it to FINISH and report. Raises DeviceError on an
        illegal instruction, a bad access, a deadlock or a watchdog timeout; never hangs."""

    def close(self) -> None:
        """Release simulator processes or board handles (nothing to do by default)."""
        return None

    def __enter__(self) -> Device:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


# ----------------------------------------------------------------------- registry
_FACTORIES: dict[str, Callable[..., Device]] = {}


def register_device(name: str, factory: Callable[..., Device]) -> None:
    _FACTORIES[name] = factory


def _load_builtin(name: str) -> None:
    """Import the module of a built-in back end, which registers itself."""
    import importlib

    modules = {
        "fsim": "tessera.runtime.fsim_device",
        "rtl": "tessera.runtime.rtl_device",
        "rtl-fast": "tessera.runtime.rtl_fast_device",
        "pynq": "tessera.runtime.pynq_device",
    }
    if name in modules:
        importlib.import_module(modules[name])


def device(name: str = "fsim", cfg: HwConfig | None = None, **kwargs: Any) -> Device:
    """A device by name: ``fsim``, ``rtl``, ``rtl-fast`` (and ``pynq`` on a board)."""
    if name not in _FACTORIES:
        _load_builtin(name)
    if name not in _FACTORIES:
        known = sorted(set(_FACTORIES) | {"fsim", "rtl", "rtl-fast", "pynq"})
        raise DeviceError(f"device must be one of {known}, not {name!r}")
    return _FACTORIES[name](cfg=cfg, **kwargs)
