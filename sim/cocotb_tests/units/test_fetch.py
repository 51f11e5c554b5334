"""Fetch through tessera_top: a long instruction stream that crosses 4 KiB pages is read in
legal bursts and dispatched in order to all three units; everything after FINISH is read and
dropped (even bytes that are no instruction); a stream without FINISH is an error.
"""

from __future__ import annotations

from typing import Any

import cocotb
from cocotb.triggers import FallingEdge

from tessera.hw import isa as I
from tessera.sim.cocotb_tests.units.program_bench import Bench, config


@cocotb.test()
async def long_stream_across_pages(dut: Any) -> None:
    cfg = config()
    bench = Bench(dut, cfg)
    await bench.reset()
    reads: list[tuple[int, int]] = []

    async def monitor() -> None:
        while True:
            await FallingEdge(dut.clk_i)
            if int(dut.m_axi_arvalid.value) and int(dut.m_axi_arready.value):
                reads.append((int(dut.m_axi_araddr.value), int(dut.m_axi_arlen.value) + 1))

    cocotb.start_soon(monitor())
    # ping-pong between the units with tokens, so every instruction waits on the one before
    body: list[I.Insn] = []
    for _ in range(60):
        body += [
            I.MemInsn(mem_type=I.MemType.INP, y_size=0, push_next=True),
            I.GemmInsn(reset=True, uop_bgn=0, uop_end=0, pop_prev=True, push_next=True),
            I.MemInsn(store=True, mem_type=I.MemType.OUT, y_size=0, pop_prev=True,
                      push_prev=True),
            I.GemmInsn(reset=True, uop_bgn=0, uop_end=0, pop_next=True),
        ]
    raw = I.program_bytes([*body, I.FinishInsn()], cfg) + b"\xff" * 16 * 40
    addr = 0x3000 - 16 * 7  # crosses into the next page after 7 instructions
    out = await bench.run(raw, insn_addr=addr)
    assert out.done, f"the stream must end done, not STATUS={out.status} PC={out.error_pc}"
    assert out.counters["insn_done"] == len(body) + 1
    fetched = sum(beats for a, beats in reads if addr <= a < addr + len(raw))
    assert fetched * cfg.bus_bytes == len(raw), "fetch must read the whole stream once"
    for a, beats in reads:
        assert beats <= cfg.max_burst
        assert a >> 12 == (a + beats * cfg.bus_bytes - 1) >> 12, f"0x{a:x}+{beats} crosses 4K"
    assert any(a < 0x3000 for a, _ in reads) and any(a >= 0x3000 for a, _ in reads)
