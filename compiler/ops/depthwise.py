"""Depthwise 2-D convolution in NCHW (one filter per input channel, channel multiplier m)."""

from __future__ import annotations

from collections.abc import Sequence

from tessera.compiler.errors import CompileError
from tessera.compiler.ops.pad import pad as pad_op
from tessera.compiler.ops.schedule_util import lanes
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import tensor as T
from tessera.compiler.tensor.schedule import Schedule, create_schedule, op_inputs


def depthwise_conv2d_nchw(data: T.Tensor, weight: T.Tensor, stride: int | Sequence[int] = 1,
                          padding: int | Sequence[int] = 0, name: str = "depthwise_conv2d"
                          ) -> T.Tensor:
    """``out[n, c*m + q, y, x] = sum(data[n, c, y*s + ry, x*s + rx] * weight[c*m + q, 0, ry, rx])``
    with weight of shape (C*m, 1, KH, KW) as in ONNX Conv with group = C."""
    if data.ndim != 4 or weight.ndim != 4 or weight.shape[1] != 1:
        raise CompileError(f"depthwise_conv2d: data must be NCHW and weight (C*m, 1, KH, KW), "
                           f"not {data.shape} and {weight.shape}")
    n, c, h, w = data.shape
    oc, _, kh, kw = weight.shape
    if oc % c:
        raise CompileError(f"depthwise_conv2d: weight channels must be a multiple of {c}, "
                           f"not {oc}")
    m = oc // c
    sh, sw = (stride, stride) if isinstance(stride, int) else stride
    ph, pw = (padding, padding) if isinstance(padding, int) else padding
    oh, ow = (h + 2 * ph - kh) // sh + 1, (w + 2 * pw - kw) // sw + 1
    if oh < 1 or ow < 1:
        raise CompileError(f"depthwise_conv2d: output must be at least 1x1, not {oh}x{ow}")
    src = pad_op(data, (0, 0, ph, pw), name=name + "_pad") if ph or pw else data
    ry, rx = T.reduce_axis(kh, "ry"), T.reduce_axis(kw, "rx")

    def body(b: E.Var, ch: E.Var, y: E.Var, x: E.Var) -> E.Expr:
        return T.sum(src[b, ch // m, y * sh + ry, x * sw + rx] * weight[ch, 0, ry, rx],
                     axis=[ry, rx])

    return T.compute((n, oc, oh, ow), body, name=name, tag="depthwise_conv2d_nchw")


def schedule_depthwise_conv2d_nchw(out: T.Tensor, sch: Schedule | None = None) -> Schedule:
    """Each output row accumulated in a vector register tile (local cache) over the kernel
    window; rows run in parallel as one region, each padding the input rows it reads."""
    s = sch or create_schedule(out)
    pads = [t for t in op_inputs(out.op) if getattr(t.op, "tag", "") == "pad"]
    vl = lanes(out.dtype)
    ow = out.shape[3]
    local = s.cache_write(out, "local")
    st = s[out]
    b, ch, y, x = st.op.axis
    xb = ow if ow <= 4 * vl else next((f for f in (4 * vl, 2 * vl, vl) if ow % f == 0), vl)
    xo, xi = st.split(x, factor=xb)
    fused = st.fuse(st.fuse(b, ch), y)
    st.parallel(fused)
    st.vectorize(xi)
    s[local].compute_at(st, xo)
    lc = s[local]
    lb, lch, ly, lx = lc.op.axis
    lry, lrx = lc.op.reduce_axis
    lc.reorder(lb, lch, ly, lry, lrx, lx)
    lc.vectorize(lx)
    for t in pads:
        ps = s[t]
        ps.compute_at(st, fused)
        ps.vectorize(ps.op.axis[3])
    return s
