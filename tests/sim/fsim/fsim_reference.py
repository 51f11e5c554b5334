"""A slow, literal reading of the fsim docstrings: one Python step per loop iteration, in
program order, tokens ignored. Only for programs whose tokens serialize the units (or that run
on one unit), where program order is the semantics."""

from __future__ import annotations

import numpy as np

from tessera.hw import isa as I
from tessera.hw.config import HwConfig

KIND = {I.MemType.UOP: "uop", I.MemType.INP: "inp", I.MemType.WGT: "wgt",
        I.MemType.ACC: "acc", I.MemType.OUT: "out"}


def wrap32(v: int) -> int:
    return (v + (1 << 31)) % (1 << 32) - (1 << 31)


def wrap8(v: int) -> int:
    return (v + 128) % 256 - 128


def alu_scalar(op: I.AluOp, a: int, b: int) -> int:
    """One lane of the ALU, on Python ints."""
    if op == I.AluOp.MIN:
        return min(a, b)
    if op == I.AluOp.MAX:
        return max(a, b)
    if op == I.AluOp.ADD:
        return wrap32(a + b)
    if op == I.AluOp.MUL:
        return wrap32(a * b)
    n = b & 63
    n = n - 64 if n >= 32 else n
    if n >= 0:
        return a >> n
    return wrap32((a << -n) & 0xFFFFFFFF)


class Reference:
    def __init__(self, cfg: HwConfig, dram: np.ndarray) -> None:
        self.cfg = cfg
        self.dram = dram.copy()
        shapes = {"uop": (), "inp": (cfg.batch, cfg.block_in), "wgt": (cfg.block_out, cfg.block_in),
                  "acc": (cfg.batch, cfg.block_out), "out": (cfg.batch, cfg.block_out)}
        self.dtypes = {"uop": "<u4", "inp": "i1", "wgt": "i1", "acc": "<i4", "out": "i1"}
        self.shapes = shapes
        self.buf = {k: np.zeros((cfg.depth(k), *shapes[k]), self.dtypes[k]) for k in shapes}

    def entry(self, kind: str, e: int) -> np.ndarray:
        eb = self.cfg.entry_bytes(kind)
        raw = self.dram[e * eb : (e + 1) * eb]
        return raw.view(self.dtypes[kind]).reshape(self.shapes[kind])

    def run(self, insns: list[I.Insn]) -> None:
        for insn in insns:
            if isinstance(insn, I.FinishInsn):
                return
            if isinstance(insn, I.MemInsn):
                self.mem(insn)
            else:
                self.loop(insn)  # type: ignore[arg-type]

    def mem(self, insn: I.MemInsn) -> None:
        kind = KIND[I.MemType(insn.mem_type)]
        if insn.x_size == 0 or insn.y_size == 0:
            return
        if insn.store:
            eb = self.cfg.entry_bytes("out")
            for r in range(insn.y_size):
                for x in range(insn.x_size):
                    e = insn.dram_base + r * insn.x_stride + x
                    val = self.buf["out"][insn.sram_base + r * insn.x_size + x]
                    raw = np.ascontiguousarray(val).view(np.uint8).ravel()
                    self.dram[e * eb : (e + 1) * eb] = raw
            return
        cols = insn.x_pad_0 + insn.x_size + insn.x_pad_1
        rows = insn.y_pad_0 + insn.y_size + insn.y_pad_1
        for y in range(rows):
            for x in range(cols):
                idx = insn.sram_base + y * cols + x
                r, c = y - insn.y_pad_0, x - insn.x_pad_0
                if 0 <= r < insn.y_size and 0 <= c < insn.x_size:
                    self.buf[kind][idx] = self.entry(kind, insn.dram_base + r * insn.x_stride + c)
                else:
                    self.buf[kind][idx] = 0

    def loop(self, insn: I.GemmInsn | I.AluInsn) -> None:
        acc, out = self.buf["acc"], self.buf["out"]
        for o in range(insn.iter_out):
            for i in range(insn.iter_in):
                for u in range(insn.uop_bgn, insn.uop_end):
                    uop = I.decode_uop(int(self.buf["uop"][u]), self.cfg)
                    d = uop.dst + o * insn.dst_factor_out + i * insn.dst_factor_in
                    s = uop.src + o * insn.src_factor_out + i * insn.src_factor_in
                    if insn.reset:
                        acc[d] = 0
                    elif isinstance(insn, I.GemmInsn):
                        w = uop.wgt + o * insn.wgt_factor_out + i * insn.wgt_factor_in
                        x = self.buf["inp"][s].astype(np.int64)
                        wt = self.buf["wgt"][w].astype(np.int64)
                        total = acc[d].astype(np.int64) + x @ wt.T
                        acc[d] = [[wrap32(int(v)) for v in row] for row in total]
                    else:
                        a = acc[d].astype(np.int64)
                        b = np.full(a.shape, insn.imm) if insn.use_imm else acc[s].astype(np.int64)
                        op = I.AluOp(insn.alu_op)
                        acc[d] = [[alu_scalar(op, int(p), int(q)) for p, q in zip(ra, rb)]
                                  for ra, rb in zip(a, b)]
                    out[d] = [[wrap8(int(v)) for v in row] for row in acc[d]]
