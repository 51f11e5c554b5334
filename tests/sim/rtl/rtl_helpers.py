"""``DifferentialFSim``: an FSim that runs every program on the RTL (rtl-fast) as well.

Each ``run`` executes on the functional simulator and on the RTL from the same DRAM image and
the same on-chip state, then requires the same outcome: byte-identical DRAM after a good run,
or the same error code (and the same failing instruction, where fsim names one) after a bad
one. Tests written for fsim thereby run on the RTL unchanged.

On-chip state: the RTL keeps its buffers between runs, like fsim. Where a test writes fsim's
micro-op, input, weight or accumulator buffers directly, the same contents reach the RTL
through a restore program of whole-buffer LOADs from a scratch area past fsim's DRAM. The
output buffer has no LOAD, so a test that writes it directly is skipped on the RTL.

The default run checks the small configuration only (one Verilator build); other
configurations (default, batch 2, ...) each need a build of their own and run with
``TESSERA_RTL_CONFIGS=all``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from tessera.hw import isa as I
from tessera.hw.config import HwConfig
from tessera.hw.errors import EncodingError
from tessera.hw.regmap import ErrorCode
from tessera.runtime.device import DeviceError
from tessera.runtime.rtl_device import RtlRunError
from tessera.runtime.rtl_fast_device import RtlFastDevice
from tessera.sim.fsim import FSim, SimResult
from tessera.sim.fsim.errors import SimError

SCRATCH = 2 << 20  # restore images and the program, past fsim's DRAM
WATCHDOG = 1 << 16
RESTORED = (("uop", I.MemType.UOP), ("inp", I.MemType.INP), ("wgt", I.MemType.WGT),
            ("acc", I.MemType.ACC))
REPORT: list[tuple[str, int, int]] = []


def top_available() -> bool:
    """Whether the accelerator's RTL (tessera_top and its modules) is in the tree."""
    try:
        from tessera.hw.rtl_sources import rtl_sources
    except ImportError:
        return False
    return all(Path(f).exists() for f in rtl_sources(HwConfig.small()).files)


requires_top = pytest.mark.skipif(not top_available(), reason="tessera_top RTL not present yet")


def _case() -> str:
    return os.environ.get("PYTEST_CURRENT_TEST", "?").split(" ")[0].split("::")[-1]


