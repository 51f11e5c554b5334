"""``tensorize_gemm``: a loop nest around ``attr('tensorize', 'gemm')`` becomes one GEMM.

The block under the attribute is the intrinsic (``b, o, k`` lanes: one 1xBLOCK by
BLOCKxBLOCK product). Of the loops around it (VTA's micro-op loop extraction):

- loops that do not move the weights (the tile's rows and columns) become the GEMM's
  ``iter_in`` (the innermost of them) and ``iter_out`` (the batch loop when it runs more
  than once, else the row loop), with each operand's stride per level;
- the others become the micro-op kernel, reduction loops outside and output-channel loops
  inside (consecutive micro-ops then write different accumulators); one micro-op per point.

The nest's initialization (``acc = 0``) becomes a reset GEMM over the accumulators, its
loops fused into one where the layout allows. Kernels are kept by content, so identical
kernels share one micro-op cache entry (codegen dedupes them).
"""

from __future__ import annotations

import itertools

from tessera.compiler.errors import UnsupportedError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.functor import map_children
from tessera.compiler.vta.passes.accel_ir import AccelStmt, affine, entry_of, ev, extent, nest
from tessera.compiler.vta.passes.fuse_loops import fused_loop
from tessera.compiler.vta.program import Gemm, Kernel, Loop


def _loads(e: E.Expr) -> list[E.BufferLoad]:
    if isinstance(e, E.BufferLoad):
        return [e]
    if isinstance(e, E.Cast):
        return _loads(e.value)
    if isinstance(e, E.Binary):
        return _loads(e.a) + _loads(e.b)
    return []


def _entry_fn(load: E.BufferLoad | S.BufferStore, lanes: dict[E.Var, int]):  # noqa: ANN202
    buf, idx = load.buffer, load.indices
    return lambda env: entry_of(buf, tuple(ev(i, {**env, **lanes}) for i in idx))


def _gemm(loops: list[S.For], store: S.BufferStore, lanes: list[S.For]) -> AccelStmt:
    zero = {lp.var: 0 for lp in lanes}
    dst_fn = _entry_fn(store, zero)
    if isinstance(store.value, E.Const):  # the reduction's init: a reset
        d0, dc = affine(dst_fn, loops, {})
        iters = fused_loop([(extent(lp), (c, 0)) for lp, c in zip(loops, dc)])
        return AccelStmt(Gemm(((d0, 0, 0),), iters, reset=True), (store.buffer, None, None))
    reads = [x for x in _loads(store.value) if x.buffer is not store.buffer]
    if len(reads) != 2:
        raise UnsupportedError(f"tensorize gemm: the block must read an input and a weight "
                               f"buffer, not {[r.buffer.name for r in reads]}")
    src, wgt = sorted(reads, key=lambda r: r.buffer.scope != "inp_buffer")
    fns = (dst_fn, _entry_fn(src, zero), _entry_fn(wgt, zero))
    base = [affine(fn, loops, {}) for fn in fns]
    coefs = list(zip(*(b[1] for b in base)))  # per loop: (dst, src, wgt)
    iters = [i for i, c in enumerate(coefs) if c[2] == 0]
    kern = [i for i, c in enumerate(coefs) if c[2] != 0]
    if not iters:
        raise UnsupportedError("tensorize gemm: the nest must have a loop over output rows "
                               "or columns (one that does not move the weights)")
    inner, outer = iters[-1], iters[:-1]
    big = [i for i in outer if extent(loops[i]) > 1]
    if len(big) > 1:
        raise UnsupportedError(f"tensorize gemm: at most two loops may move over outputs, "
                               f"not {[loops[i].var.name for i in iters]}")
    out = big[0] if big else (outer[-1] if outer else None)
    reduce = [i for i in kern if coefs[i][0] == 0]
    kernel_loops = reduce + [i for i in kern if coefs[i][0] != 0]
    uops = []
    for point in itertools.product(*(range(extent(loops[i])) for i in kernel_loops)):
        uops.append(tuple(b[0] + sum(coefs[i][k] * v for i, v in zip(kernel_loops, point))
                          for k, b in enumerate(base)))
    ci = coefs[inner]
    co = coefs[out] if out is not None else (0, 0, 0)
    loop = Loop(iter_out=extent(loops[out]) if out is not None else 1,
                iter_in=extent(loops[inner]), dst=(co[0], ci[0]), src=(co[1], ci[1]),
                wgt=(co[2], ci[2]))
    kernel: Kernel = tuple((d, s, w) for d, s, w in uops)
    return AccelStmt(Gemm(kernel, loop), (store.buffer, src.buffer, wgt.buffer))


def _block(loops: list[S.For], mark: S.AttrStmt) -> AccelStmt:
    if mark.value != "gemm":
        raise UnsupportedError(f"tensorize: intrinsic must be gemm, not {mark.value!r}")
    lanes, _, store = nest(mark.body)
    if not isinstance(store, S.BufferStore):
        raise UnsupportedError(f"tensorize gemm: the block must be one store, not "
                               f"{type(store).__name__}")
    return _gemm(loops, store, lanes)


def _rewrite(s: S.Stmt) -> S.Stmt:
    if isinstance(s, S.For):
        loops, cur = [], s
        while isinstance(cur, S.For):
            loops.append(cur)
            cur = cur.body
        if isinstance(cur, S.AttrStmt) and cur.key == "tensorize":
            return _block(loops, cur)
    if isinstance(s, S.AttrStmt) and s.key == "tensorize":
        return _block([], s)
    if isinstance(s, (S.SeqStmt, S.Allocate, S.AttrStmt, S.For)):
        return map_children(s, lambda x: _rewrite(x) if isinstance(x, S.Stmt) else x)
    return s


def tensorize_gemm(stmt: S.Stmt) -> S.Stmt:
    """``stmt`` with every gemm-tensorized nest replaced by its GEMM."""
    return _rewrite(stmt)
