"""DMA injection: the LOAD/STORE windows of a tile, padding taken from the bounds.

An input window of a tile is the ``Y x X`` patch of one (batch block, channel block) plane that
the tile's outputs read, ``Y = (tile_h-1)*stride_h + kernel_h`` rows from row
``oh0*stride_h - pad_h`` (likewise columns). The part outside the image is not read: the
LOAD's padding fields make the load unit write those cells as zeros, so the on-chip window is
always dense ``Y x X`` (the conv's zero padding costs no DRAM traffic). With ``pad < kernel``
every window overlaps the image and each padding amount is at most ``pad``. A 1-row kernel
with a row stride (a strided 1x1 conv) reads every ``stride_h``-th row: its LOAD strides over
the rows it skips (``x_stride = stride_h * W``), halving the traffic at stride 2.
"""

from __future__ import annotations

from tessera.compiler.errors import InternalError
from tessera.compiler.vta.program import Load, Store
from tessera.compiler.vta.schedule import Tiling
from tessera.compiler.vta.workload import Problem
from tessera.hw import isa as I


def _clip(start: int, size: int, limit: int) -> tuple[int, int, int]:
    """(pad before, elements inside, pad after) of ``[start, start+size)`` within
    ``[0, limit)``."""
    before = max(0, -start)
    after = max(0, start + size - limit)
    inside = size - before - after
    if inside <= 0:
        raise InternalError(f"DMA window [{start}, {start + size}) misses [0, {limit})")
    return before, inside, after


def input_loads(p: Problem, t: Tiling, n0: int, ic0: int, oh0: int, ow0: int,
                base: int) -> list[Load]:
    """Loads of the input windows of the tile at output (n0, oh0, ow0) for channel blocks
    ``ic0 .. ic0+tile_ic`` into the input buffer from ``base`` ([n][ic][y][x])."""
    y_start = oh0 * p.stride_h - p.pad_h
    x_start = ow0 * p.stride_w - p.pad_w
    left, cols, right = _clip(x_start, t.win_w, p.w)
    plane = t.win_h * t.win_w
    if t.row_skip:  # 1-row kernel (so no row padding): every stride_h-th row, from y_start
        top, rows, bottom, row_stride = 0, t.win_h, 0, p.stride_h * p.w
    else:
        top, rows, bottom = _clip(y_start, t.win_h, p.h)
        row_stride = p.w
    if not t.row_skip and (rows, cols) == (p.h, p.w) and plane == p.h * p.w:
        # Whole planes without padding: one 2-D load, a row per batch block.
        return [Load(I.MemType.INP, "data", (n0 * p.icb + ic0) * plane, base, t.tile_n,
                     t.tile_ic * plane, p.icb * plane)]
    out = []
    for n in range(t.tile_n):
        for c in range(t.tile_ic):
            entry = (((n0 + n) * p.icb + ic0 + c) * p.h + y_start + top) * p.w + x_start + left
            out.append(Load(I.MemType.INP, "data", entry,
                            base + (n * t.tile_ic + c) * plane, rows, cols, row_stride,
                            (top, bottom, left, right)))
    return out


def weight_load(p: Problem, t: Tiling, oc0: int, ic0: int, base: int) -> Load:
    """The weights of output blocks ``oc0..`` x input blocks ``ic0..`` ([oc][ic][kh][kw])."""
    k = p.kh * p.kw
    return Load(I.MemType.WGT, "weight", (oc0 * p.icb + ic0) * k, base, t.tile_oc,
                t.tile_ic * k, p.icb * k)


def resident_weight_load(p: Problem) -> Load:
    total = p.ocb * p.icb * p.kh * p.kw
    return Load(I.MemType.WGT, "weight", 0, 0, 1, total, total)


def output_stores(p: Problem, t: Tiling, n0: int, oc0: int, oh0: int, ow0: int,
                  base: int) -> list[Store]:
    """Stores of a tile's outputs from the output buffer ([oc][n][h][w] from ``base``)."""
    plane = p.oh * p.ow
    out = []
    for o in range(t.tile_oc):
        sram = base + o * t.acc_per_oc
        if (t.tile_h, t.tile_w) == (p.oh, p.ow):
            out.append(Store("out", (n0 * p.ocb + oc0 + o) * plane, sram, t.tile_n, plane,
                             p.ocb * plane))
            continue
        for n in range(t.tile_n):
            entry = ((n0 + n) * p.ocb + oc0 + o) * plane + oh0 * p.ow + ow0
            out.append(Store("out", entry, sram + n * t.tile_h * t.tile_w, t.tile_h,
                             t.tile_w, p.ow))
    return out
