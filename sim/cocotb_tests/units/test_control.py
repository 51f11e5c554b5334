"""Run control through tessera_top: errors software can read, the watchdog, soft reset, irq.

- an illegal instruction (each unit's kind) -> STATUS=ILLEGAL_INSN, ERROR_PC = its index;
- a window or index past its buffer -> OUT_OF_RANGE with the index;
- a program without FINISH -> ILLEGAL_INSN at index insn_count;
- a pop no one pushes (deadlock) -> WATCHDOG after WATCHDOG cycles, ERROR_PC = the oldest
  unfinished instruction;
- a DRAM error response (reads or writes of a faulting region) -> BUS_ERROR;
- after an error a start is ignored; a soft reset (CTRL=1<<1) returns to idle once the bus
  is quiet, and the next program runs normally; counters are frozen after done.
"""

from __future__ import annotations

from typing import Any

import cocotb
from cocotb.triggers import ClockCycles
from cocotbext.axi import AxiRam

from tessera.hw import isa as I
from tessera.hw import regmap
from tessera.hw.regmap import ErrorCode
from tessera.sim.cocotb_tests.units.program_bench import Bench, config


def _encode_raw(words: list[int]) -> bytes:
    return b"".join(w.to_bytes(16, "little") for w in words)


async def _expect_error(bench: Bench, insns: list[I.Insn] | bytes, code: ErrorCode, pc: int,
                        **kw: Any) -> None:
    out = await bench.run(insns, **kw)
    assert out.error and not out.done, f"the run must end in error, not CTRL={out.ctrl:#x}"
    assert out.status == code, f"STATUS must be {code.name}, not {out.status}"
    assert out.error_pc == pc, f"ERROR_PC must be {pc}, not {out.error_pc}"
    assert int(bench.dut.irq_o.value) == 1, "irq must be high in the error state"
    # a start is ignored until a soft reset
    await bench.write(regmap.CTRL, regmap.CTRL_START)
    await ClockCycles(bench.dut.clk_i, 4)
    assert await bench.read(regmap.CTRL) == regmap.CTRL_ERROR
    await bench.soft_reset()
    assert await bench.read(regmap.STATUS) == 0
    assert int(bench.dut.irq_o.value) == 0


async def _expect_done(bench: Bench) -> None:
    insns = [I.GemmInsn(reset=True, uop_bgn=0, uop_end=1), I.FinishInsn()]
    out = await bench.run(insns)
    assert out.done and not out.error and out.status == 0
    assert out.counters["insn_done"] == 2 and out.counters["alu_cycles"] == 0
    frozen = await bench.read(regmap.CYCLES)
    await ClockCycles(bench.dut.clk_i, 50)
    assert await bench.read(regmap.CYCLES) == frozen, "counters must stop once done"


