"""The compute unit (GEMM core, vector ALU, micro-op cache, accumulator) through tessera_top.

- back-to-back GEMM updates of one accumulator entry (distance 1 and 2 in the pipeline) against
  an explicit numpy sum of the spec's products;
- every ALU op with immediates and with tensors, including chains where an iteration reads the
  entry the previous one wrote, with all 32 bits of each result exposed through SHR copies,
  against the functional simulator;
- a blocked GEMM program against numpy, with the GEMM core's utilization while it runs.
"""

from __future__ import annotations

from typing import Any

import cocotb
import numpy as np
from cocotb.triggers import FallingEdge

from tessera.hw import isa as I
from tessera.hw import layout
from tessera.hw.config import HwConfig
from tessera.sim.cocotb_tests.units.program_bench import Bench, config
from tessera.sim.fsim import FSim, gemm_program

UOP_ADDR = 0x8000
INP_ADDR = 0x10000
WGT_ADDR = 0x20000
ACC_ADDR = 0x30000
OUT_ADDR = 0x40000


def load(cfg: HwConfig, mem: I.MemType, sram: int, addr: int, n: int, **flags: bool) -> I.Insn:
    kind = {I.MemType.UOP: "uop", I.MemType.INP: "inp", I.MemType.WGT: "wgt",
            I.MemType.ACC: "acc"}[mem]
    return I.MemInsn(mem_type=mem, sram_base=sram, dram_base=addr // cfg.entry_bytes(kind),
                     y_size=1, x_size=n, x_stride=n, **flags)


def store(cfg: HwConfig, sram: int, addr: int, n: int, **flags: bool) -> I.Insn:
    return I.MemInsn(store=True, mem_type=I.MemType.OUT, sram_base=sram,
                     dram_base=addr // cfg.entry_bytes("out"), y_size=1, x_size=n, x_stride=n,
                     **flags)


def uop_words(cfg: HwConfig, uops: list[I.Uop]) -> bytes:
    return np.array([I.encode_uop(u, cfg) for u in uops], dtype="<u4").tobytes()


@cocotb.test()
async def gemm_back_to_back_same_destination(dut: Any) -> None:
    cfg = config()
    bench = Bench(dut, cfg)
    await bench.reset()
    rng = np.random.default_rng(5)
    bi, bo = cfg.block_in, cfg.block_out
    inp = rng.integers(-128, 128, (64, cfg.batch, bi), dtype=np.int8)
    wgt = rng.integers(-128, 128, (32, bo, bi), dtype=np.int8)
    # kernel: 4 uops into dst 0 and 1 alternately (distance 2), then 2 into dst 2 (distance 1)
    uops = [I.Uop(0, 0, 0), I.Uop(1, 1, 1), I.Uop(0, 2, 2), I.Uop(1, 3, 3),
            I.Uop(2, 4, 4), I.Uop(2, 5, 5)]
    bench.ram.write(UOP_ADDR, uop_words(cfg, uops))
    bench.ram.write(INP_ADDR, inp.tobytes())
    bench.ram.write(WGT_ADDR, wgt.tobytes())
    loop = {"iter_out": 3, "iter_in": 4, "src_factor_out": 16, "src_factor_in": 6,
            "wgt_factor_out": 8, "wgt_factor_in": 1}
    insns = [
        load(cfg, I.MemType.UOP, 0, UOP_ADDR, len(uops)),
        load(cfg, I.MemType.INP, 0, INP_ADDR, 64, push_next=False),
        load(cfg, I.MemType.WGT, 0, WGT_ADDR, 32, push_next=True),
        I.GemmInsn(reset=True, uop_bgn=0, uop_end=len(uops), iter_out=1, iter_in=1,
                   pop_prev=True),
        I.GemmInsn(uop_bgn=0, uop_end=len(uops), push_next=True, **loop),
        store(cfg, 0, OUT_ADDR, 3, pop_prev=True),
        I.FinishInsn(),
    ]
    out = await bench.run(insns)
    assert out.done, f"the run must end done, not CTRL={out.ctrl:#x} STATUS={out.status}"
    acc = np.zeros((3, cfg.batch, bo), dtype=np.int64)
    for o in range(loop["iter_out"]):
        for i in range(loop["iter_in"]):
            for u in uops:
                s = u.src + o * loop["src_factor_out"] + i * loop["src_factor_in"]
                w = u.wgt + o * loop["wgt_factor_out"] + i * loop["wgt_factor_in"]
                acc[u.dst] += inp[s].astype(np.int64) @ wgt[w].astype(np.int64).T
    want = acc.astype(np.int32).astype(np.int8)  # low 8 bits of the int32 accumulator
    got = np.frombuffer(bench.ram.read(OUT_ADDR, want.nbytes), np.int8).reshape(want.shape)
    np.testing.assert_array_equal(got, want)
    iterations = loop["iter_out"] * loop["iter_in"] * len(uops)  # the reset GEMM counts none
    assert out.counters["gemm_cycles"] == iterations, (
        f"gemm_cycles must be {iterations}, not {out.counters['gemm_cycles']}"
    )


