"""Drive ``tessera_top`` from a cocotb test: DRAM behind cocotbext-axi's AxiRam, control through
its AxiLiteMaster, the software protocol of ``tessera.hw.regmap``.

Runs inside the simulator (cocotb). The configuration comes from ``TESSERA_RTL_CONFIG`` (its
JSON, or a preset name), set by the pytest wrapper that built the design for it.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiBus, AxiLiteBus, AxiLiteMaster, AxiRam

from tessera.hw import isa as I
from tessera.hw import regmap
from tessera.hw.config import HwConfig

DRAM_BYTES = 1 << 20
INSN_ADDR = 0x1000


def config() -> HwConfig:
    value = os.environ.get("TESSERA_RTL_CONFIG", "small")
    return HwConfig.from_json(value) if value.startswith("{") else HwConfig.named(value)


@dataclass
class Outcome:
    ctrl: int
    status: int
    error_pc: int
    counters: dict[str, int]

    @property
    def done(self) -> bool:
        return bool(self.ctrl & regmap.CTRL_DONE)

    @property
    def error(self) -> bool:
        return bool(self.ctrl & regmap.CTRL_ERROR)


class Bench:
    """The top with its DRAM and control master, after reset."""

    def __init__(self, dut: Any, cfg: HwConfig, ram_cls: type[AxiRam] = AxiRam) -> None:
        self.dut, self.cfg = dut, cfg
        Clock(dut.clk_i, 10, unit="ns").start()
        self.ram = ram_cls(AxiBus.from_prefix(dut, "m_axi"), dut.clk_i, dut.rst_ni,
                          reset_active_level=False, size=DRAM_BYTES)
        self.ctrl = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk_i,
                                  dut.rst_ni, reset_active_level=False)
        for log in (self.ram.write_if.log, self.ram.read_if.log, self.ctrl.write_if.log,
                    self.ctrl.read_if.log):
            log.setLevel(logging.WARNING)

    async def reset(self) -> None:
        self.dut.rst_ni.value = 0
        await ClockCycles(self.dut.clk_i, 8)
        self.dut.rst_ni.value = 1
        await ClockCycles(self.dut.clk_i, 2)

    async def read(self, offset: int) -> int:
        return int(await self.ctrl.read_dword(offset))

    async def write(self, offset: int, value: int) -> None:
        await self.ctrl.write_dword(offset, value)

    async def run(self, insns: list[I.Insn] | bytes, count: int | None = None,
                  watchdog: int | None = None, max_cycles: int = 200_000,
                  insn_addr: int = INSN_ADDR) -> Outcome:
        """Load the program at insn_addr, start it, wait for irq (done or error)."""
        raw = insns if isinstance(insns, bytes) else I.program_bytes(list(insns), self.cfg)
        self.ram.write(insn_addr, raw)
        await self.write(regmap.INSN_ADDR, insn_addr)
        await self.write(regmap.INSN_COUNT, len(raw) // 16 if count is None else count)
        if watchdog is not None:
            await self.write(regmap.WATCHDOG, watchdog)
        await self.write(regmap.CTRL, regmap.CTRL_START)
        await ClockCycles(self.dut.clk_i, 4)  # irq of the previous run drops once it starts
        waited = 0
        while not int(self.dut.irq_o.value):
            await RisingEdge(self.dut.clk_i)
            waited += 1
            if waited > max_cycles:
                raise AssertionError(f"the run must end within {max_cycles} cycles, but did not")
        return await self.outcome()

    async def outcome(self) -> Outcome:
        counters = {name: await self.read(off) for name, off in regmap.COUNTERS.items()}
        return Outcome(await self.read(regmap.CTRL), await self.read(regmap.STATUS),
                       await self.read(regmap.ERROR_PC), counters)

    async def soft_reset(self) -> None:
        await self.write(regmap.CTRL, 1 << 1)
        for _ in range(1000):
            if await self.read(regmap.CTRL) == 0:
                return
        raise AssertionError("a soft reset must return CTRL to 0 within 1000 reads")
