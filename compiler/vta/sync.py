"""Virtual threads: interleave the plan's load, compute and store work and inject the
dependency tokens that make every buffer access safe (VTA's InjectCoProcSync).

The plan comes from the te lowering's ``passes.inject_virtual_threads`` (which places the
loop IR's buffers into per-thread slots) or from the template lowering (``lower``).

With ``V`` virtual threads, reduction step ``k`` uses input/weight slot ``k % V`` and tile
``t`` accumulator slot ``t % V``. Tokens:

- ``l2c``: the last LOAD of step ``k`` pushes; the step's GEMM pops (data is there);
- ``c2l``: the step's GEMM pushes; the first LOAD of step ``k+V`` pops (slot free again);
- ``c2s``: the last ALU of tile ``t`` pushes; the tile's first STORE pops;
- ``s2c``: the tile's last STORE pushes; the reset GEMM of tile ``t+V`` pops.

Program order is the software pipeline ``loads(k+V-1), compute(k), stores``: with ``V = 2``
the loads of one thread run while the other computes, and a tile's stores run while the next
tile computes; ``V = 1`` serializes them (latency hiding off). The last ``V`` tokens of
``c2l`` and ``s2c`` are never popped (at most 2, well under any queue depth).
"""

from __future__ import annotations

import dataclasses

from tessera.compiler.vta.lower import Plan
from tessera.compiler.vta.program import Flags, Op


def _with(op: Op, **flags: bool) -> Op:
    merged = dataclasses.asdict(op.flags) | {k: v for k, v in flags.items() if v}
    return dataclasses.replace(op, flags=Flags(**merged))


def inject_virtual_threads(plan: Plan) -> list[Op]:
    """The plan as one instruction-ordered list of operations with their token flags."""
    v, steps, tiles = plan.vthreads, plan.steps, plan.tiles
    out: list[Op] = list(plan.preamble)

    def loads(k: int) -> None:
        group = steps[k].loads
        for i, op in enumerate(group):
            out.append(_with(op, pop_next=i == 0 and k >= v, push_next=i == len(group) - 1))

    for k in range(min(v - 1, len(steps))):
        loads(k)
    for k, step in enumerate(steps):
        if k + v - 1 < len(steps):
            loads(k + v - 1)
        t = step.tile
        if k == 0 or steps[k - 1].tile != t:
            out.append(_with(tiles[t].reset, pop_next=t >= v))
        out.append(_with(step.gemm, pop_prev=True, push_prev=True))
        if k == len(steps) - 1 or steps[k + 1].tile != t:
            epi = tiles[t].epilogue
            out += epi[:-1]
            out.append(_with(epi[-1], push_next=True))
            stores = tiles[t].stores
            for i, st in enumerate(stores):
                out.append(_with(st, pop_prev=i == 0, push_prev=i == len(stores) - 1))
    return out
