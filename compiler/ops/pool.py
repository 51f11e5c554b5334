"""Pooling in NCHW: max and average windows, and global pooling."""

from __future__ import annotations

from collections.abc import Sequence

from tessera.compiler.errors import CompileError
from tessera.compiler.ops.pad import pad as pad_op
from tessera.compiler.ops.schedule_util import inline_injective
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import tensor as T
from tessera.compiler.tensor.schedule import Schedule, create_schedule


def _pair(v: int | Sequence[int]) -> tuple[int, int]:
    return (v, v) if isinstance(v, int) else (int(v[0]), int(v[1]))


def _window(data: T.Tensor, kernel: int | Sequence[int], stride: int | Sequence[int] | None,
            padding: int | Sequence[int], padding_after: int | Sequence[int] | None, op: str
            ) -> tuple[tuple[int, int], tuple[int, int], tuple[int, int], tuple[int, int],
                       tuple[int, int]]:
    """(kernel, stride, padding before, padding after, output size), each as (h, w)."""
    if data.ndim != 4:
        raise CompileError(f"{op}: data must be 4-D NCHW, not {data.shape}")
    (kh, kw), (sh, sw) = _pair(kernel), _pair(stride if stride is not None else kernel)
    before = _pair(padding)
    after = before if padding_after is None else _pair(padding_after)
    if min(kh, kw, sh, sw) < 1 or min(*before, *after) < 0:
        raise CompileError(f"{op}: kernel and stride must be >= 1 and padding >= 0, not "
                           f"{(kh, kw)}, {(sh, sw)}, {before}/{after}")
    _, _, h, w = data.shape
    oh = (h + before[0] + after[0] - kh) // sh + 1
    ow = (w + before[1] + after[1] - kw) // sw + 1
    if oh < 1 or ow < 1:
        raise CompileError(f"{op}: output must be at least 1x1, not {oh}x{ow}")
    return (kh, kw), (sh, sw), before, after, (oh, ow)


def _padded(data: T.Tensor, before: tuple[int, int], after: tuple[int, int], value: float,
            name: str) -> T.Tensor:
    """``data`` padded with ``value``: a compute that the schedule inlines into the window
    reads (a select on likely bounds, which loop partition removes from the interior)."""
    if not any(before + after):
        return data
    return pad_op(data, (0, 0, *before), (0, 0, *after), value=value, name=name + "_pad")


def max_pool2d(data: T.Tensor, kernel: int | Sequence[int], stride: int | Sequence[int] | None
               = None, padding: int | Sequence[int] = 0, name: str = "max_pool2d",
               padding_after: int | Sequence[int] | None = None) -> T.Tensor:
    """Max over each window; ``padding_after`` (default: ``padding``) may be larger, as in
    ONNX's ceil_mode, where the last window reaches past the padded input."""
    (kh, kw), (sh, sw), before, after, (oh, ow) = _window(
        data, kernel, stride, padding, padding_after, "max_pool2d")
    n, c, _, _ = data.shape
    src = _padded(data, before, after, float(E.min_value(data.dtype).value), name)
    ry, rx = T.reduce_axis(kh, "ry"), T.reduce_axis(kw, "rx")
    return T.compute((n, c, oh, ow),
                     lambda b, ch, y, x: T.max(src[b, ch, y * sh + ry, x * sw + rx], axis=[ry, rx]),
                     name=name, tag="pool")


