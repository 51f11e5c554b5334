"""LOAD through tessera_top: 2-D windows with zero padding into the input, weight and
accumulator buffers, read back through the compute unit (identity GEMMs, one-hot GEMMs, ALU
copies) and STORE, against numpy windows of the spec.
"""

from __future__ import annotations

from typing import Any

import cocotb
import numpy as np

from tessera.hw import isa as I
from tessera.hw.config import HwConfig
from tessera.sim.cocotb_tests.units.program_bench import Bench, config
from tessera.sim.cocotb_tests.units.test_compute import store, uop_words

UOP_ADDR = 0x8000
SRC_ADDR = 0x10000
AUX_ADDR = 0x30000
OUT_ADDR = 0x40000


def window(rows: np.ndarray, pads: tuple[int, int, int, int]) -> np.ndarray:
    """The padded window of the spec: rows [y, x, ...] inside a zero frame."""
    y0, y1, x0, x1 = pads
    ys, xs = rows.shape[:2]
    out = np.zeros((y0 + ys + y1, x0 + xs + x1, *rows.shape[2:]), dtype=rows.dtype)
    out[y0:y0 + ys, x0:x0 + xs] = rows
    return out.reshape(-1, *rows.shape[2:])


def dram_rows(data: np.ndarray, base: int, ys: int, xs: int, stride: int) -> np.ndarray:
    return np.stack([data[base + r * stride: base + r * stride + xs] for r in range(ys)])


def mem_load(cfg: HwConfig, mem: I.MemType, kind: str, sram: int, addr: int, ys: int, xs: int,
             stride: int, pads: tuple[int, int, int, int], **flags: bool) -> I.MemInsn:
    return I.MemInsn(mem_type=mem, sram_base=sram, dram_base=addr // cfg.entry_bytes(kind),
                     y_size=ys, x_size=xs, x_stride=stride, y_pad_0=pads[0], y_pad_1=pads[1],
                     x_pad_0=pads[2], x_pad_1=pads[3], **flags)


