"""The read side of the AXI4 master: three DMA readers behind the round-robin arbiter, against
cocotbext-axi's AxiRamRead. Every user streams random windows at once, with random
backpressure; each must get exactly its bytes, in order, and every burst must be INCR, at most
MAX_BURST beats, and inside one 4 KiB page.
"""

from __future__ import annotations

import logging
import random
from typing import Any

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge
from cocotbext.axi import AxiRamRead, AxiReadBus

from tessera.sim.cocotb_tests.units.program_bench import config

RAM_BYTES = 1 << 18


async def _bursts(dut: Any, cfg: Any, seen: list[tuple[int, int]]) -> None:
    while True:
        await RisingEdge(dut.clk_i)
        if int(dut.m_axi_arvalid.value) and int(dut.m_axi_arready.value):
            addr, beats = int(dut.m_axi_araddr.value), int(dut.m_axi_arlen.value) + 1
            assert int(dut.m_axi_arburst.value) == 1, "bursts must be INCR"
            assert int(dut.m_axi_arsize.value) == cfg.bus_bytes.bit_length() - 1
            assert beats <= cfg.max_burst, f"a burst must be <= {cfg.max_burst} beats, not {beats}"
            end = addr + beats * cfg.bus_bytes - 1
            assert addr >> 12 == end >> 12, f"burst 0x{addr:x}+{beats} crosses a 4 KiB page"
            seen.append((addr, beats))


async def _user(dut: Any, cfg: Any, u: int, rnd: random.Random, ram: AxiRamRead,
                jobs: int, io: Packed) -> int:
    bus = cfg.bus_bytes
    total = 0
    for _ in range(jobs):
        beats = rnd.choice([1, 2, 3, cfg.max_burst, cfg.max_burst + 1, rnd.randrange(1, 300)])
        addr = rnd.randrange(0, RAM_BYTES - beats * bus) // bus * bus
        for _ in range(10000):
            if int(dut.req_ready_o.value) >> u & 1:
                break
            await FallingEdge(dut.clk_i)
        assert int(dut.req_ready_o.value) >> u & 1, f"user {u}: the reader must take a request"
        io.set("req_addr_i", u, addr, 32)
        io.set("req_beats_i", u, beats, 32)
        io.set("req_valid_i", u, 1, 1)
        await FallingEdge(dut.clk_i)
        io.set("req_valid_i", u, 0, 1)
        got = bytearray()
        for _ in range(100 * beats + 1000):
            # at the falling edge everything has settled: a beat offered now and accepted now
            # is taken at the next rising edge
            ready = rnd.random() < 0.7
            io.set("d_ready_i", u, int(ready), 1)
            if ready and int(dut.d_valid_o.value) >> u & 1:
                word = int(dut.d_data_o.value) >> (u * cfg.dram_bus_bits)
                got += (word & ((1 << cfg.dram_bus_bits) - 1)).to_bytes(bus, "little")
            await FallingEdge(dut.clk_i)
            if len(got) == beats * bus:
                break
        io.set("d_ready_i", u, 0, 1)
        want = ram.read(addr, beats * bus)
        assert bytes(got) == want, f"user {u}: the window 0x{addr:x}+{beats} beats differs"
        total += beats
    return total


class Packed:
    """Python-side copies of the packed per-user inputs. Writes land at the end of a time
    step, so coroutines must not read-modify-write the signals themselves."""

    def __init__(self, dut: Any) -> None:
        self.dut = dut
        self.values = {"req_valid_i": 0, "req_addr_i": 0, "req_beats_i": 0, "d_ready_i": 0}
        for name in self.values:
            getattr(dut, name).value = 0

    def set(self, name: str, u: int, value: int, width: int) -> None:
        mask = ((1 << width) - 1) << (u * width)
        self.values[name] = (self.values[name] & ~mask) | (value << (u * width))
        getattr(self.dut, name).value = self.values[name]


@cocotb.test()
async def three_users_share_the_read_channel(dut: Any) -> None:
    cfg = config()
    Clock(dut.clk_i, 10, unit="ns").start()
    dut.rst_ni.value = 0
    io = Packed(dut)
    ram = AxiRamRead(AxiReadBus.from_prefix(dut, "m_axi"), dut.clk_i, dut.rst_ni,
                     reset_active_level=False, size=RAM_BYTES)
    ram.log.setLevel(logging.WARNING)
    ram.write(0, random.Random(9).randbytes(RAM_BYTES))
    await ClockCycles(dut.clk_i, 4)
    dut.rst_ni.value = 1
    await FallingEdge(dut.clk_i)
    seen: list[tuple[int, int]] = []
    cocotb.start_soon(_bursts(dut, cfg, seen))
    tasks = [cocotb.start_soon(_user(dut, cfg, u, random.Random(u), ram, 12, io)) for u in range(3)]
    beats = 0
    for task in tasks:
        beats += await task
    await ClockCycles(dut.clk_i, 4)
    assert int(dut.quiet_o.value) == 0b111, "every reader must be quiet at the end"
    assert int(dut.bus_err_o.value) == 0
    assert sum(b for _, b in seen) == beats, "the bursts must cover exactly the requested beats"
