"""``inject_dma_copy``: each ``pragma dma_copy`` region becomes LOAD/STORE 2-D windows.

A region copies between a DRAM tensor (a parameter) and an on-chip buffer, one block entry
per point of its outer loops (the last two loops are the entry's lanes). Per loop: the DRAM
dimension it walks, with which step, and its on-chip stride. The part of a dimension read
outside the tensor (the convolution's zero padding, a ``select`` in the region) becomes the
LOAD's padding fields: the load unit writes those cells as zeros (``_clip``). Windows, with
the loops in on-chip order:

- whole planes (the two innermost loops cover two whole DRAM dimensions): the plane and any
  further loops contiguous in DRAM and on chip are one row; the next loop gives the rows;
- otherwise the innermost loop gives the columns and the next the rows (its DRAM stride
  times its step: a strided 1x1 conv's windows skip rows);
- the loops outside the rows are separate windows. The batch dimension (DRAM's outermost)
  is never folded into a row.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

from tessera.compiler.errors import InternalError, UnsupportedError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.functor import map_children
from tessera.compiler.vta.passes.accel_ir import (
    MEM_OF_SCOPE,
    AccelStmt,
    affine,
    entry_dims,
    entry_strides,
    ev,
    extent,
    nest,
    on_chip,
)
from tessera.compiler.vta.program import Load, Store


@dataclass(frozen=True)
class _Axis:
    var: E.Var
    ext: int
    dim: int      # DRAM dimension walked
    step: int     # its index step per iteration
    lo: int       # first DRAM index (may be negative: padding)
    dstride: int  # DRAM entry stride of ``dim``
    sstride: int  # on-chip entry stride
    size: int     # DRAM extent of ``dim``

    def clip(self) -> tuple[int, int, int]:
        """(pad before, elements inside, pad after)."""
        if self.step != 1:
            if self.lo < 0 or self.lo + self.step * (self.ext - 1) >= self.size:
                raise UnsupportedError("inject_dma_copy: a strided window must not be padded")
            return 0, self.ext, 0
        before = max(0, -self.lo)
        after = max(0, self.lo + self.ext - self.size)
        inside = self.ext - before - after
        if inside <= 0:
            raise InternalError(f"DMA window [{self.lo}, {self.lo + self.ext}) misses "
                                f"[0, {self.size})")
        return before, inside, after


def _dram_read(e: E.Expr) -> E.BufferLoad:
    if isinstance(e, E.Select):
        if not (isinstance(e.f, E.Const) and e.f.value == 0):
            raise UnsupportedError(f"inject_dma_copy: a padded read must select zero outside, "
                                   f"not {e.f!r}")
        e = e.t
    if isinstance(e, E.Cast):
        e = e.value
    if not isinstance(e, E.BufferLoad):
        raise UnsupportedError(f"inject_dma_copy: a copy must read a buffer, not {e!r}")
    return e


def _axes(loops: list[S.For], dram: S.Buffer, didx: tuple[E.Expr, ...], chip: S.Buffer,
          cidx: tuple[E.Expr, ...]) -> list[_Axis]:
    dst = entry_strides(dram)
    outer = len(dram.shape) - 2
    c0, cc = affine(lambda env: sum(s * ev(cidx[d], env) for d, s in entry_strides(chip).items()),
                    loops, {})
    if c0 != 0:
        raise InternalError(f"inject_dma_copy: the window of {chip.name} must start at its "
                            f"entry 0, not {c0}")
    per_dim = [affine(didx[d], loops, {}) for d in range(outer)]
    axes = []
    for k, lp in enumerate(loops):
        dims = [d for d in range(outer) if per_dim[d][1][k] != 0]
        if len(dims) > 1 or (not dims and extent(lp) > 1):
            raise UnsupportedError(f"inject_dma_copy: loop {lp.var.name} must walk one "
                                   f"dimension of {dram.name}, not {len(dims)}")
        d = dims[0] if dims else outer - 1
        axes.append(_Axis(lp.var, extent(lp), d, per_dim[d][1][k] if dims else 0, per_dim[d][0],
                          dst[d], cc[k], dram.shape[d]))
    order = entry_dims(chip)
    chip_dim = [next((d for d in range(len(cidx)) if isinstance(cidx[d], E.Var)
                      and cidx[d] is lp.var), k) for k, lp in enumerate(loops)]
    return [axes[k] for k in sorted(range(len(loops)), key=lambda k: order.index(chip_dim[k])
                                    if chip_dim[k] in order else k)]


def _windows(axes: list[_Axis]) -> list[tuple[list[int], int, tuple[int, int, int, int],
                                               int, int, int]]:
    """Per window: (outer index per outer axis, rows axis, pads, rows, cols, x_stride) --
    ``rows axis`` is the position in ``axes`` of the first row/col axis."""
    if len(axes) == 1:
        a = axes[0]
        b, inside, after = a.clip()
        return [([], 0, (0, 0, b, after), 1, inside, inside)]
    y, x = axes[-2], axes[-1]
    whole = all(a.step == 1 and a.lo == 0 and a.ext == a.size for a in (y, x))
    if whole:
        cols, first = y.ext * x.ext, len(axes) - 2
        while first > 1:
            a = axes[first - 1]
            if a.dim == 0 or a.step != 1 or a.dstride != cols or a.sstride != cols:
                break
            cols *= a.ext
            first -= 1
        r = axes[first - 1]
        out = []
        for pt in itertools.product(*(range(a.ext) for a in axes[:first - 1])):
            out.append((list(pt), first - 1, (0, 0, 0, 0), r.ext, cols, r.dstride * r.step))
        return out
    ty, rows, by = y.clip()
    tx, cols, bx = x.clip()
    return [(list(pt), len(axes) - 2, (ty, by, tx, bx), rows, cols, y.dstride * y.step)
            for pt in itertools.product(*(range(a.ext) for a in axes[:-2]))]


def _copy(region: S.AttrStmt, names: dict[str, str]) -> S.Stmt:
    loops, _, store = nest(region.body)
    if not isinstance(store, S.BufferStore) or len(loops) < 3:
        raise UnsupportedError("inject_dma_copy: a dma_copy region must be a loop nest around "
                               "one store")
    read = _dram_read(store.value)
    is_load = on_chip(store.buffer)
    chip, cidx = (store.buffer, store.indices) if is_load else (read.buffer, read.indices)
    dram, didx = (read.buffer, read.indices) if is_load else (store.buffer, store.indices)
    if on_chip(dram) or not on_chip(chip):
        raise UnsupportedError(f"inject_dma_copy: a copy must move between DRAM and an "
                               f"on-chip buffer, not {read.buffer.name} -> {store.buffer.name}")
    entry = loops[:-2]
    axes = _axes(entry, dram, didx, chip, cidx)
    ops: list[S.Stmt] = []
    name = names.get(dram.name, dram.name)
    dstr = entry_strides(dram)
    for pt, first, pads, rows, cols, stride in _windows(axes):
        env = {a.var: v for a, v in zip(axes, pt)}
        for a in axes[first:]:
            env[a.var] = a.clip()[0]  # the first element inside the tensor
        sram = sum(a.sstride * v for a, v in zip(axes, pt))
        dram_entry = sum(st * ev(didx[d], env) for d, st in dstr.items())
        if is_load:
            op: Load | Store = Load(MEM_OF_SCOPE[chip.scope], name, dram_entry, sram, rows, cols,
                                    stride, pads)
        else:
            op = Store(name, dram_entry, sram, rows, cols, stride)
        ops.append(AccelStmt(op, (chip,)))
    return S.seq(*ops)


def _rewrite(s: S.Stmt, names: dict[str, str]) -> S.Stmt:
    if isinstance(s, S.AttrStmt) and s.key == "pragma_dma_copy":
        return _copy(s, names)
    if isinstance(s, (S.SeqStmt, S.Allocate, S.AttrStmt, S.For)):
        return map_children(s, lambda x: _rewrite(x, names) if isinstance(x, S.Stmt) else x)
    return s


def inject_dma_copy(stmt: S.Stmt, names: dict[str, str]) -> S.Stmt:
    """``stmt`` with every dma_copy region replaced by its windows; ``names`` maps a DRAM
    parameter to the kernel tensor it is."""
    return _rewrite(stmt, names)
