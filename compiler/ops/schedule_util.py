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