def _alu_program(cfg: HwConfig, op: I.AluOp, use_imm: bool, imm: int) -> list[I.Insn]:
    """ACC entries 0..7 loaded; ALU over micro-ops 0..7, a chain (iteration k reads what k-1
    wrote) into 0..7; every 32-bit lane exposed byte by byte through SHR copies (micro-ops
    8..39) into 8..39; all stored."""
    insns: list[I.Insn] = [
        load(cfg, I.MemType.ACC, 0, ACC_ADDR, 8),
        I.AluInsn(uop_bgn=0, uop_end=8, alu_op=op, use_imm=use_imm, imm=imm),
    ]
    for byte in range(4):
        base = {"uop_bgn": 8 + 8 * byte, "uop_end": 16 + 8 * byte}
        insns += [
            I.AluInsn(reset=True, **base),
            I.AluInsn(alu_op=I.AluOp.ADD, **base),
            I.AluInsn(alu_op=I.AluOp.SHR, use_imm=True, imm=8 * byte, push_next=byte == 3,
                      **base),
        ]
    insns += [store(cfg, 0, OUT_ADDR, 40, pop_prev=True), I.FinishInsn()]
    return insns


@cocotb.test()
async def alu_ops_match_fsim(dut: Any) -> None:
    cfg = config()
    bench = Bench(dut, cfg)
    await bench.reset()
    sim = FSim(cfg, dram_bytes=1 << 20)
    rng = np.random.default_rng(6)
    chain = [I.Uop(dst=d, src=d - 1 if d else 7) for d in range(8)]
    copy = [I.Uop(dst=8 + 8 * b + d, src=d) for b in range(4) for d in range(8)]
    words = uop_words(cfg, chain + copy)
    lanes = cfg.batch * cfg.block_out
    specials = np.array([0, 1, -1, 31, 32, -32, 33, 2**31 - 1, -(2**31), 0x12345678, -7, 100],
                        dtype=np.int64)
    cases = [(op, use_imm, imm) for op in I.AluOp for use_imm in (False, True)
             for imm in ((-32768, 5, -3) if use_imm else (0,))]
    for k, (op, use_imm, imm) in enumerate(cases):
        acc = rng.integers(-(2**31), 2**31, (8, lanes), dtype=np.int64)
        acc.flat[: len(specials)] = specials
        if op == I.AluOp.SHR and not use_imm:
            acc[:, ::2] = rng.integers(-40, 40, (8, (lanes + 1) // 2))
        data = acc.astype(np.int32).tobytes()
        for addr, raw in ((UOP_ADDR, words), (ACC_ADDR, data)):
            bench.ram.write(addr, raw)
            sim.write_dram(addr, raw)
        prog = [load(cfg, I.MemType.UOP, 0, UOP_ADDR, 40)] + _alu_program(cfg, op, use_imm, imm)
        sim.run(prog)
        out = await bench.run(prog)
        assert out.done, f"case {k} {op.name}: the run must end done, not STATUS={out.status}"
        n = 40 * cfg.entry_bytes("out")
        want, got = sim.read_dram(OUT_ADDR, n), bench.ram.read(OUT_ADDR, n)
        assert got == want, f"case {k}: ALU {op.name} use_imm={use_imm} imm={imm} differs"


@cocotb.test()
async def blocked_gemm_matches_numpy(dut: Any) -> None:
    cfg = config()
    bench = Bench(dut, cfg)
    await bench.reset()
    m, k, n = (8, 64, 64) if cfg.block_in <= 4 else (16, 256, 256)
    rng = np.random.default_rng(7)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (n, k), dtype=np.int8)
    addrs = {"a_addr": 0x10000, "b_addr": 0x20000, "c_addr": 0x80000, "uop_addr": 0x8000}
    prog = gemm_program.blocked_gemm(cfg, m, k, n, shift=4, **addrs)
    bench.ram.write(addrs["a_addr"], layout.pack_matrix_inp(a, cfg).tobytes())
    bench.ram.write(addrs["b_addr"], layout.pack_matrix_wgt(b, cfg).tobytes())
    bench.ram.write(addrs["uop_addr"], prog.uops.astype("<u4").tobytes())
    busy = {"gemm_insn": 0}

    async def watch() -> None:
        comp = dut.u_compute
        while True:
            await FallingEdge(dut.clk_i)
            state = int(comp.state_q.value)
            head = int(comp.cmd_i.value) & 0xFFFFFFFF
            # cycles the compute unit runs a non-reset GEMM (EXEC or DRAIN)
            if state in (2, 3) and head & 7 == I.Opcode.GEMM and not (head >> 7) & 1:
                busy["gemm_insn"] += 1

    cocotb.start_soon(watch())
    out = await bench.run(list(prog.insns), max_cycles=2_000_000)
    assert out.done, f"the run must end done, not STATUS={out.status} ERROR_PC={out.error_pc}"
    want = gemm_program.reference(a, b, shift=4)
    blocked = np.frombuffer(bench.ram.read(addrs["c_addr"], m * n), np.int8).reshape(
        m // cfg.batch, n // cfg.block_out, cfg.batch, cfg.block_out)
    got = layout.unpack_matrix(blocked, (m, n), cfg)
    np.testing.assert_array_equal(got, want)
    macs = out.counters["gemm_cycles"] * cfg.macs_per_cycle
    util = out.counters["gemm_cycles"] / max(1, busy["gemm_insn"])
    dut._log.info("blocked GEMM %dx%dx%d: %d cycles, gemm_cycles %d, gemm insn cycles %d, "
                  "utilization %.4f, MACs %d", m, k, n, out.counters["cycles"],
                  out.counters["gemm_cycles"], busy["gemm_insn"], util, macs)
    assert util >= 0.95, f"the GEMM core must issue in >= 95% of GEMM cycles, not {util:.3f}"
