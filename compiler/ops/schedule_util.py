"""Helpers shared by the default CPU schedules: inlining injective producers and the
vectorize-inner / parallelize-outer pattern."""

from __future__ import annotations

from tessera.compiler.tensor import tensor as T
from tessera.compiler.tensor.schedule import Schedule, Stage, create_schedule
from tessera.runtime.cpu import host_target

INJECTIVE_TAGS = ("elemwise", "broadcast", "injective", "pad")
PARALLEL_MIN = 1 << 14  # elements below which a parallel launch costs more than it saves


def lanes(dtype: str = "float32") -> int:
    bits = {"float64": 64, "int64": 64, "int16": 16, "int8": 8, "uint8": 8}.get(dtype, 32)
    return host_target().vector_lanes(bits)


def inline_injective(s: Schedule, keep: T.Tensor | None = None) -> None:
    """Inline every non-output injective stage (elementwise, broadcast, pad, transpose)."""
    for st in s.stages:
        if st.is_output or (keep is not None and st.op is keep.op):
            continue
        if st.op.tag in INJECTIVE_TAGS and not st.op.reduce_axis:
            st.compute_inline()


def vectorize_parallel(st: Stage, shape: tuple[int, ...], dtype: str) -> None:
    """Split the last data axis by the vector width and vectorize it; fuse the outer axes
    and run them in parallel when the stage is large enough."""
    axes = list(st.op.axis)
    if not axes:
        return
    total = 1
    for d in shape:
        total *= d
    vl = lanes(dtype)
    outer = axes[:-1]
    if shape[-1] >= vl:
        lo, li = st.split(axes[-1], factor=vl)
        st.vectorize(li)
        if shape[-1] % vl == 0:
            outer = outer + [lo]  # a guard on a fused loop could not be partitioned away
    elif shape[-1] > 1:
        st.vectorize(axes[-1])
    else:
        outer = axes
    if not outer:
        return
    fused = outer[0]
    for ax in outer[1:]:
        fused = st.fuse(fused, ax)
    if total >= PARALLEL_MIN:
        st.parallel(fused)


def schedule_injective(out: T.Tensor, sch: Schedule | None = None) -> Schedule:
    """Default schedule of elementwise, broadcast and layout operators."""
    s = sch or create_schedule(out)
    inline_injective(s)
    vectorize_parallel(s[out], out.shape, out.dtype)
    return s


def parallel_outer(st: Stage, naxes: int, work: int) -> None:
    """Fuse the first ``naxes`` data axes of a stage and parallelize them if worth it."""
    axes = list(st.op.axis)[:naxes]
    if not axes:
        return
    fused = axes[0]
    for ax in axes[1:]:
        fused = st.fuse(fused, ax)
    if work >= PARALLEL_MIN:
        st.parallel(fused)


def _contiguous_reduce(st: Stage) -> bool:
    """One reduction axis that every read uses as its innermost index only."""
    from tessera.compiler.tensor.expr import Reduce, TensorRead
    from tessera.compiler.tensor.functor import walk

    body = st.op.body
    if not isinstance(body, Reduce) or len(body.axis) != 1:
        return False
    k = body.axis[0].var
    used = False
    for n in walk(body.source):
        if isinstance(n, TensorRead):
            for d, idx in enumerate(n.indices):
                if any(x is k for x in walk(idx)):
                    if d != len(n.indices) - 1 or idx is not k:
                        return False
                    used = True
    return used


def reduce_rows(s: Schedule, st: Stage, work: int) -> None:
    """A row reduction: data axes fused (parallel when worth it); a long contiguous row is
    reduced in vector lanes through rfactor (partial sums per lane, then across lanes)."""
    from tessera.compiler.tensor.tensor import REDUCE, Tensor

    vl = lanes(st.op.dtype)
    long_row = _contiguous_reduce(st) and int(
        st.op.reduce_axis[0].dom.extent.value) >= 2 * vl
    if not long_row:
        parallel_outer(st, len(st.op.axis), work)
        return
    _, ki = st.split(st.op.reduce_axis[0], factor=vl)
    part = s.rfactor(Tensor(st.op), ki)
    parallel_outer(st, len(st.op.axis), work)
    row = [v for v in st.leaf_iter_vars if v.kind != REDUCE][-1]
    ps = s[part]
    rf, *axes = ps.op.axis
    (ro,) = ps.op.reduce_axis
    ps.reorder(*axes, ro, rf)
    ps.vectorize(rf)
    ps.compute_at(st, row)
