"""A blocked, requantized int8 GEMM as an accelerator program (for tests and benchmarks).

``C = clip((A @ B.T) >> shift, -128, 127)`` with ``A`` (M, K) and ``B`` (N, K) int8, packed in
the matrix layouts of ``tessera.hw.layout``. The output is tiled into ``tile_m`` rows (in batch
entries) by ``tile_n`` column blocks over the whole K; with ``vthreads=2`` the buffers are split
in halves and tile ``t+1`` loads while tile ``t`` computes (VTA's latency hiding):

    load:    LOAD INP (pop c2l from tile t-vthreads), LOAD WGT (push l2c)
    compute: GEMM reset (pop s2c from tile t-vthreads), GEMM (pop l2c, push c2l),
             ALU SHR imm, ALU MAX -128, ALU MIN 127 (push c2s)
    store:   STORE (pop c2s, push s2c)

preceded by one LOAD UOP and followed by FINISH.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tessera.hw import isa as I
from tessera.hw.config import HwConfig
from tessera.hw.errors import ConfigError


@dataclass(frozen=True)
class GemmProgram:
    insns: tuple[I.Insn, ...]
    uops: np.ndarray  # uint32 micro-op words, to be placed at the uop_addr given
    macs: int


def _largest_divisor(n: int, limit: int) -> int:
    return max(d for d in range(1, max(1, min(n, limit)) + 1) if n % d == 0)


def blocked_gemm(
    cfg: HwConfig,
    m: int,
    k: int,
    n: int,
    *,
    a_addr: int,
    b_addr: int,
    c_addr: int,
    uop_addr: int,
    shift: int = 0,
    tile_m: int | None = None,
    tile_n: int | None = None,
    vthreads: int = 2,
) -> GemmProgram:
    """The program for (M, K) x (N, K)^T with byte addresses of the packed operands and of the
    micro-op words. M, K, N must be multiples of batch, block_in and block_out."""
    if m % cfg.batch or k % cfg.block_in or n % cfg.block_out:
        raise ConfigError(
            f"GEMM sizes must be multiples of ({cfg.batch}, {cfg.block_in}, {cfg.block_out}), "
            f"not ({m}, {k}, {n})"
        )
    if vthreads not in (1, 2):
        raise ConfigError(f"vthreads must be 1 or 2, not {vthreads}")
    mb, kb, nb = m // cfg.batch, k // cfg.block_in, n // cfg.block_out
    tn = tile_n or _largest_divisor(nb, cfg.wgt_depth // (vthreads * kb))
    tm = tile_m or _largest_divisor(
        mb, min(cfg.inp_depth // (vthreads * kb), cfg.acc_depth // (vthreads * tn), 1 << 13)
    )
    if mb % tm or nb % tn:
        raise ConfigError(f"tiles ({tm}, {tn}) must divide ({mb}, {nb}) blocks")
    inp_half, wgt_half, acc_half = tm * kb, tn * kb, tm * tn
    need = {
        "inp": vthreads * inp_half, "wgt": vthreads * wgt_half,
        "acc": vthreads * acc_half, "uop": vthreads * (kb + 1),
    }
    for kind, entries in need.items():
        if entries > cfg.depth(kind):
            raise ConfigError(f"tiles need {entries} {kind} entries, more than {cfg.depth(kind)}")

    uops: list[I.Uop] = []
    for h in range(vthreads):  # GEMM kernel of half h: uops [h*(kb+1), h*(kb+1)+kb)
        uops += [I.Uop(h * acc_half, h * inp_half + u, h * wgt_half + u) for u in range(kb)]
        uops.append(I.Uop(h * acc_half, 0, 0))  # ALU / reset kernel of half h
    words = np.array([I.encode_uop(u, cfg) for u in uops], dtype=np.uint32)

    a_e, b_e = a_addr // cfg.entry_bytes("inp"), b_addr // cfg.entry_bytes("wgt")
    c_e, u_e = c_addr // cfg.entry_bytes("out"), uop_addr // 4
    insns: list[I.Insn] = [
        I.MemInsn(mem_type=I.MemType.UOP, sram_base=0, dram_base=u_e, y_size=1,
                  x_size=len(uops), x_stride=len(uops)),
    ]
    tiles = [(i, j) for i in range(mb // tm) for j in range(nb // tn)]
    loop = {"iter_out": tm, "iter_in": tn, "dst_factor_out": tn, "dst_factor_in": 1}

    def load(t: int) -> list[I.Insn]:
        i, j = tiles[t]
        h = t % vthreads
        return [
            I.MemInsn(mem_type=I.MemType.INP, sram_base=h * inp_half,
                      dram_base=a_e + i * tm * kb, y_size=tm, x_size=kb, x_stride=kb,
                      pop_next=t >= vthreads),
            I.MemInsn(mem_type=I.MemType.WGT, sram_base=h * wgt_half,
                      dram_base=b_e + j * tn * kb, y_size=tn, x_size=kb, x_stride=kb,
                      push_next=True),
        ]

    def compute(t: int) -> list[I.Insn]:
        h = t % vthreads
        g0, alu_u = h * (kb + 1), h * (kb + 1) + kb
        alu = {"uop_bgn": alu_u, "uop_end": alu_u + 1, **loop}
        return [
            I.GemmInsn(reset=True, pop_next=t >= vthreads, **alu),
            I.GemmInsn(uop_bgn=g0, uop_end=g0 + kb, src_factor_out=kb, wgt_factor_in=kb,
                       pop_prev=True, push_prev=True, **loop),
            I.AluInsn(alu_op=I.AluOp.SHR, use_imm=True, imm=shift, **alu),
            I.AluInsn(alu_op=I.AluOp.MAX, use_imm=True, imm=-128, **alu),
            I.AluInsn(alu_op=I.AluOp.MIN, use_imm=True, imm=127, push_next=True, **alu),
        ]

    def store(t: int) -> I.Insn:
        i, j = tiles[t]
        return I.MemInsn(store=True, mem_type=I.MemType.OUT, sram_base=(t % vthreads) * acc_half,
                         dram_base=c_e + i * tm * nb + j * tn, y_size=tm, x_size=tn,
                         x_stride=nb, pop_prev=True, push_prev=True)

    insns += load(0)
    for t in range(len(tiles)):
        if t + 1 < len(tiles):
            insns += load(t + 1)
        insns += compute(t)
        insns.append(store(t))
    insns.append(I.FinishInsn())
    return GemmProgram(tuple(insns), words, m * k * n)


def reference(a: np.ndarray, b: np.ndarray, shift: int = 0) -> np.ndarray:
    """What ``blocked_gemm`` computes, in numpy."""
    acc = a.astype(np.int64) @ b.astype(np.int64).T
    acc = acc.astype(np.int32) >> shift
    return np.clip(acc, -128, 127).astype(np.int8)
