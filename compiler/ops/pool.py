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
            padding: int | Sequence[int], op: str) -> tuple[int, int, int, int, int, int, int, int]:
    if data.ndim != 4:
        raise CompileError(f"{op}: data must be 4-D NCHW, not {data.shape}")
    (kh, kw), (sh, sw) = _pair(kernel), _pair(stride if stride is not None else kernel)
    ph, pw = _pair(padding)
    if min(kh, kw, sh, sw) < 1 or min(ph, pw) < 0:
        raise CompileError(f"{op}: kernel and stride must be >= 1 and padding >= 0, not "
                           f"{(kh, kw)}, {(sh, sw)}, {(ph, pw)}")
    _, _, h, w = data.shape
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    if oh < 1 or ow < 1:
        raise CompileError(f"{op}: output must be at least 1x1, not {oh}x{ow}")
    return kh, kw, sh, sw, ph, pw, oh, ow


def max_pool2d(data: T.Tensor, kernel: int | Sequence[int], stride: int | Sequence[int] | None
               = None, padding: int | Sequence[int] = 0, name: str = "max_pool2d") -> T.Tensor:
    kh, kw, sh, sw, ph, pw, oh, ow = _window(data, kernel, stride, padding, "max_pool2d")
    n, c, _, _ = data.shape
    src = data
    if ph or pw:
        src = pad_op(data, (0, 0, ph, pw), value=float(E.min_value(data.dtype).value),
                     name=name + "_pad")
    ry, rx = T.reduce_axis(kh, "ry"), T.reduce_axis(kw, "rx")
    return T.compute((n, c, oh, ow),
                     lambda b, ch, y, x: T.max(src[b, ch, y * sh + ry, x * sw + rx], axis=[ry, rx]),
                     name=name, tag="pool")


def avg_pool2d(data: T.Tensor, kernel: int | Sequence[int], stride: int | Sequence[int] | None
               = None, padding: int | Sequence[int] = 0, count_include_pad: bool = False,
               name: str = "avg_pool2d") -> T.Tensor:
    """Average over each window; padded cells are excluded from the count by default (ONNX)."""
    if not E.is_float(data.dtype):
        raise CompileError(f"avg_pool2d: data must be a float tensor, not {data.dtype}")
    kh, kw, sh, sw, ph, pw, oh, ow = _window(data, kernel, stride, padding, "avg_pool2d")
    n, c, h, w = data.shape
    src = pad_op(data, (0, 0, ph, pw), name=name + "_pad") if ph or pw else data
    ry, rx = T.reduce_axis(kh, "ry"), T.reduce_axis(kw, "rx")
    total = T.compute((n, c, oh, ow),
                      lambda b, ch, y, x: T.sum(src[b, ch, y * sh + ry, x * sw + rx],
                                                axis=[ry, rx]),
                      name=name + "_sum", tag="pool")

    def body(b: E.Var, ch: E.Var, y: E.Var, x: E.Var) -> E.Expr:
        if count_include_pad or not (ph or pw):
            return total[b, ch, y, x] * (1.0 / (kh * kw))
        y0, x0 = y * sh - ph, x * sw - pw
        hh = E.minimum(y0 + kh, h) - E.maximum(y0, 0)
        ww = E.minimum(x0 + kw, w) - E.maximum(x0, 0)
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