@cocotb.test()
async def errors_are_reported_and_cleared(dut: Any) -> None:
    cfg = config()
    bench = Bench(dut, cfg)
    await bench.reset()
    fin = I.FinishInsn()
    nop = I.GemmInsn(reset=True, uop_bgn=0, uop_end=0)
    cases: list[tuple[str, list[I.Insn], ErrorCode, int]] = [
        ("load with pop_prev", [nop, I.MemInsn(mem_type=I.MemType.INP, pop_prev=True), fin],
         ErrorCode.ILLEGAL_INSN, 1),
        ("store with push_next", [I.MemInsn(store=True, mem_type=I.MemType.OUT,
                                            push_next=True), fin], ErrorCode.ILLEGAL_INSN, 0),
        ("store of ACC", [nop, nop, I.MemInsn(store=True, mem_type=I.MemType.ACC), fin],
         ErrorCode.ILLEGAL_INSN, 2),
        ("store with padding", [I.MemInsn(store=True, mem_type=I.MemType.OUT, x_pad_0=1), fin],
         ErrorCode.ILLEGAL_INSN, 0),
        ("load of OUT", [I.MemInsn(mem_type=I.MemType.OUT), fin], ErrorCode.ILLEGAL_INSN, 0),
        ("uop load with padding", [I.MemInsn(mem_type=I.MemType.UOP, y_pad_1=2), fin],
         ErrorCode.ILLEGAL_INSN, 0),
        ("inp window past the buffer",
         [I.MemInsn(mem_type=I.MemType.INP, sram_base=cfg.inp_depth - 4, y_size=2, x_size=3,
                    x_stride=3), fin], ErrorCode.OUT_OF_RANGE, 0),
        ("padding past the buffer",
         [nop, I.MemInsn(mem_type=I.MemType.WGT, sram_base=cfg.wgt_depth - 1, x_pad_1=1), fin],
         ErrorCode.OUT_OF_RANGE, 1),
        ("store past the buffer",
         [I.MemInsn(store=True, mem_type=I.MemType.OUT, sram_base=cfg.acc_depth - 1,
                    x_size=2, x_stride=2), fin], ErrorCode.OUT_OF_RANGE, 0),
        ("uop_end past the cache", [nop, I.GemmInsn(uop_bgn=0, uop_end=cfg.uop_depth + 1), fin],
         ErrorCode.OUT_OF_RANGE, 1),
        ("dst index past the accumulator",
         [I.AluInsn(reset=True, uop_bgn=0, uop_end=1, iter_out=3,
                    dst_factor_out=cfg.acc_depth - 1), fin], ErrorCode.OUT_OF_RANGE, 0),
    ]
    for name, insns, code, pc in cases:
        dut._log.info("case: %s", name)
        await _expect_error(bench, insns, code, pc)
        await _expect_done(bench)
    # an unknown opcode (fetch) and an unknown ALU op (compute)
    good = I.encode(nop, cfg)
    await _expect_error(bench, _encode_raw([good, good | 0x7, I.encode(fin, cfg)]),
                        ErrorCode.ILLEGAL_INSN, 1)
    alu = I.encode(I.AluInsn(uop_bgn=0, uop_end=1), cfg)
    lsb = next(f.lsb for f in I.insn_layout(cfg, I.Opcode.ALU) if f.name == "alu_op")
    await _expect_error(bench, _encode_raw([good, alu | (7 << lsb), I.encode(fin, cfg)]),
                        ErrorCode.ILLEGAL_INSN, 1)
    # no FINISH
    await _expect_error(bench, [nop, nop], ErrorCode.ILLEGAL_INSN, 2)
    await _expect_error(bench, [], ErrorCode.ILLEGAL_INSN, 0, count=0)
    await _expect_done(bench)


@cocotb.test()
async def watchdog_catches_a_deadlock(dut: Any) -> None:
    cfg = config()
    bench = Bench(dut, cfg)
    await bench.reset()
    insns = [
        I.GemmInsn(reset=True, uop_bgn=0, uop_end=1),
        I.GemmInsn(reset=True, uop_bgn=0, uop_end=1, pop_prev=True),  # no load pushes: stuck
        I.MemInsn(mem_type=I.MemType.INP, y_size=1, x_size=1),
        I.FinishInsn(),
    ]
    await _expect_error(bench, insns, ErrorCode.WATCHDOG, 1, watchdog=500, max_cycles=5000)
    out = await bench.outcome()
    assert out.counters["cycles"] < 1000
    await bench.write(regmap.WATCHDOG, regmap.WATCHDOG_DEFAULT)
    await _expect_done(bench)


