"""Layout transforms between NCHW and the blocked NCHW[b]c layout (the graph's
``LayoutTransform``, inserted by the layout pass around blocked convolutions).

    to NCHW[b]c:  y[n, cb, h, w, c] = x[n, cb * b + c, h, w]
    to NCHW:      y[n, c, h, w]     = x[n, c // b, h, w, c % b]

The schedule writes whole vectors of the output's innermost axis (the channel block, or a row
of w) and reads the strided input lanes; one parallel task per output row (n, cb or c, h),
so a task's reads stay within a few cache lines per lane.
"""

from __future__ import annotations

import re

from tessera.compiler.errors import CompileError
from tessera.compiler.ops.schedule_util import PARALLEL_MIN, lanes
from tessera.compiler.tensor import tensor as T
from tessera.compiler.tensor.schedule import Schedule, create_schedule

TAG = "layout_transform"
_BLOCKED = re.compile(r"NCHW(\d+)c")


def block_of(layout: str) -> int:
    """The channel block of ``NCHW{b}c`` (0 for plain ``NCHW``)."""
    if layout == "NCHW":
        return 0
    m = _BLOCKED.fullmatch(layout)
    if m is None or int(m.group(1)) < 1:
        raise CompileError(f"layout_transform: layout must be 'NCHW' or 'NCHW<b>c' with b >= 1, "
                           f"not {layout!r}")
    return int(m.group(1))


def layout_transform(x: T.Tensor, src: str, dst: str, name: str = "layout_transform"
                     ) -> T.Tensor:
    """``x`` (in layout ``src``) in layout ``dst``; one of them must be plain NCHW."""
    bs, bd = block_of(src), block_of(dst)
    if (bs == 0) == (bd == 0):
        raise CompileError(f"layout_transform: exactly one of src and dst must be blocked, "
                           f"not {src!r} -> {dst!r}")
    if bd:
        if x.ndim != 4 or x.shape[1] % bd:
            raise CompileError(f"layout_transform: input must be NCHW with channels divisible "
                               f"by {bd}, not {x.shape}")
        n, c, h, w = x.shape
        return T.compute((n, c // bd, h, w, bd),
                         lambda i, cb, y, xx, ci: x[i, cb * bd + ci, y, xx], name=name, tag=TAG)
    if x.ndim != 5 or x.shape[4] != bs:
        raise CompileError(f"layout_transform: input must be NCHW{bs}c (5-D, last axis {bs}), "
                           f"not {x.shape}")
    n, cb, h, w, _ = x.shape
    return T.compute((n, cb * bs, h, w), lambda i, c, y, xx: x[i, c // bs, y, xx, c % bs],
                     name=name, tag=TAG)


def schedule_layout_transform(out: T.Tensor, sch: Schedule | None = None) -> Schedule:
    """Innermost output axis vectorized (split by the vector width when longer); the axes
    above it down to the row fused, parallel when the tensor is large enough."""
    s = sch or create_schedule(out)
    st = s[out]
    axes = list(st.op.axis)
    rows, inner = axes[:3], axes[3:]  # (n, c or cb, h) | (w,) or (w, c)
    vl = lanes(out.dtype)
    last = inner[-1]
    if out.shape[-1] > vl:
        outer, vec = st.split(last, factor=vl)
        inner = inner[:-1] + [outer]
    else:
        vec, inner = last, inner[:-1]
    fused = rows[0]
    for ax in rows[1:]:
        fused = st.fuse(fused, ax)
    st.reorder(fused, *inner, vec)
    if out.shape[-1] > 1:
        st.vectorize(vec)
    work = 1
    for d in out.shape:
        work *= d
    if work >= PARALLEL_MIN:
        st.parallel(fused)
    return s
