"""Loop-nest features of a lowered kernel (AutoTVM's itervar features, in a fixed length).

Features are read from the loop IR after ``schedule_ops``, ``storage_flatten`` and
``simplify`` (``feature_ir``), before unrolling and vectorization expand the body, so the
annotations (parallel, vectorized, unrolled) are still loop kinds and it stays cheap.

The *hot statement* is the buffer store that runs most often (the product of the extents of
the loops around it). For the innermost ``DEPTH`` loops around it (outermost first, padded):
log extent and loop kind; for its output buffer and up to ``BUFS - 1`` loaded buffers, per
loop: log |stride| of the access in that loop's variable, and log of the bytes the access
touches inside that loop (the reuse footprint). Then global features: vector lanes, stores
in the innermost body (unrolling), arithmetic intensity, allocations, and the work.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.arith import linear
from tessera.compiler.tensor.functor import walk
from tessera.compiler.tensor.lower import _params
from tessera.compiler.tensor.passes.simplify import simplify
from tessera.compiler.tensor.passes.storage_flatten import storage_flatten
from tessera.compiler.tensor.schedule import Schedule
from tessera.compiler.tensor.schedule_ops import schedule_ops
from tessera.compiler.tensor.tensor import Tensor

FEATURE_VERSION = 2
DEPTH = 8
BUFS = 4
KINDS = (S.SERIAL, S.PARALLEL, S.VECTORIZED, S.UNROLLED)
PER_LOOP = 1 + len(KINDS)
N_GLOBAL = 8
N_LOOP_FEATURES = DEPTH * PER_LOOP + BUFS * DEPTH * 2 + N_GLOBAL


def _lg(v: float) -> float:
    return math.log2(1.0 + abs(v))


def _bytes(dtype: str) -> int:
    base = E.scalar_of(dtype)
    digits = "".join(ch for ch in base if ch.isdigit())
    return max(1, int(digits or 32) // 8)


@dataclass
class _Hot:
    loops: list[S.For]
    store: S.BufferStore | None = None
    work: float = 0.0
    body_stores: int = 1


def _extent(f: S.For) -> int:
    return int(f.extent.value) if isinstance(f.extent, E.Const) else 1


def _find_hot(func: S.PrimFunc) -> tuple[_Hot, int, int]:
    hot = _Hot([])
    allocs = [0]
    local_bytes = [0]

    def visit(st: S.Stmt, loops: list[S.For]) -> None:
        if isinstance(st, S.For):
            visit(st.body, [*loops, st])
        elif isinstance(st, S.SeqStmt):
            stores = sum(isinstance(x, S.BufferStore) for x in st.stmts)
            for x in st.stmts:
                if isinstance(x, S.BufferStore):
                    _consider(x, loops, stores)
                else:
                    visit(x, loops)
        elif isinstance(st, S.BufferStore):
            _consider(st, loops, 1)
        elif isinstance(st, S.Allocate):
            allocs[0] += 1
            if st.buffer.scope != "global":
                local_bytes[0] += st.buffer.size * _bytes(st.buffer.dtype)
            visit(st.body, loops)
        elif isinstance(st, (S.AttrStmt, S.LetStmt)):
            visit(st.body, loops)
        elif isinstance(st, S.IfThenElse):
            visit(st.then_case, loops)
            if st.else_case is not None:
                visit(st.else_case, loops)

    def _consider(st: S.BufferStore, loops: list[S.For], stores: int) -> None:
        lanes = E.lanes_of(st.value.dtype)
        work = float(math.prod(_extent(f) for f in loops)) * lanes * stores
        if work > hot.work:
            hot.loops, hot.store, hot.work, hot.body_stores = list(loops), st, work, stores

    visit(func.body, [])
    return hot, allocs[0], local_bytes[0]


def _flat_index(buf: S.Buffer, indices: tuple[E.Expr, ...]) -> list[tuple[E.Expr, int]]:
    """(index expression, element stride of its dimension) pairs."""
    out = []
    stride = 1
    for dim, idx in zip(reversed(buf.shape), reversed(indices)):
        out.append((idx, stride))
        stride *= int(dim)
    return out


def _stride(parts: list[tuple[E.Expr, int]], var: E.Var, vector_loop: bool) -> int:
    total = 0
    for idx, scale in parts:
        base = idx
        if isinstance(idx, E.Ramp):
            if vector_loop:
                st = idx.stride
                total += scale * (int(st.value) if isinstance(st, E.Const) else 1)
                continue
            base = idx.base
        if isinstance(base, E.Broadcast):
            base = base.value
        if E.lanes_of(base.dtype) != 1:
            continue
        lin = linear(base)
        for key, coef in lin.terms.items():
            if lin.atoms[key] is var:
                total += scale * coef
    return total


def feature_ir(sch: Schedule, args: Sequence[Tensor]) -> S.PrimFunc:
    """The loop nest whose features the model reads (annotated, not yet unrolled)."""
    params, order = _params(sch, args)
    f = S.PrimFunc("features", order, schedule_ops(sch, params))
    f = storage_flatten(f)
    return S.PrimFunc(f.name, f.params, simplify(f.body), f.attrs)


def loop_features(func: S.PrimFunc) -> list[float]:
    """The fixed-length feature vector of ``func`` (``N_LOOP_FEATURES`` floats)."""
    hot, allocs, local_bytes = _find_hot(func)
    feats: list[float] = []
    loops = hot.loops[-DEPTH:]
    pad = DEPTH - len(loops)
    lanes = E.lanes_of(hot.store.value.dtype) if hot.store is not None else 1
    if hot.loops and hot.loops[-1].kind == S.VECTORIZED:
        lanes *= _extent(hot.loops[-1])
    for f in [None] * pad + loops:
        if f is None:
            feats += [0.0] * PER_LOOP
        else:
            feats += [_lg(_extent(f))] + [1.0 if f.kind == k else 0.0 for k in KINDS]
    accesses: list[tuple[S.Buffer, tuple[E.Expr, ...]]] = []
    if hot.store is not None:
        accesses.append((hot.store.buffer, hot.store.indices))
        seen = {id(hot.store.buffer)}
        for node in walk(hot.store.value):
            if isinstance(node, E.BufferLoad) and id(node.buffer) not in seen:
                seen.add(id(node.buffer))
                accesses.append((node.buffer, node.indices))
    total_bytes = 0.0
    for b in range(BUFS):
        if b >= len(accesses):
            feats += [0.0] * (2 * DEPTH)
            continue
        buf, idx = accesses[b]
        parts = _flat_index(buf, idx)
        strides = [_stride(parts, f.var, False) for f in loops]
        elem = _bytes(buf.dtype) * lanes
        touched = []
        acc = float(elem)
        for f, st in zip(reversed(loops), reversed(strides)):
            if st != 0:
                acc *= _extent(f)
            touched.append(acc)
        touched.reverse()
        total_bytes += touched[0] if touched else elem
        feats += [0.0] * pad + [_lg(s) for s in strides]
        feats += [0.0] * pad + [_lg(t) for t in touched]
    flops = hot.work * 2.0
    unrolled = math.prod(_extent(f) for f in hot.loops if f.kind == S.UNROLLED)
    feats += [_lg(lanes), _lg(hot.body_stores * unrolled), _lg(flops / max(total_bytes, 1.0)),
              float(allocs), _lg(local_bytes), _lg(hot.work), float(len(hot.loops)),
              float(sum(f.kind == S.PARALLEL for f in hot.loops))]
    return feats
