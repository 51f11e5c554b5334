"""The template lowering of a tiled conv2d/dense (``build_*(lowering="template")``): tiles,
reduction steps, tensorized GEMMs, ALU epilogues and DMA, computed directly from the tiling
knobs, before virtual threads are interleaved (``sync``).

The default lowering derives the same program from the te schedule through the loop-IR
passes (``te_lower``, ``passes/``); this module is kept as their oracle (the tests require
the same instruction stream) and gives the ``Plan`` those passes hand to ``sync``.

The loop nest (VTA's conv2d schedule on the blocked layout)::

    for n0, oc0, oh0, ow0 in output tiles:            # tile t, accumulator slot t % V
        GEMM reset of the tile's accumulators
        for ic0 in reduction steps:                    # step k, input/weight slot k % V
            LOAD input windows (pragma dma_copy), LOAD weights (unless resident / unchanged)
            GEMM: for r in rows (iter_out), for w in cols (iter_in), micro-op kernel over
                  (ic, kh, kw, oc) -- the tensorized (b, o, k) block product
        ALU: ADD bias, SHR shift, MIN 127, MAX -128 or 0   (pragma alu)
        STORE the tile (pragma dma_copy)

On chip: inputs ``[n][ic][y][x]`` per slot, weights ``[oc][ic][kh][kw]`` per slot (or the whole
``[OC][IC][KH][KW]`` when resident), accumulators ``[oc][n][h][w]`` per slot and the bias after
the slots. The micro-op kernel of a step holds ``tile_oc*tile_ic*KH*KW`` triples (``oc``
innermost so consecutive micro-ops write different accumulators); the rows and columns of the
tile are the GEMM's ``iter_out``/``iter_in`` with their strides (VTA's micro-op loop
extraction), so one GEMM instruction runs ``rows*cols*len(kernel)`` block products.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.compiler.vta.dma import input_loads, output_stores, resident_weight_load, weight_load
from tessera.compiler.vta.intrin import ALU_OPS
from tessera.compiler.vta.program import Alu, Gemm, Kernel, Load, Loop, Op, Store
from tessera.compiler.vta.schedule import Tiling
from tessera.compiler.vta.workload import Problem
from tessera.hw import isa as I


@dataclass(frozen=True)
class Epilogue:
    """The quantized epilogue: ADD bias (when present), SHR ``shift``, clip (ReLU: at 0)."""

    bias: bool
    shift: int
    relu: bool


@dataclass(frozen=True)
class Step:
    tile: int
    loads: tuple[Load, ...]
    gemm: Gemm


@dataclass(frozen=True)
class TileOps:
    reset: Gemm
    epilogue: tuple[Alu, ...]
    stores: tuple[Store, ...]


@dataclass(frozen=True)
class Plan:
    preamble: tuple[Op, ...]
    steps: tuple[Step, ...]
    tiles: tuple[TileOps, ...]
    vthreads: int


def gemm_kernel(p: Problem, t: Tiling, inp_base: int, wgt_base: int, acc_base: int,
                oc0: int, ic0: int) -> Kernel:
    """The micro-op kernel of one reduction step (``oc0``/``ic0`` index resident weights)."""
    uops = []
    x = t.win_w
    for c in range(t.tile_ic):
        for i in range(p.kh):
            for j in range(p.kw):
                for o in range(t.tile_oc):
                    if t.wgt_resident:
                        w = ((oc0 + o) * p.icb + ic0 + c) * p.kh * p.kw + i * p.kw + j
                    else:
                        w = wgt_base + ((o * t.tile_ic + c) * p.kh + i) * p.kw + j
                    uops.append((acc_base + o * t.acc_per_oc,
                                 inp_base + c * t.win_h * x + i * x + j, w))
    return tuple(uops)


def gemm_loop(p: Problem, t: Tiling) -> Loop:
    """Rows (``tile_n`` batch blocks or ``tile_h`` output rows) outside, columns inside."""
    if t.tile_n > 1:
        rows, src_row = t.tile_n, t.tile_ic * t.win_h * t.win_w
    else:
        rows = t.tile_h
        src_row = t.win_w if t.row_skip else p.stride_h * t.win_w
    return Loop(iter_out=rows, iter_in=t.tile_w, dst=(t.tile_w, 1), src=(src_row, p.stride_w))


def epilogue_ops(t: Tiling, epi: Epilogue, acc_base: int, oc0: int) -> tuple[Alu, ...]:
    """The ALU instructions of a tile's epilogue (pragma alu: one per epilogue stage)."""
    whole = Loop(iter_out=1, iter_in=t.acc_slot, dst=(0, 1))
    here: Kernel = ((acc_base, 0, 0),)
    ops = []
    if epi.bias:
        ops.append(Alu(((acc_base, t.bias_base + oc0, 0),),
                       Loop(iter_out=t.tile_oc, iter_in=t.acc_per_oc,
                            dst=(t.acc_per_oc, 1), src=(1, 0)), ALU_OPS["add"]))
    if epi.shift:
        ops.append(Alu(here, whole, ALU_OPS["shr"], epi.shift))
    ops.append(Alu(here, whole, ALU_OPS["min"], 127))
    ops.append(Alu(here, whole, ALU_OPS["max"], 0 if epi.relu else -128))
    return tuple(ops)


def lower_layer(p: Problem, t: Tiling, epi: Epilogue) -> Plan:
    """The plan of ``p`` under ``t``: every tile's loads, GEMMs, epilogue and stores."""
    v = t.vthreads
    preamble: list[Op] = []
    if epi.bias:
        preamble.append(Load(I.MemType.ACC, "bias", 0, t.bias_base, 1, p.ocb, p.ocb))
    if t.wgt_resident:
        preamble.append(resident_weight_load(p))
    steps: list[Step] = []
    tiles: list[TileOps] = []
    slot_weights: dict[int, tuple[int, int]] = {}  # weights each slot holds now
    loop = gemm_loop(p, t)
    tile_grid = [
        (n0, oc0, oh0, ow0)
        for n0 in range(0, p.nb, t.tile_n)
        for oc0 in range(0, p.ocb, t.tile_oc)
        for oh0 in range(0, p.oh, t.tile_h)
        for ow0 in range(0, p.ow, t.tile_w)
    ]
    for ti, (n0, oc0, oh0, ow0) in enumerate(tile_grid):
        acc_base = (ti % v) * t.acc_slot
        reset = Gemm(((acc_base, 0, 0),), Loop(iter_in=t.acc_slot, dst=(0, 1)), reset=True)
        for ic0 in range(0, p.icb, t.tile_ic):
            slot = len(steps) % v
            inp_base, wgt_base = slot * t.inp_slot, slot * t.wgt_slot
            loads = input_loads(p, t, n0, ic0, oh0, ow0, inp_base)
            if not t.wgt_resident and slot_weights.get(slot) != (oc0, ic0):
                loads.append(weight_load(p, t, oc0, ic0, wgt_base))
                slot_weights[slot] = (oc0, ic0)
            kernel = gemm_kernel(p, t, inp_base, wgt_base, acc_base, oc0, ic0)
            steps.append(Step(ti, tuple(loads), Gemm(kernel, loop)))
        tiles.append(TileOps(reset, epilogue_ops(t, epi, acc_base, oc0),
                             tuple(output_stores(p, t, n0, oc0, oh0, ow0, acc_base))))
    return Plan(tuple(preamble), tuple(steps), tuple(tiles), v)
