"""The ``fsim`` device: the functional simulator behind the ``Device`` interface.

    import tessera.runtime as rt
    dev = rt.device("fsim", cfg=cfg)           # dram_bytes=... optional
    buf = dev.alloc(n); dev.copy_in(buf, arr)
    res = dev.run(Program(tuple(insns), cfg))  # timeline=True for per-unit intervals
    dev.copy_out(buf, np.int8, shape)

``run`` places the encoded program in DRAM (in a buffer of its own, reused across runs),
fetches and runs it like the hardware, and reports fsim's cycle model. Simulator errors
(illegal instruction, out of range, deadlock) come out as ``DeviceError`` with the simulator's
message.
"""

from __future__ import annotations

from typing import Any

from tessera.hw.config import INSN_BITS, HwConfig
from tessera.hw.errors import EncodingError
from tessera.hw.isa import encode
from tessera.hw.regmap import ErrorCode
from tessera.runtime.device import (
    DEFAULT_DRAM_BYTES,
    Buffer,
    Device,
    DeviceError,
    Program,
    RunResult,
    register_device,
)
from tessera.sim.fsim import FSim, SimError

OPTIONS = ("timeline",)


class FSimRunError(DeviceError):
    """fsim stopped the program: ``code`` (``regmap.ErrorCode``: ILLEGAL_INSN, OUT_OF_RANGE,
    BUS_ERROR for a DMA window past the end of DRAM, as the RTL's bus answers, or WATCHDOG for
    a deadlock) and ``pc`` (the failing instruction, where one is to blame) say
    what and where, as ``RtlRunError`` does for the RTL."""

    def __init__(self, message: str, code: ErrorCode, pc: int | None) -> None:
        super().__init__(message)
        self.code = code
        self.pc = pc


class FSimDevice(Device):
    """A ``Device`` whose DRAM and accelerator are ``tessera.sim.fsim.FSim``."""

    name = "fsim"

    def __init__(self, cfg: HwConfig | None = None, dram_bytes: int = DEFAULT_DRAM_BYTES):
        super().__init__(cfg, dram_bytes)
        self.sim = FSim(self.cfg, dram_bytes)
        self._prog: Buffer | None = None

    def _program_buffer(self, nbytes: int) -> Buffer:
        """A DRAM buffer for instruction streams, reused across runs and grown in powers of
        two (so repeated runs do not use up the bump allocator)."""
        if self._prog is None or self._prog.nbytes < nbytes:
            if self._prog is not None:
                self.free(self._prog)
            self._prog = self.alloc(1 << max(12, (nbytes - 1).bit_length()), align=64)
        return self._prog

    def reset(self) -> None:
        super().reset()
        self._prog = None

    def write_dram(self, addr: int, data: bytes) -> None:
        try:
            self.sim.write_dram(addr, data)
        except SimError as err:
            raise DeviceError(f"{self.name}: {err}") from None

    def read_dram(self, addr: int, nbytes: int) -> bytes:
        try:
            return self.sim.read_dram(addr, nbytes)
        except SimError as err:
            raise DeviceError(f"{self.name}: {err}") from None

    def run(self, program: Program, **options: Any) -> RunResult:
        unknown = sorted(set(options) - set(OPTIONS))
        if unknown:
            raise DeviceError(f"{self.name}: run options must be among {list(OPTIONS)}, "
                              f"not {unknown}")
        if program.cfg != self.cfg:
            raise DeviceError(
                f"{self.name}: program {program.name!r} is for configuration "
                f"{program.cfg.name!r}, but this device is {self.cfg.name!r}"
            )
        raw = _encode(program)
        if not raw:
            raise DeviceError(f"{self.name}: program {program.name!r} has no instructions")
        buf = self._program_buffer(len(raw))
        try:
            self.write_dram(buf.addr, raw)
            res = self.sim.run(
                insn_addr=buf.addr, insn_count=len(program.insns),
                timeline=bool(options.get("timeline", False)),
            )
        except SimError as err:
            raise FSimRunError(str(err), err.code, err.pc) from err
        return RunResult(
            cycles=res.cycles, counters=dict(res.counters), wall_s=res.wall_s,
            timeline=res.timeline, extra={"insn_spans": res.insn_spans} if res.insn_spans
            else {},
        )


def _encode(program: Program) -> bytes:
    """The instruction stream's bytes; a field that does not fit names its instruction."""
    words = []
    for pc, insn in enumerate(program.insns):
        try:
            words.append(encode(insn, program.cfg).to_bytes(INSN_BITS // 8, "little"))
        except EncodingError as err:
            raise DeviceError(f"instruction {pc}: {err}") from None
    return b"".join(words)


def _factory(cfg: HwConfig | None = None, **kwargs: Any) -> Device:
    return FSimDevice(cfg, **kwargs)


register_device("fsim", _factory)
