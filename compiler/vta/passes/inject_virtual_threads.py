"""``inject_virtual_threads``: place the on-chip buffers per virtual thread and interleave
the threads into the software pipeline with dependency tokens (VTA's InjectVirtualThread +
CoProcSync).

The unrolled program is a preamble (root-level loads) and the tiles (``attr('vthread', k)``,
one per output tile); a tile is its reset, its reduction steps (the loads of a step's input
and weight buffers and its GEMM), its epilogue and its stores. With ``V`` threads, tile ``t``
computes in accumulator slot ``t % V`` and step ``k`` loads into input/weight slot ``k % V``
(the buffers are expanded ``V`` times, VTA's vthread expansion); root-level accumulator
buffers (the bias) lie after the slots. A weight window that every step loads alike is
loaded once in the preamble into one slot (loop-invariant), and a step does not reload the
weights its slot already holds. The placed plan is interleaved and given its tokens by
``sync.inject_virtual_threads`` (loads of step ``k+V-1`` before the compute of step ``k``).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

from tessera.compiler.errors import InternalError
from tessera.compiler.tensor import stmt as S
from tessera.compiler.vta.lower import Plan, Step, TileOps
from tessera.compiler.vta.passes.accel_ir import AccelStmt, entries
from tessera.compiler.vta.program import Alu, Gemm, Load, Op, Store
from tessera.compiler.vta.sync import inject_virtual_threads as interleave
from tessera.hw import isa as I


@dataclass
class _Tile:
    reset: AccelStmt | None = None
    steps: list[tuple[list[AccelStmt], AccelStmt]] = field(default_factory=list)
    pending: list[AccelStmt] = field(default_factory=list)
    epilogue: list[AccelStmt] = field(default_factory=list)
    stores: list[AccelStmt] = field(default_factory=list)


def _collect(s: S.Stmt, pre: list[AccelStmt], tiles: list[_Tile], root_acc: list[S.Buffer],
             in_tile: bool) -> None:
    if isinstance(s, S.AttrStmt) and s.key == "vthread":
        tiles.append(_Tile())
        _collect(s.body, pre, tiles, root_acc, True)
        return
    if isinstance(s, S.Allocate):
        if not in_tile and s.buffer.scope == "acc_buffer":
            root_acc.append(s.buffer)
        _collect(s.body, pre, tiles, root_acc, in_tile)
        return
    if isinstance(s, S.SeqStmt):
        for x in s.stmts:
            _collect(x, pre, tiles, root_acc, in_tile)
        return
    if isinstance(s, (S.AttrStmt, S.For)):
        _collect(s.body, pre, tiles, root_acc, in_tile)
        return
    if not isinstance(s, AccelStmt):
        raise InternalError(f"inject_virtual_threads: the program must hold only accelerator "
                            f"operations, not {type(s).__name__}")
    if not in_tile:
        pre.append(s)
        return
    t, op = tiles[-1], s.op
    if isinstance(op, Gemm) and op.reset:
        t.reset = s
    elif isinstance(op, Gemm):
        t.steps.append((t.pending, s))
        t.pending = []
    elif isinstance(op, Load):
        t.pending.append(s)
    elif isinstance(op, Alu):
        t.epilogue.append(s)
    else:
        t.stores.append(s)


def _shift(kernel: tuple[tuple[int, int, int], ...], d: int, s: int, w: int
           ) -> tuple[tuple[int, int, int], ...]:
    return tuple((a + d, b + s, c + w) for a, b, c in kernel)


def inject_virtual_threads(stmt: S.Stmt, vthreads: int) -> S.Stmt:
    """The program of ``stmt`` as one instruction-ordered sequence with token flags."""
    v = vthreads
    pre: list[AccelStmt] = []
    tiles: list[_Tile] = []
    root_acc: list[S.Buffer] = []
    _collect(stmt, pre, tiles, root_acc, False)
    steps = [st for t in tiles for st in t.steps]
    if not tiles or not steps or any(t.reset is None or t.pending for t in tiles):
        raise InternalError("inject_virtual_threads: every tile must reset its accumulators "
                            "and end its loads with a GEMM")
    acc_slot = max(entries(t.reset.bufs[0]) for t in tiles if t.reset and t.reset.bufs[0])
    base: dict[S.Buffer, int] = {}
    at = v * acc_slot
    for b in root_acc:
        base[b] = at
        at += entries(b)

    def wgt_window(a: AccelStmt) -> tuple[object, ...]:
        return dataclasses.astuple(dataclasses.replace(a.op, flags=None))

    wgt = [[a for a in loads if isinstance(a.op, Load) and a.op.mem == I.MemType.WGT]
           for loads, _ in steps]
    windows = {wgt_window(a) for ws in wgt for a in ws}
    resident = len(windows) == 1 and all(len(ws) == 1 for ws in wgt)
    preamble: list[Op] = [_place(a, base) for a in pre]
    if resident:
        wb = wgt[0][0].bufs[0]
        assert wb is not None
        base[wb] = 0
        whole = _place(wgt[0][0], base)
        assert isinstance(whole, Load)
        if whole.x_stride == whole.x_size and whole.pads == (0, 0, 0, 0):  # contiguous rows
            whole = dataclasses.replace(whole, y_size=1, x_size=whole.y_size * whole.x_size,
                                        x_stride=whole.y_size * whole.x_size)
        preamble.append(whole)
    held: dict[int, tuple[object, ...]] = {}
    out_steps: list[Step] = []
    out_tiles: list[TileOps] = []
    k = 0
    for ti, t in enumerate(tiles):
        assert t.reset is not None
        acc = t.reset.bufs[0]
        assert acc is not None
        base[acc] = (ti % v) * acc_slot
        for loads, gemm in t.steps:
            slot = k % v
            placed: list[Load] = []
            for a in loads:
                buf = a.bufs[0]
                assert buf is not None and isinstance(a.op, Load)
                if a.op.mem == I.MemType.WGT:
                    if resident:
                        continue
                    base[buf] = slot * entries(buf)
                    if held.get(slot) == wgt_window(a):
                        continue
                    held[slot] = wgt_window(a)
                else:
                    base[buf] = slot * entries(buf)
                op = _place(a, base)
                assert isinstance(op, Load)
                placed.append(op)
            for b in gemm.bufs[1:]:
                if b is not None and b not in base:
                    raise InternalError(f"inject_virtual_threads: GEMM reads {b.name}, which "
                                        f"no load of its step filled")
            g = _place(gemm, base)
            assert isinstance(g, Gemm)
            out_steps.append(Step(ti, tuple(placed), g))
            k += 1
        reset = _place(t.reset, base)
        assert isinstance(reset, Gemm)
        epi = tuple(_place(a, base) for a in t.epilogue)
        stores = tuple(_place(a, base) for a in t.stores)
        out_tiles.append(TileOps(reset, epi, stores))
    ops = interleave(Plan(tuple(preamble), tuple(out_steps), tuple(out_tiles), v))
    return S.seq(*(AccelStmt(op) for op in ops))


def _place(a: AccelStmt, base: dict[S.Buffer, int]) -> Op:
    def at(i: int) -> int:
        b = a.bufs[i] if i < len(a.bufs) else None
        return base[b] if b is not None else 0

    op = a.op
    if isinstance(op, (Load, Store)):
        return dataclasses.replace(op, sram_base=op.sram_base + at(0))
    if isinstance(op, Gemm):
        return dataclasses.replace(op, kernel=_shift(op.kernel, at(0), at(1), at(2)))
    return dataclasses.replace(op, kernel=_shift(op.kernel, at(0), at(1), 0))
