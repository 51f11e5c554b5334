"""Random legal programs, for differential tests (fsim against a reference, RTL against fsim).

``random_program(cfg, seed)`` returns instructions plus the DRAM image they run on. Every
index stays in range and every token is balanced, and the tokens serialize the units: where
program order passes from one unit to another, the last instruction before the switch pushes a
token toward the next unit and the first one after pops it (a switch between load and store is
relayed through an empty compute instruction). So the result equals running the instructions
one by one in program order, and it does not depend on timing: the RTL and fsim must agree bit
for bit on the final DRAM.

The micro-op cache is assumed to start as zeros (a fresh device) and is tracked as the program
LOADs micro-ops from the image, so GEMM/ALU loops only produce in-range indices.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace

import numpy as np

from tessera.hw import isa as I
from tessera.hw.config import HwConfig
from tessera.sim.fsim.fsim import FSim

HOT = 40  # most indices fall in [0, HOT) so that data flows from loads to stores
KIND_MEM = {"inp": I.MemType.INP, "wgt": I.MemType.WGT, "acc": I.MemType.ACC,
            "uop": I.MemType.UOP}


@dataclass(frozen=True)
class RandomProgram:
    insns: tuple[I.Insn, ...]
    dram_base: int       # byte address the image must be written to
    image: bytes         # initial DRAM contents of [dram_base, dram_base + len(image))
    cfg: HwConfig


class _Gen:
    def __init__(self, cfg: HwConfig, rnd: random.Random, dram_base: int, region: int) -> None:
        self.cfg, self.rnd = cfg, rnd
        self.base, self.region = dram_base, region
        self.uops = [I.Uop()] * cfg.uop_depth
        self.uop_words: list[int] = []
        self.uop_area = region // 2  # second half of the image holds micro-op words

    def hot(self, depth: int) -> int:
        """The range indices are drawn from: mostly a small hot window, so that loads, GEMM,
        ALU and stores touch the same entries; sometimes the whole buffer."""
        return depth if self.rnd.random() < 0.1 else min(depth, HOT)

    def small(self, hi: int) -> int:
        """A size in [0, hi], biased to small values (buffers are big, tests are short)."""
        return min(hi, self.rnd.choice([0, 1, 1, 2, 3, 4, 5, 8]))

    # ----------------------------------------------------------------- memory instructions
    def load(self, kind: str) -> I.Insn:
        cfg, r = self.cfg, self.rnd
        eb = cfg.entry_bytes(kind)
        if kind == "uop":
            return self._load_uops()
        entries = (self.uop_area - (-self.base % eb)) // eb
        first = -(-self.base // eb)
        y, x = max(1, self.small(4)), max(1, self.small(6))
        stride = x + r.choice([0, 0, 1, 3])
        pads = [self.small(2) for _ in range(4)] if r.random() < 0.4 else [0, 0, 0, 0]
        window = (pads[0] + y + pads[1]) * (pads[2] + x + pads[3])
        dram = first + r.randrange(0, max(1, entries - ((y - 1) * stride + x)))
        sram = r.randrange(max(1, self.hot(cfg.depth(kind)) - window))
        return I.MemInsn(mem_type=KIND_MEM[kind], sram_base=sram,
                         dram_base=dram, y_size=y, x_size=x, x_stride=stride,
                         y_pad_0=pads[0], y_pad_1=pads[1], x_pad_0=pads[2], x_pad_1=pads[3])

    def _load_uops(self) -> I.Insn:
        cfg, r = self.cfg, self.rnd
        n = r.randint(1, 8)
        new = [I.Uop(r.randrange(self.hot(cfg.acc_depth)),
                     r.randrange(self.hot(min(cfg.inp_depth, cfg.acc_depth))),
                     r.randrange(self.hot(cfg.wgt_depth))) for _ in range(n)]
        first = (self.base + self.uop_area) // 4 + len(self.uop_words)
        if (len(self.uop_words) + n) * 4 > self.region - self.uop_area:  # area full: reuse
            n = min(n, len(self.uop_words))
            first = (self.base + self.uop_area) // 4
            new = [I.decode_uop(w, cfg) for w in self.uop_words[:n]]
        else:
            self.uop_words += [I.encode_uop(u, cfg) for u in new]
        sram = r.randrange(self.hot(cfg.uop_depth) - n)
        self.uops[sram : sram + n] = new
        return I.MemInsn(mem_type=I.MemType.UOP, sram_base=sram, dram_base=first, y_size=1,
                         x_size=n, x_stride=n)

    def store(self) -> I.Insn:
        cfg, r = self.cfg, self.rnd
        eb = cfg.entry_bytes("out")
        first = -(-self.base // eb)
        entries = (self.uop_area - (-self.base % eb)) // eb
        y, x = max(1, self.small(4)), max(1, self.small(6))
        stride = x + r.choice([0, 1, 2])
        dram = first + r.randrange(0, max(1, entries - ((y - 1) * stride + x)))
        return I.MemInsn(store=True, mem_type=I.MemType.OUT,
                         sram_base=r.randrange(self.hot(cfg.acc_depth) - y * x), dram_base=dram,
                         y_size=y, x_size=x, x_stride=stride)

    # ----------------------------------------------------------------- compute instructions
    def _loop(self, fields: dict[str, int]) -> dict[str, int]:
        """uop range, extents and factors keeping each field's index below its depth."""
        r = self.rnd
        bgn = r.randrange(self.hot(self.cfg.uop_depth) - 8)
        end = bgn + r.choice([0, 1, 1, 2, 3, 4])
        used = self.uops[bgn:end] or [I.Uop()]
        out = {"uop_bgn": bgn, "uop_end": end, "iter_out": max(1, self.small(4)),
               "iter_in": max(1, self.small(4))}
        for name, depth in fields.items():
            top = max(getattr(u, name) for u in used)
            room = depth - 1 - top
            fo = r.randint(0, max(0, min(8, room // max(1, out["iter_out"] - 1) // 2)))
            room -= fo * (out["iter_out"] - 1)
            fi = r.randint(0, max(0, min(8, room // max(1, out["iter_in"] - 1))))
            if room < 0 or top >= depth:  # this micro-op range cannot be used: empty loop
                out["uop_end"] = out["uop_bgn"]
                fo = fi = 0
            out[f"{name}_factor_out"], out[f"{name}_factor_in"] = fo, fi
        return out

    def gemm(self) -> I.Insn:
        cfg = self.cfg
        loop = self._loop({"dst": cfg.acc_depth, "src": cfg.inp_depth, "wgt": cfg.wgt_depth})
        return I.GemmInsn(reset=self.rnd.random() < 0.2, **loop)

    def alu(self) -> I.Insn:
        cfg, r = self.cfg, self.rnd
        loop = self._loop({"dst": cfg.acc_depth, "src": cfg.acc_depth})
        use_imm = r.random() < 0.5
        imm = r.choice([0, 1, 3, 8, 31, -1, -3, -32, r.randint(-(1 << 15), (1 << 15) - 1)])
        return I.AluInsn(reset=r.random() < 0.05, alu_op=r.choice(list(I.AluOp)),
                         use_imm=use_imm, imm=imm, **loop)


_TO = {("load", "compute"): "push_next", ("compute", "load"): "push_prev",
       ("compute", "store"): "push_next", ("store", "compute"): "push_prev"}
_FROM = {("load", "compute"): "pop_prev", ("compute", "load"): "pop_next",
         ("compute", "store"): "pop_prev", ("store", "compute"): "pop_next"}


def serialize(insns: list[I.Insn]) -> list[I.Insn]:
    """Add tokens (and relay instructions) so that units run strictly in program order."""
    out: list[I.Insn] = []
    for insn in insns:
        if out and out[-1].unit != insn.unit:
            if {out[-1].unit, insn.unit} == {"load", "store"}:
                relay = I.GemmInsn(uop_bgn=0, uop_end=0)
                out[-1] = replace(out[-1], **{_TO[(out[-1].unit, "compute")]: True})
                out.append(replace(relay, **{_FROM[(out[-1].unit, "compute")]: True}))
            prev = out[-1]
            out[-1] = replace(prev, **{_TO[(prev.unit, insn.unit)]: True})
            insn = replace(insn, **{_FROM[(prev.unit, insn.unit)]: True})
        out.append(insn)
    return out


def run_on_fsim(prog: RandomProgram, dram_bytes: int | None = None) -> FSim:
    """A fresh simulator with ``prog``'s image in DRAM, after running ``prog``: the scoreboard
    for a differential test (compare ``sim.state.dram``, or the image region, bit for bit)."""
    size = dram_bytes or prog.dram_base + len(prog.image) + (1 << 12)
    sim = FSim(prog.cfg, size)
    sim.write_dram(prog.dram_base, prog.image)
    sim.run(list(prog.insns))
    return sim


def random_program(
    cfg: HwConfig, seed: int, length: int = 16, dram_base: int = 1 << 12, region: int = 1 << 16
) -> RandomProgram:
    """A random legal program of about ``length`` instructions (plus relays and FINISH) over
    a DRAM image of ``region`` bytes at ``dram_base`` (half data, half micro-op words)."""
    rnd = random.Random(seed)
    gen = _Gen(cfg, rnd, dram_base, region)
    makers = [lambda: gen.load("inp"), lambda: gen.load("wgt"), lambda: gen.load("acc"),
              lambda: gen.load("uop"), gen.gemm, gen.gemm, gen.alu, gen.alu, gen.store]
    body = [gen.load("uop")] + [rnd.choice(makers)() for _ in range(length)] + [gen.store()]
    insns = serialize(body + [I.FinishInsn()])
    image = bytearray(np.random.default_rng(seed).integers(0, 256, region, dtype=np.uint8))
    words = np.array(gen.uop_words, dtype="<u4").tobytes()
    image[gen.uop_area : gen.uop_area + len(words)] = words
    return RandomProgram(tuple(insns), dram_base, bytes(image), cfg)