class DifferentialFSim(FSim):
    """FSim whose runs are checked against the RTL (see the module docstring)."""

    def __init__(self, cfg: HwConfig | None = None, dram_bytes: int = 64 << 20,
                 **model_options: Any) -> None:
        super().__init__(cfg, dram_bytes, **model_options)
        if self.cfg.name != "small" and os.environ.get("TESSERA_RTL_CONFIGS") != "all":
            pytest.skip(f"configuration {self.cfg.name!r} on the RTL needs its own Verilator "
                        "build: set TESSERA_RTL_CONFIGS=all to include it")
        # Options that change fsim's machine model (e.g. unbounded command queues) have no
        # RTL counterpart: such an instance runs on fsim alone.
        self.on_rtl = "cmd_depth" not in model_options
        if self.on_rtl:
            self._fresh_rtl()

    def _fresh_rtl(self) -> None:
        size = len(self.state.dram)
        self.rtl = RtlFastDevice(self.cfg, dram_bytes=size + SCRATCH, timeout_s=120)
        self._synced = {k: np.zeros_like(v) for k, v in self.state.buffers.items()}

    def _restore(self) -> None:
        """Bring the RTL's buffers to fsim's where a test wrote fsim's directly."""
        if not np.array_equal(self.state.out, self._synced["out"]):
            pytest.skip("the test writes fsim's output buffer directly: no RTL equivalent")
        base = len(self.state.dram)
        loads: list[I.Insn] = []
        for kind, mem in RESTORED:
            buf = self.state.buffers[kind]
            if np.array_equal(buf, self._synced[kind]):
                continue
            entry = self.cfg.entry_bytes(kind)
            addr = -(-base // entry) * entry
            raw = np.ascontiguousarray(buf).tobytes()
            self.rtl.write_dram(addr, raw)
            base = addr + len(raw)
            depth = self.cfg.depth(kind)
            loads.append(I.MemInsn(mem_type=mem, sram_base=0, dram_base=addr // entry,
                                   y_size=1, x_size=depth, x_stride=depth))
        if loads:
            self._run_rtl(I.program_bytes([*loads, I.FinishInsn()], self.cfg), base, "restore")

    def _check_out_buffer(self) -> None:
        """STORE the RTL's whole output buffer to scratch and compare it with fsim's, so that
        results a test reads from fsim's buffers (not DRAM) are checked too."""
        entry = self.cfg.entry_bytes("out")
        addr = -(-len(self.state.dram) // entry) * entry
        depth = self.cfg.depth("out")
        store = I.MemInsn(store=True, mem_type=I.MemType.OUT, sram_base=0,
                          dram_base=addr // entry, y_size=1, x_size=depth, x_stride=depth)
        raw = I.program_bytes([store, I.FinishInsn()], self.cfg)
        self._run_rtl(raw, addr + depth * entry, "dump-out")
        got = np.frombuffer(self.rtl.read_dram(addr, depth * entry), dtype=np.int8)
        want = np.ascontiguousarray(self.state.out).view(np.int8).reshape(-1)
        if not np.array_equal(got, want):
            first = int(np.flatnonzero(got != want)[0])
            raise AssertionError(
                f"RTL and fsim output buffers differ first at byte {first} (entry "
                f"{first // entry}): RTL {got[first]}, fsim {want[first]}"
            )

    def _run_rtl(self, raw: bytes, addr: int, name: str) -> Any:
        addr = -(-addr // 16) * 16
        self.rtl.write_dram(addr, raw)
        return self.rtl.run_from_dram(addr, len(raw) // 16, name=name, watchdog=WATCHDOG)

    def _dram_sized_rerun(self, raw: bytes) -> DeviceError | None:
        """Run again on an RTL whose DRAM is exactly fsim's, so that an access past its end
        is one for the RTL too; the program goes into the highest all-zero stretch."""
        size = len(self.state.dram)
        image = self.rtl.read_dram(0, size)
        addr = (size - len(raw)) // 16 * 16
        while addr >= 0 and any(image[addr : addr + len(raw)]):
            addr -= 16
        if addr < 0:
            pytest.skip("no room in fsim's DRAM to place the program for a DRAM-range check")
        dev = RtlFastDevice(self.cfg, dram_bytes=size, timeout_s=120)
        dev.write_dram(0, image)
        dev.write_dram(addr, raw)
        try:
            dev.run_from_dram(addr, len(raw) // 16, name=_case(), watchdog=WATCHDOG)
        except DeviceError as err:
            return err
        finally:
            dev.close()
        return None

    def run(self, program: Sequence[I.Insn] | bytes | None = None, *,
            insn_addr: int | None = None, insn_count: int | None = None,
            timeline: bool = False) -> SimResult:
        raw: bytes | None = None
        if program is not None:
            try:
                raw = (bytes(program) if isinstance(program, (bytes, bytearray, memoryview))
                       else I.program_bytes(list(program), self.cfg))
            except EncodingError:
                raw = None
            if raw is not None and (len(raw) % 16 or not raw):
                raw = None
        on_rtl = self.on_rtl and (
            raw is not None or (insn_addr is not None and insn_count is not None))
        if on_rtl:
            self.rtl.write_dram(0, self.state.dram.tobytes())
            self._restore()
        fsim_error: SimError | None = None
        try:
            result = super().run(program, insn_addr=insn_addr, insn_count=insn_count,
                                 timeline=timeline)
        except SimError as err:
            fsim_error = err
        if not on_rtl:
            if fsim_error is not None:
                raise fsim_error
            return result
        rtl_error: DeviceError | None = None
        try:
            if raw is not None:
                rtl = self._run_rtl(raw, len(self.state.dram) + SCRATCH // 2, _case())
            else:
                assert insn_addr is not None and insn_count is not None
                rtl = self.rtl.run_from_dram(insn_addr, insn_count, name=_case(),
                                             watchdog=WATCHDOG)
        except DeviceError as err:
            rtl_error = err
        if fsim_error is not None and "of DRAM" in str(fsim_error) and raw is not None:
            rtl_error = self._dram_sized_rerun(raw)
        if fsim_error is not None:
            self._fresh_rtl()  # the partial state after an error need not match
            assert isinstance(rtl_error, RtlRunError), (
                f"fsim raised {type(fsim_error).__name__} ({fsim_error}), the RTL "
                f"{'raised ' + str(rtl_error) if rtl_error else 'finished normally'}"
            )
            want = fsim_error.code  # BUS_ERROR for a DMA window past DRAM, as on the RTL
            assert rtl_error.code == want, (
                f"fsim: {fsim_error.code.name} ({fsim_error}); RTL: {rtl_error}"
            )
            if fsim_error.pc is not None and want not in (ErrorCode.WATCHDOG,
                                                          ErrorCode.BUS_ERROR):
                assert rtl_error.pc == fsim_error.pc, f"fsim: {fsim_error}; RTL: {rtl_error}"
            raise fsim_error
        assert rtl_error is None, f"fsim finished, the RTL did not: {rtl_error}"
        size = len(self.state.dram)
        got = np.frombuffer(self.rtl.read_dram(0, size), dtype=np.uint8)
        if not np.array_equal(got, self.state.dram):
            first = int(np.flatnonzero(got != self.state.dram)[0])
            raise AssertionError(
                f"RTL and fsim DRAM differ first at 0x{first:x}: RTL 0x{got[first]:02x}, "
                f"fsim 0x{self.state.dram[first]:02x}"
            )
        self._check_out_buffer()
        self._synced = {k: v.copy() for k, v in self.state.buffers.items()}
        REPORT.append((_case(), rtl.cycles, result.cycles))
        return result
