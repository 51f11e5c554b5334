"""The two-level instruction loop of an element-wise nest (GEMM reset, ALU).

The loops of an element-wise nest are independent, so they are ordered by the destination's
stride (the on-chip layout) and adjacent loops fused where every operand walks them as one
(``outer stride == inner stride * inner extent``). At most two loops may remain; they become
``iter_out``/``iter_in`` (one: ``iter_out = 1``).
"""

from __future__ import annotations

from tessera.compiler.errors import UnsupportedError
from tessera.compiler.vta.program import Loop

Level = tuple[int, tuple[int, int]]  # extent, (dst stride, src stride)


def fused_loop(levels: list[Level]) -> Loop:
    # An extent-1 loop that moves only the destination does nothing; one that moves the
    # source operand is kept (the instruction shows the operand's walk).
    levels = [lv for lv in levels if lv[0] > 1 or lv[1][1] != 0] or levels[:1]
    order = sorted(levels, key=lambda lv: -lv[1][0])
    out: list[Level] = []
    for ext, co in reversed(order):  # innermost first
        if out:
            e, ci = out[-1]
            if all(a == b * e for a, b in zip(co, ci)):
                out[-1] = (e * ext, ci)
                continue
        out.append((ext, co))
    if len(out) > 2:
        out = [lv for lv in out if lv[0] > 1] or out[:1]
    if len(out) > 2:
        raise UnsupportedError(f"vta lowering: an element-wise nest must fold into two loop "
                               f"levels, not {len(out)} (extents {[lv[0] for lv in out]})")
    if len(out) == 1:
        ext, c = out[0]
        return Loop(iter_out=1, iter_in=ext, dst=(0, c[0]), src=(0, c[1]))
    (ei, ci), (eo, co) = out
    return Loop(iter_out=eo, iter_in=ei, dst=(co[0], ci[0]), src=(co[1], ci[1]))


def _chain(levels: list[Level]) -> Level:
    """One level of ``levels`` (all must fuse), innermost stride kept."""
    order = sorted(levels, key=lambda lv: -lv[1][0])
    ext, co = order[-1]
    for e, c in reversed(order[:-1]):
        if any(a != b * ext for a, b in zip(c, co)):
            raise UnsupportedError(f"vta lowering: loops of extents {[lv[0] for lv in levels]} "
                                   f"must fold into one loop level, not strides "
                                   f"{[lv[1] for lv in levels]}")
        ext *= e
    return ext, co


def broadcast_loop(levels: list[Level]) -> Loop:
    """A nest whose source operand is broadcast: the loops it walks are the outer level, the
    loops it is broadcast over (source stride 0) the inner one (VTA's bias add)."""
    walk = [lv for lv in levels if lv[1][1] != 0]
    bcast = [lv for lv in levels if lv[1][1] == 0]
    if not walk or not bcast:
        return fused_loop(levels)
    (eo, co), (ei, ci) = _chain(walk), _chain(bcast)
    return Loop(iter_out=eo, iter_in=ei, dst=(co[0], ci[0]), src=(co[1], 0))
