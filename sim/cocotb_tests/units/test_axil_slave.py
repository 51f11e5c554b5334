"""tessera_axil_slave through cocotbext-axi's AxiLiteMaster: the register map of regmap."""

from __future__ import annotations

import logging
import random
from typing import Any

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge
from cocotbext.axi import AxiLiteBus, AxiLiteMaster

from tessera.hw import regmap

COUNTER_OFFSETS = [off for name, off in regmap.COUNTERS.items() if name != "cycles"]


class Pulses:
    """Counts the one-cycle start and soft-reset pulses."""

    def __init__(self, dut: Any) -> None:
        self.start = 0
        self.soft_reset = 0
        self.dut = dut
        cocotb.start_soon(self._watch())

    async def _watch(self) -> None:
        while True:
            await RisingEdge(self.dut.clk_i)
            self.start += int(self.dut.start_o.value)
            self.soft_reset += int(self.dut.soft_reset_o.value)


@cocotb.test()
async def registers_read_and_write(dut: Any) -> None:
    Clock(dut.clk_i, 10, unit="ns").start()
    rnd = random.Random(3)
    inputs = {
        regmap.STATUS: rnd.getrandbits(32), regmap.CYCLES: rnd.getrandbits(32),
        regmap.ERROR_PC: rnd.getrandbits(32),
    }
    counters = [rnd.getrandbits(32) for _ in COUNTER_OFFSETS]
    dut.ctrl_i.value = 0b101
    dut.status_i.value = inputs[regmap.STATUS]
    dut.cycles_i.value = inputs[regmap.CYCLES]
    dut.error_pc_i.value = inputs[regmap.ERROR_PC]
    dut.counters_i.value = sum(v << (32 * k) for k, v in enumerate(counters))
    dut.rst_ni.value = 0
    master = AxiLiteMaster(AxiLiteBus.from_prefix(dut, "s_axil"), dut.clk_i, dut.rst_ni,
                           reset_active_level=False)
    master.write_if.log.setLevel(logging.WARNING)
    master.read_if.log.setLevel(logging.WARNING)
    await ClockCycles(dut.clk_i, 4)
    dut.rst_ni.value = 1
    await ClockCycles(dut.clk_i, 2)
    pulses = Pulses(dut)

    async def read(off: int) -> int:
        return int(await master.read_dword(off))

    assert await read(regmap.WATCHDOG) == regmap.WATCHDOG_DEFAULT
    assert await read(regmap.INSN_ADDR) == 0
    for off in (regmap.INSN_ADDR, regmap.INSN_COUNT, regmap.WATCHDOG):
        value = rnd.getrandbits(32)
        await master.write_dword(off, value)
        assert await read(off) == value, f"register 0x{off:02x} must read back {value:#x}"
        assert int(dut.insn_addr_o.value if off == regmap.INSN_ADDR else
                   dut.insn_count_o.value if off == regmap.INSN_COUNT else
                   dut.watchdog_o.value) == value
    # byte strobes: only the addressed bytes change
    await master.write_dword(regmap.INSN_COUNT, 0x11223344)
    await master.write(regmap.INSN_COUNT + 1, b"\xaa")
    assert await read(regmap.INSN_COUNT) == 0x1122AA44
    # read-only registers show the control block's values and ignore writes
    assert await read(regmap.CTRL) == 0b101
    for off, value in inputs.items():
        await master.write_dword(off, 0)
        assert await read(off) == value, f"register 0x{off:02x} must read {value:#x}"
    for off, value in zip(COUNTER_OFFSETS, counters):
        assert await read(off) == value, f"counter 0x{off:02x} must read {value:#x}"
    assert await read(0x4C) == 0 and await read(0xFC) == 0, "unmapped registers must read 0"
    # CTRL writes give one-cycle pulses
    await master.write_dword(regmap.CTRL, regmap.CTRL_START)
    await ClockCycles(dut.clk_i, 3)
    assert (pulses.start, pulses.soft_reset) == (1, 0)
    await master.write_dword(regmap.CTRL, 1 << 1)
    await ClockCycles(dut.clk_i, 3)
    assert (pulses.start, pulses.soft_reset) == (1, 1)
    await master.write_dword(regmap.CTRL, 0)
    await ClockCycles(dut.clk_i, 3)
    assert (pulses.start, pulses.soft_reset) == (1, 1)
