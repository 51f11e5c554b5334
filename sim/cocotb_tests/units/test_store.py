"""STORE through tessera_top: strided rows from the output buffer to DRAM, with an AXI write
monitor: INCR bursts of at most MAX_BURST beats inside one 4 KiB page, full strobes, wlast on
the last beat of each burst, and exactly the window's bytes written (gaps untouched).
"""

from __future__ import annotations

from typing import Any

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from tessera.hw import isa as I
from tessera.sim.cocotb_tests.units.program_bench import Bench, config
from tessera.sim.cocotb_tests.units.test_compute import uop_words

UOP_ADDR = 0x8000
ACC_ADDR = 0x10000


class WriteMonitor:
    def __init__(self, dut: Any, cfg: Any) -> None:
        self.dut, self.cfg = dut, cfg
        self.bursts: list[tuple[int, int]] = []
        self.beats_in_burst = 0
        self.errors: list[str] = []
        self.pending: list[int] = []
        cocotb.start_soon(self._run())

    async def _run(self) -> None:
        dut, cfg = self.dut, self.cfg
        while True:
            await FallingEdge(dut.clk_i)
            if int(dut.m_axi_awvalid.value) and int(dut.m_axi_awready.value):
                addr, beats = int(dut.m_axi_awaddr.value), int(dut.m_axi_awlen.value) + 1
                if int(dut.m_axi_awburst.value) != 1:
                    self.errors.append("burst must be INCR")
                if beats > cfg.max_burst:
                    self.errors.append(f"burst of {beats} beats > {cfg.max_burst}")
                if addr >> 12 != (addr + beats * cfg.bus_bytes - 1) >> 12:
                    self.errors.append(f"burst 0x{addr:x}+{beats} crosses 4 KiB")
                self.bursts.append((addr, beats))
                self.pending.append(beats)
            if int(dut.m_axi_wvalid.value) and int(dut.m_axi_wready.value):
                if int(dut.m_axi_wstrb.value) != (1 << cfg.bus_bytes) - 1:
                    self.errors.append("wstrb must be full")
                self.beats_in_burst += 1
                last = int(dut.m_axi_wlast.value)
                expected_last = bool(self.pending) and self.beats_in_burst == self.pending[0]
                if bool(last) != expected_last:
                    self.errors.append(f"wlast {last} at beat {self.beats_in_burst}")
                if last:
                    self.beats_in_burst = 0
                    if self.pending:
                        self.pending.pop(0)


@cocotb.test()
async def strided_rows_in_legal_bursts(dut: Any) -> None:
    cfg = config()
    bench = Bench(dut, cfg)
    await bench.reset()
    mon = WriteMonitor(dut, cfg)
    rng = np.random.default_rng(21)
    lanes = cfg.batch * cfg.block_out
    ob = cfg.entry_bytes("out")
    n = 200
    acc = rng.integers(-(2**31), 2**31, (n, lanes), dtype=np.int64).astype(np.int32)
    bench.ram.write(ACC_ADDR, acc.tobytes())
    bench.ram.write(UOP_ADDR, uop_words(cfg, [I.Uop(dst=0, src=0, wgt=0)]))
    out_entries = acc.astype(np.int8)
    prelude = [
        I.MemInsn(mem_type=I.MemType.UOP, dram_base=UOP_ADDR // 4, x_size=1, x_stride=1),
        I.MemInsn(mem_type=I.MemType.ACC, dram_base=ACC_ADDR // cfg.entry_bytes("acc"),
                  x_size=n, x_stride=n),
        I.AluInsn(alu_op=I.AluOp.ADD, use_imm=True, imm=0, uop_bgn=0, uop_end=1, iter_out=n,
                  dst_factor_out=1, push_next=True),
    ]
    # rows longer than a burst, starting just below a 4 KiB page, with gaps between rows
    base_addr = 0x40000 + 4096 - 3 * ob
    cases = [(3, 40, 57, 5, base_addr), (1, 1, 1, 0, 0x50000), (4, 7, 7, 10, 0x60000 - ob)]
    for ys, xs, stride, sram, addr in cases:
        region = ((ys - 1) * stride + xs) * ob
        bench.ram.write(addr - 64, b"\xa5" * (region + 128))
        insns = [*prelude,
                 I.MemInsn(store=True, mem_type=I.MemType.OUT, sram_base=sram,
                           dram_base=addr // ob, y_size=ys, x_size=xs, x_stride=stride,
                           pop_prev=True),
                 I.FinishInsn()]
        out = await bench.run(insns)
        assert out.done, f"store {ys}x{xs}: must end done, not STATUS={out.status}"
        want = bytearray(b"\xa5" * (region + 128))
        for r in range(ys):
            rows = out_entries[sram + r * xs: sram + (r + 1) * xs].tobytes()
            at = 64 + r * stride * ob
            want[at: at + len(rows)] = rows
        got = bench.ram.read(addr - 64, region + 128)
        assert got == bytes(want), f"store {ys}x{xs} stride {stride} at 0x{addr:x} differs"
    assert not mon.errors, mon.errors[:5]
    assert not mon.pending, "every burst must complete"
    assert sum(b for _, b in mon.bursts) * cfg.bus_bytes == sum(
        ys * xs * ob for ys, xs, *_ in cases)