@cocotb.test()
async def error_with_transfers_in_flight_drains_the_bus(dut: Any) -> None:
    """The compute unit fails while the load unit streams a long window in and the store unit
    streams one out: the core halts, the DMA engines finish what the bus already accepted, a
    soft reset waits for that, and the next program runs normally."""
    cfg = config()
    bench = Bench(dut, cfg)
    await bench.reset()
    n = min(cfg.inp_depth, cfg.acc_depth)
    insns = [
        I.MemInsn(mem_type=I.MemType.INP, dram_base=0x10000 // cfg.entry_bytes("inp"),
                  x_size=n, x_stride=n),
        I.MemInsn(store=True, mem_type=I.MemType.OUT,
                  dram_base=0x40000 // cfg.entry_bytes("out"), x_size=n, x_stride=n),
        I.GemmInsn(reset=True, uop_bgn=0, uop_end=1),
        I.GemmInsn(reset=True, uop_bgn=0, uop_end=cfg.uop_depth + 1),
        I.FinishInsn(),
    ]
    out = await bench.run(insns)
    assert out.error and out.status == ErrorCode.OUT_OF_RANGE and out.error_pc == 3
    assert out.counters["load_busy"] < n, "the error must stop the load mid-window"
    await bench.soft_reset()
    await _expect_done(bench)


FAULT_BASE = 0xC0000


class FaultyRam(AxiRam):
    """AxiRam that answers SLVERR for every access at or above FAULT_BASE (its read and write
    interfaces fail those accesses, which cocotbext-axi turns into SLVERR responses)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        read, write = self.read_if._read, self.write_if._write

        async def faulty_read(address: int, length: int) -> bytes:
            if address >= FAULT_BASE:
                raise ValueError("faulting region")
            return await read(address, length)

        async def faulty_write(address: int, data: bytes) -> None:
            if address >= FAULT_BASE:
                raise ValueError("faulting region")
            await write(address, data)

        self.read_if._read = faulty_read
        self.write_if._write = faulty_write


@cocotb.test()
async def bus_errors_are_reported(dut: Any) -> None:
    cfg = config()
    bench = Bench(dut, cfg, ram_cls=FaultyRam)
    await bench.reset()
    nop = I.GemmInsn(reset=True, uop_bgn=0, uop_end=0)
    fin = I.FinishInsn()
    bad_inp = FAULT_BASE // cfg.entry_bytes("inp")
    bad_out = FAULT_BASE // cfg.entry_bytes("out")
    await _expect_error(bench, [nop, I.MemInsn(mem_type=I.MemType.INP, dram_base=bad_inp,
                                               x_size=3, x_stride=3), fin],
                        ErrorCode.BUS_ERROR, 1)
    await _expect_done(bench)
    await _expect_error(bench, [nop, nop, I.MemInsn(store=True, mem_type=I.MemType.OUT,
                                                    dram_base=bad_out, x_size=2, x_stride=2),
                                fin], ErrorCode.BUS_ERROR, 2)
    await _expect_done(bench)
    raw = I.program_bytes([nop, fin], cfg)
    bench.ram.write(FAULT_BASE - 16, raw[:16])
    await _expect_error(bench, raw[:16] + raw[16:], ErrorCode.BUS_ERROR, 1, count=2,
                        insn_addr=FAULT_BASE - 16)
    await _expect_done(bench)


@cocotb.test()
async def soft_reset_aborts_a_run(dut: Any) -> None:
    cfg = config()
    bench = Bench(dut, cfg)
    await bench.reset()
    n = min(cfg.inp_depth, cfg.acc_depth)
    insns = [
        I.MemInsn(mem_type=I.MemType.WGT, dram_base=0x10000 // cfg.entry_bytes("wgt"),
                  x_size=cfg.wgt_depth, x_stride=cfg.wgt_depth),
        I.MemInsn(store=True, mem_type=I.MemType.OUT,
                  dram_base=0x40000 // cfg.entry_bytes("out"), x_size=n, x_stride=n),
        I.FinishInsn(),
    ]
    bench.ram.write(0x1000, I.program_bytes(insns, cfg))
    await bench.write(regmap.INSN_ADDR, 0x1000)
    await bench.write(regmap.INSN_COUNT, len(insns))
    await bench.write(regmap.CTRL, regmap.CTRL_START)
    await ClockCycles(dut.clk_i, 40)
    assert await bench.read(regmap.CTRL) == regmap.CTRL_BUSY, "the run must still be going"
    await bench.soft_reset()
    assert await bench.read(regmap.STATUS) == 0
    await _expect_done(bench)
