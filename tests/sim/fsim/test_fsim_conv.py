"""A 3x3 convolution, padding 1, as VTA runs it: padded input loads, a micro-op kernel over
(output block, input block, kh, kw), the requantizing ALU epilogue; checked against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from fsim_helpers import get, put

from tessera.hw import HwConfig
from tessera.hw import isa as I
from tessera.hw import layout as L
from tessera.sim.fsim import FSim


def conv_reference(x: np.ndarray, w: np.ndarray, bias: np.ndarray, shift: int) -> np.ndarray:
    n, c, h, wd = x.shape
    xp = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (1, 1), (1, 1)))
    acc = np.zeros((n, w.shape[0], h, wd), np.int64)
    for kh in range(3):
        for kw in range(3):
            acc += np.einsum("nchw,oc->nohw", xp[:, :, kh : kh + h, kw : kw + wd],
                             w[:, :, kh, kw].astype(np.int64))
    acc += bias[None, :, None, None]
    return np.clip(acc >> shift, -128, 127).astype(np.int8)


@pytest.mark.parametrize("cfg", [HwConfig.small(), HwConfig.default()], ids=lambda c: c.name)
def test_conv3x3_padded(cfg: HwConfig) -> None:
    bi, bo = cfg.block_in, cfg.block_out
    cin, cout, h, wd, shift = 2 * bi, 2 * bo, 5, 6, 8
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, (1, cin, h, wd), dtype=np.int8)
    w = rng.integers(-128, 128, (cout, cin, 3, 3), dtype=np.int8)
    bias = rng.integers(-5000, 5000, cout).astype(np.int32)
    ib, ob, ph, pw = cin // bi, cout // bo, h + 2, wd + 2

    sim = FSim(cfg, 4 << 20)
    px, pwt = L.pack_activation(x, cfg), L.pack_weight(w, cfg)
    # the bias, repeated for every output pixel: (1, OB, H, W, 1, bo) accumulator entries
    pb = np.ascontiguousarray(np.broadcast_to(
        L.pack_bias(bias, cfg)[:, None, None], (ob, h, wd, 1, bo))).astype(np.int32)
    xa, wa, ba, oa, ua = 0x1000, 0x10000, 0x40000, 0x80000, 0x90000
    put(sim, xa, px)
    put(sim, wa, pwt)
    put(sim, ba, pb)
    kernel = [I.Uop(dst=o * h * wd, src=i * ph * pw + kh * pw + kw,
                    wgt=((o * ib + i) * 3 + kh) * 3 + kw)
              for o in range(ob) for i in range(ib) for kh in range(3) for kw in range(3)]
    kernel.append(I.Uop(dst=0))  # the epilogue's kernel
    put(sim, ua, np.array([I.encode_uop(u, cfg) for u in kernel], "<u4"))
    eb = cfg.entry_bytes
    prog: list[I.Insn] = [
        I.MemInsn(mem_type=I.MemType.INP, sram_base=i * ph * pw,
                  dram_base=xa // eb("inp") + i * h * wd, y_size=h, x_size=wd, x_stride=wd,
                  y_pad_0=1, y_pad_1=1, x_pad_0=1, x_pad_1=1)
        for i in range(ib)
    ]
    prog += [
        I.MemInsn(mem_type=I.MemType.WGT, dram_base=wa // eb("wgt"), x_size=pwt.size // (bi * bo),
                  x_stride=1, push_next=True),
        I.MemInsn(mem_type=I.MemType.UOP, dram_base=ua // 4, x_size=len(kernel), x_stride=1),
        I.MemInsn(mem_type=I.MemType.ACC, dram_base=ba // eb("acc"), x_size=ob * h * wd,
                  x_stride=1),
        I.GemmInsn(uop_bgn=0, uop_end=len(kernel) - 1, iter_out=h, iter_in=wd,
                   dst_factor_out=wd, dst_factor_in=1, src_factor_out=pw, src_factor_in=1,
                   pop_prev=True),
    ]
    epi = {"uop_bgn": len(kernel) - 1, "uop_end": len(kernel), "iter_out": ob * h * wd,
           "dst_factor_out": 1, "use_imm": True}
    prog += [
        I.AluInsn(alu_op=I.AluOp.SHR, imm=shift, **epi),
        I.AluInsn(alu_op=I.AluOp.MAX, imm=-128, **epi),
        I.AluInsn(alu_op=I.AluOp.MIN, imm=127, push_next=True, **epi),
        I.MemInsn(store=True, mem_type=I.MemType.OUT, dram_base=oa // eb("out"),
                  x_size=ob * h * wd, x_stride=1, pop_prev=True, push_prev=True),
        I.FinishInsn(pop_next=True),
    ]
    res = sim.run(prog)
    out = get(sim, oa, np.int8, (1, ob, h, wd, 1, bo))
    got = L.unpack_activation(out, (1, cout, h, wd), cfg, "out")
    assert np.array_equal(got, conv_reference(x, w, bias, shift))
    assert res.counters["gemm_cycles"] == h * wd * ob * ib * 9