@cocotb.test()
async def padded_input_window(dut: Any) -> None:
    cfg = config()
    bench = Bench(dut, cfg)
    await bench.reset()
    rng = np.random.default_rng(11)
    bi = cfg.block_in
    assert cfg.block_out == bi and cfg.batch == 1
    src = rng.integers(-128, 128, (200, 1, bi), dtype=np.int8)
    ident = np.eye(bi, dtype=np.int8)[None]
    bench.ram.write(SRC_ADDR, src.tobytes())
    bench.ram.write(AUX_ADDR, ident.tobytes())
    for ys, xs, stride, pads, sram in [(3, 5, 9, (1, 2, 2, 1), 7), (2, 4, 4, (0, 0, 0, 0), 0),
                                       (1, 1, 1, (15, 15, 15, 0), 3), (4, 3, 20, (0, 3, 1, 0), 1)]:
        want = window(dram_rows(src, 5, ys, xs, stride), pads)
        n = len(want)
        bench.ram.write(UOP_ADDR, uop_words(cfg, [I.Uop(dst=0, src=sram, wgt=0)]))
        insns = [
            I.MemInsn(mem_type=I.MemType.UOP, dram_base=UOP_ADDR // 4, x_size=1, x_stride=1),
            mem_load(cfg, I.MemType.INP, "inp", sram, SRC_ADDR + 5 * bi, ys, xs, stride, pads),
            mem_load(cfg, I.MemType.WGT, "wgt", 0, AUX_ADDR, 1, 1, 1, (0, 0, 0, 0),
                     push_next=True),
            I.GemmInsn(reset=True, uop_bgn=0, uop_end=1, iter_out=n, dst_factor_out=1,
                       pop_prev=True),
            I.GemmInsn(uop_bgn=0, uop_end=1, iter_out=n, dst_factor_out=1, src_factor_out=1,
                       push_next=True),
            store(cfg, 0, OUT_ADDR, n, pop_prev=True),
            I.FinishInsn(),
        ]
        out = await bench.run(insns)
        assert out.done, f"window {ys}x{xs} {pads}: must end done, not STATUS={out.status}"
        got = np.frombuffer(bench.ram.read(OUT_ADDR, want.nbytes), np.int8).reshape(want.shape)
        np.testing.assert_array_equal(got, want, err_msg=f"window {ys}x{xs} pads {pads}")


@cocotb.test()
async def padded_weight_window(dut: Any) -> None:
    cfg = config()
    bench = Bench(dut, cfg)
    await bench.reset()
    rng = np.random.default_rng(12)
    bi, bo = cfg.block_in, cfg.block_out
    src = rng.integers(-128, 128, (40, bo, bi), dtype=np.int8)
    onehot = np.eye(bi, dtype=np.int8)[:, None, :]  # inp entry i = e_i
    bench.ram.write(SRC_ADDR, src.tobytes())
    bench.ram.write(AUX_ADDR, onehot.tobytes())
    ys, xs, stride, pads = 2, 3, 7, (1, 0, 1, 2)
    want = window(dram_rows(src, 2, ys, xs, stride), pads)  # [n, bo, bi]
    n = len(want)
    bench.ram.write(UOP_ADDR, uop_words(cfg, [I.Uop(dst=0, src=0, wgt=4)]))
    loop = {"iter_out": n, "iter_in": bi, "dst_factor_out": bi, "dst_factor_in": 1}
    insns = [
        I.MemInsn(mem_type=I.MemType.UOP, dram_base=UOP_ADDR // 4, x_size=1, x_stride=1),
        mem_load(cfg, I.MemType.INP, "inp", 0, AUX_ADDR, 1, bi, bi, (0, 0, 0, 0)),
        mem_load(cfg, I.MemType.WGT, "wgt", 4, SRC_ADDR + 2 * bo * bi, ys, xs, stride, pads,
                 push_next=True),
        I.GemmInsn(reset=True, uop_bgn=0, uop_end=1, pop_prev=True, **loop),
        I.GemmInsn(uop_bgn=0, uop_end=1, src_factor_in=1, wgt_factor_out=1, push_next=True,
                   **loop),
        store(cfg, 0, OUT_ADDR, n * bi, pop_prev=True),
        I.FinishInsn(),
    ]
    out = await bench.run(insns)
    assert out.done, f"must end done, not STATUS={out.status}"
    got = np.frombuffer(bench.ram.read(OUT_ADDR, n * bi * bo), np.int8).reshape(n, bi, bo)
    np.testing.assert_array_equal(got, want.transpose(0, 2, 1))


@cocotb.test()
async def padded_accumulator_window_and_empty_loads(dut: Any) -> None:
    cfg = config()
    bench = Bench(dut, cfg)
    await bench.reset()
    rng = np.random.default_rng(13)
    lanes = cfg.batch * cfg.block_out
    src = rng.integers(-(2**31), 2**31, (50, lanes), dtype=np.int64).astype(np.int32)
    bench.ram.write(SRC_ADDR, src.tobytes())
    ys, xs, stride, pads = 3, 2, 5, (2, 1, 0, 3)
    want = window(dram_rows(src, 1, ys, xs, stride), pads)
    n = len(want)
    bench.ram.write(UOP_ADDR, uop_words(cfg, [I.Uop(dst=0, src=0, wgt=0)]))
    # entries n..n+3 are set to 9, then an empty LOAD (x_size 0, with padding) over them
    # must leave them alone
    insns = [
        I.MemInsn(mem_type=I.MemType.UOP, dram_base=UOP_ADDR // 4, x_size=1, x_stride=1),
        I.AluInsn(reset=True, uop_bgn=0, uop_end=1, iter_out=n + 4, dst_factor_out=1),
        I.AluInsn(alu_op=I.AluOp.ADD, use_imm=True, imm=9, uop_bgn=0, uop_end=1, iter_out=4,
                  dst_factor_out=1, dst_factor_in=0, iter_in=1),
        mem_load(cfg, I.MemType.ACC, "acc", 0, SRC_ADDR + 1 * 4 * lanes, ys, xs, stride, pads),
        mem_load(cfg, I.MemType.ACC, "acc", n, SRC_ADDR, 2, 0, 1, (1, 1, 1, 1)),
        I.AluInsn(alu_op=I.AluOp.ADD, use_imm=True, imm=0, uop_bgn=0, uop_end=1,
                  iter_out=n, dst_factor_out=1, push_next=True),
        store(cfg, 0, OUT_ADDR, n, pop_prev=True),
        I.FinishInsn(),
    ]
    out = await bench.run(insns)
    assert out.done, f"must end done, not STATUS={out.status}"
    got = np.frombuffer(bench.ram.read(OUT_ADDR, n * lanes), np.int8).reshape(n, lanes)
    np.testing.assert_array_equal(got, want.astype(np.int8))


@cocotb.test()
async def micro_op_windows_match_fsim(dut: Any) -> None:
    """Multi-row micro-op windows with odd bases and strides: on a 64-bit bus rows start and
    end mid-beat. Each loaded micro-op is used by its own ALU ADD (a distinct immediate into
    its dst), so any misplaced word changes the stored result."""
    from tessera.sim.fsim import FSim

    cfg = config()
    bench = Bench(dut, cfg)
    await bench.reset()
    sim = FSim(cfg, dram_bytes=1 << 20)
    rng = np.random.default_rng(14)
    words = [I.Uop(dst=int(d)) for d in rng.integers(0, 64, 100)] + [I.Uop(dst=0)]
    raw = uop_words(cfg, words)
    bench.ram.write(UOP_ADDR, raw)
    sim.write_dram(UOP_ADDR, raw)
    lanes = cfg.batch * cfg.block_out
    for ys, xs, stride, off, sram in [(3, 5, 7, 1, 3), (2, 3, 4, 0, 0), (4, 1, 3, 3, 11)]:
        n = ys * xs
        insns: list[I.Insn] = [
            I.MemInsn(mem_type=I.MemType.UOP, sram_base=200, dram_base=UOP_ADDR // 4 + 100,
                      x_size=1, x_stride=1),
            I.AluInsn(reset=True, uop_bgn=200, uop_end=201, iter_out=64, dst_factor_out=1),
            I.MemInsn(mem_type=I.MemType.UOP, sram_base=sram, dram_base=UOP_ADDR // 4 + off,
                      y_size=ys, x_size=xs, x_stride=stride),
        ]
        insns += [I.AluInsn(alu_op=I.AluOp.ADD, use_imm=True, imm=3 * u + 1, uop_bgn=u,
                            uop_end=u + 1) for u in range(sram, sram + n)]
        insns[-1] = I.AluInsn(alu_op=I.AluOp.ADD, use_imm=True, imm=3 * (sram + n) - 2,
                              uop_bgn=sram + n - 1, uop_end=sram + n, push_next=True)
        insns += [store(cfg, 0, OUT_ADDR, 64, pop_prev=True), I.FinishInsn()]
        sim.run(insns)
        out = await bench.run(insns)
        assert out.done, f"uop window {ys}x{xs}: must end done, not STATUS={out.status}"
        nbytes = 64 * lanes
        assert bench.ram.read(OUT_ADDR, nbytes) == sim.read_dram(OUT_ADDR, nbytes), (
            f"uop window {ys}x{xs} stride {stride} at +{off} differs from fsim"
        )