def avg_pool2d(data: T.Tensor, kernel: int | Sequence[int], stride: int | Sequence[int] | None
               = None, padding: int | Sequence[int] = 0, count_include_pad: bool = False,
               name: str = "avg_pool2d", padding_after: int | Sequence[int] | None = None,
               counted_after: int | Sequence[int] | None = None) -> T.Tensor:
    """Average over each window; padded cells are excluded from the count by default (ONNX).
    With ``count_include_pad``, the cells of ``padding`` before and of ``counted_after``
    (default: all of ``padding_after``) after count; ceil_mode's extra cells never do."""
    if not E.is_float(data.dtype):
        raise CompileError(f"avg_pool2d: data must be a float tensor, not {data.dtype}")
    (kh, kw), (sh, sw), before, after, (oh, ow) = _window(
        data, kernel, stride, padding, padding_after, "avg_pool2d")
    n, c, h, w = data.shape
    src = _padded(data, before, after, 0.0, name)
    ry, rx = T.reduce_axis(kh, "ry"), T.reduce_axis(kw, "rx")
    total = T.compute((n, c, oh, ow),
                      lambda b, ch, y, x: T.sum(src[b, ch, y * sh + ry, x * sw + rx],
                                                axis=[ry, rx]),
                      name=name + "_sum", tag="pool")
    counted = after if counted_after is None else _pair(counted_after)
    # the window's cells that count lie in [lo, hi) of the unpadded coordinates
    (lo_h, lo_w), (hi_h, hi_w) = ((-before[0], -before[1]), (h + counted[0], w + counted[1])) \
        if count_include_pad else ((0, 0), (h, w))
    if (lo_h, lo_w, hi_h, hi_w) == (-before[0], -before[1], h + after[0], w + after[1]):
        return T.compute((n, c, oh, ow), lambda *i: total[i] * (1.0 / (kh * kw)), name=name,
                         tag="pool_epilogue")

    def body(b: E.Var, ch: E.Var, y: E.Var, x: E.Var) -> E.Expr:
        y0, x0 = y * sh - before[0], x * sw - before[1]
        hh = E.minimum(y0 + kh, hi_h) - E.maximum(y0, lo_h)
        ww = E.minimum(x0 + kw, hi_w) - E.maximum(x0, lo_w)
        return total[b, ch, y, x] / E.cast(data.dtype, hh * ww)

    return T.compute((n, c, oh, ow), body, name=name, tag="pool_epilogue")


def global_pool2d(data: T.Tensor, kind: str = "avg", name: str = "global_pool2d") -> T.Tensor:
    """Max or average over H and W: NCHW -> NC11."""
    if data.ndim != 4:
        raise CompileError(f"global_pool2d: data must be 4-D NCHW, not {data.shape}")
    if kind not in ("avg", "max"):
        raise CompileError(f"global_pool2d: kind must be 'avg' or 'max', not {kind!r}")
    n, c, h, w = data.shape
    ry, rx = T.reduce_axis(h, "ry"), T.reduce_axis(w, "rx")
    red = T.sum if kind == "avg" else T.max
    total = T.compute((n, c, 1, 1), lambda b, ch, _y, _x: red(data[b, ch, ry, rx], axis=[ry, rx]),
                      name=name if kind == "max" else name + "_sum", tag="pool")
    if kind == "max":
        return total
    return T.compute((n, c, 1, 1), lambda *i: total[i] * (1.0 / (h * w)), name=name,
                     tag="pool_epilogue")


def schedule_pool(out: T.Tensor, sch: Schedule | None = None) -> Schedule:
    """Padding inlined; the window reduction computed per output row, vectorized along x."""
    s = sch or create_schedule(out)
    inline_injective(s)
    pool = out
    if out.op.tag == "pool_epilogue":
        from tessera.compiler.tensor.schedule import op_inputs

        pool = next(t for t in op_inputs(out.op) if getattr(t.op, "tag", "") == "pool")
    for t in {id(pool): pool, id(out): out}.values():
        st = s[t]
        b, c, y, x = st.op.axis
        fused = st.fuse(st.fuse(b, c), y)
        if st.op.reduce_axis:
            st.reorder(fused, *st.op.reduce_axis, x)
        work = 1
        for d in t.shape:
            work *= d
        if work >= 4096:
            st.parallel(fused)
        if 1 < t.shape[3] <= 64:
            st.vectorize(x)
    return s
