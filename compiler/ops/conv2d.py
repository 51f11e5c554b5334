"""2-D convolution in NCHW, its default CPU schedule, and the blocked NCHW[x]c variant.

NCHW schedule (direct convolution, the matmul micro-kernel in disguise): a tile of
``oc_block`` output channels by ``x_block`` output columns stays in vector registers
(a local accumulator, unrolled over channels, vectorized over columns) while the loops over
input channels and the kernel window run outside it; the weight is broadcast, the input
row loaded as a vector. Rows and channel blocks are fused and run in parallel.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tessera.compiler.errors import CompileError
from tessera.compiler.ops.epilogue import apply_epilogue, inline_epilogue
from tessera.compiler.ops.pad import pad as pad_op
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import tensor as T
from tessera.compiler.tensor.schedule import Schedule, Stage, create_schedule, op_inputs
from tessera.compiler.tensor.tensor import IterVar
from tessera.runtime.cpu import host_target


def _pair(v: int | Sequence[int], what: str) -> tuple[int, int]:
    if isinstance(v, int):
        return v, v
    if len(v) != 2:
        raise CompileError(f"conv2d: {what} must be an int or a pair, not {v!r}")
    return int(v[0]), int(v[1])


def conv2d_nchw(data: T.Tensor, weight: T.Tensor, stride: int | Sequence[int] = 1,
                padding: int | Sequence[int] = 0, dilation: int | Sequence[int] = 1,
                name: str = "conv2d", oc_block: int | None = None,
                epilogue: Sequence[Any] = (), operands: Sequence[T.Tensor] = ()) -> T.Tensor:
    """``out[n, o, y, x] = sum(data[n, c, y*s + ry*d, x*s + rx*d] * weight[o, c, ry, rx])``.

    Computed through a channel-blocked accumulator: the weight is packed into
    ``[O/ob][C][KH][KW][ob]`` (``ob`` = ``oc_block``, the vector width by default) so the
    micro-kernel holds ``ob`` output channels of ``x_block`` pixels in vector registers;
    ``oc_block=1`` gives the plain direct convolution (tag ``conv2d_nchw_direct``).
    ``epilogue`` (with its ``operands``: bias (O,), residuals) is fused after the conv
    (``ops.epilogue``); the default schedule writes the output once, epilogue applied.
    """
    if data.ndim != 4 or weight.ndim != 4:
        raise CompileError(f"conv2d: data and weight must be 4-D, not {data.shape} and "
                           f"{weight.shape}")
    n, c, h, w = data.shape
    o, c2, kh, kw = weight.shape
    if c != c2:
        raise CompileError(f"conv2d: weight must have {c} input channels, not {c2}")
    if data.dtype != weight.dtype:
        raise CompileError(f"conv2d: weight must have data's dtype {data.dtype}, not "
                           f"{weight.dtype}")
    (sh, sw), (ph, pw), (dh, dw) = (_pair(stride, "stride"), _pair(padding, "padding"),
                                    _pair(dilation, "dilation"))
    oh = (h + 2 * ph - (kh - 1) * dh - 1) // sh + 1
    ow = (w + 2 * pw - (kw - 1) * dw - 1) // sw + 1
    if oh < 1 or ow < 1:
        raise CompileError(f"conv2d: output must be at least 1x1, not {oh}x{ow}")
    src = pad_op(data, (0, 0, ph, pw), name=name + "_pad") if ph or pw else data
    acc = "int32" if data.dtype in ("int8", "uint8") else data.dtype
    rc = T.reduce_axis(c, "rc")
    ry = T.reduce_axis(kh, "ry")
    rx = T.reduce_axis(kw, "rx")
    ob = host_target().vector_lanes(32) if oc_block is None else oc_block
    if ob <= 1:
        def direct(nn: E.Var, oc: E.Var, y: E.Var, x: E.Var) -> E.Expr:
            a = E.cast(acc, src[nn, rc, y * sh + ry * dh, x * sw + rx * dw])
            return T.sum(a * E.cast(acc, weight[oc, rc, ry, rx]), axis=[rc, ry, rx])

        conv = T.compute((n, o, oh, ow), direct, name=name, tag="conv2d_nchw_direct")
        return apply_epilogue(conv, epilogue, operands, name=name + "_epi")
    nob = -(-o // ob)

    def pack(a: E.Var, ci: E.Var, y: E.Var, x: E.Var, b: E.Var) -> E.Expr:
        oc = a * ob + b
        val = weight[E.minimum(oc, o - 1), ci, y, x]
        return val if o % ob == 0 else E.select(oc < o, val, E.as_expr(0, val.dtype))

    wp = T.compute((nob, c, kh, kw, ob), pack, name=name + "_packw", tag="conv_pack_w")

    def blocked(nn: E.Var, a: E.Var, y: E.Var, x: E.Var, b: E.Var) -> E.Expr:
        v = E.cast(acc, src[nn, rc, y * sh + ry * dh, x * sw + rx * dw])
        return T.sum(v * E.cast(acc, wp[a, rc, ry, rx, b]), axis=[rc, ry, rx])

    blk = T.compute((n, nob, oh, ow, ob), blocked, name=name + "_blocked",
                    tag="conv2d_nchw_blocked")
    conv = T.compute((n, o, oh, ow), lambda nn, oc, y, x: blk[nn, oc // ob, y, x, oc % ob],
                     name=name, tag="conv2d_nchw", attrs={"oc_block": ob})
    return apply_epilogue(conv, epilogue, operands, name=name + "_epi")


def _block(n: int, limit: int) -> int:
    """The largest divisor of ``n`` not above ``limit`` (at least 1)."""
    return max(d for d in range(1, min(n, limit) + 1) if n % d == 0)


def conv_tile(ow: int, o: int, lanes: int, accumulators: int = 16) -> tuple[int, int]:
    """(x block, output-channel block): the widest power-of-two vector (up to two native
    vectors) dividing the output width, and enough channels for ~16 vector accumulators."""
    xb = next((w for w in (2 * lanes, lanes, lanes // 2, lanes // 4) if w >= 4 and ow % w == 0),
              0)
    if xb == 0:
        xb = ow if ow <= 2 * lanes else lanes
    nvec = max(1, -(-xb // lanes))
    ob = _block(o, max(1, accumulators // nvec))
    return xb, ob


def helpers_in_task(s: Schedule, helpers: dict[str, T.Tensor], st: Stage, task: IterVar
                    ) -> None:
    """Compute the weight packing and the padding (``helpers`` by tag) inside each parallel
    ``task`` of ``st``, vectorized: a little recomputation instead of parallel regions of
    their own to wait for."""
    if "conv_pack_w" in helpers:
        pw = s[helpers["conv_pack_w"]]
        pw.compute_at(st, task)
        pw.vectorize(pw.op.axis[4])
    if "pad" in helpers:
        pd = s[helpers["pad"]]
        pd.compute_at(st, task)
        pd.vectorize(pd.op.axis[3])


def schedule_conv2d_nchw(out: T.Tensor, sch: Schedule | None = None) -> Schedule:
    """Default schedule: output channels in vector lanes, a row segment of ``x_block``
    pixels unrolled, input channels and the window outside the register tile. Images,
    channel blocks and blocks of rows run in parallel as one region: each task packs its
    channel block's weights and pads its rows itself (a little recomputation, no extra
    parallel regions to wait for). A fused epilogue is inlined into the tile's store: the
    output stage (the last epilogue step) takes the conv's loop nest."""
    s = sch or create_schedule(out)
    conv = inline_epilogue(s, out)
    if conv.op.tag == "conv2d_nchw_direct":
        return _schedule_direct(out, s)
    blk = next(t for t in op_inputs(conv.op)
               if getattr(t.op, "tag", "") == "conv2d_nchw_blocked")
    if conv is not out:
        s[conv].compute_inline()
    helpers = {getattr(t.op, "tag", ""): t for t in op_inputs(blk.op)}
    ob = int(conv.op.attrs["oc_block"])
    ow = out.shape[3]
    # x_block accumulators + a weight vector + a broadcast must fit the register file:
    # 32 vector registers with AVX-512, 16 with AVX2
    limit = 14 if host_target().vector_bits >= 512 else 12
    divs = [d for d in range(1, min(ow, limit) + 1) if ow % d == 0]
    xb = divs[-1] if divs[-1] >= 4 or ow <= limit else 8
    s[blk].scope = "local"
    oh = out.shape[2]
    yb = max(d for d in range(1, -(-oh // 8) + 1) if oh % d == 0)  # about 8 row blocks
    st = s[out]
    n, oc, y, x = st.op.axis
    oco, oci = st.split(oc, factor=ob)
    yo, yi = st.split(y, factor=yb)
    xo, xi = st.split(x, factor=xb)
    st.reorder(n, oco, yo, yi, xo, oci, xi)
    st.unroll(oci)
    st.unroll(xi)
    task = st.fuse(st.fuse(n, oco), yo)
    st.parallel(task)
    s[blk].compute_at(st, xo)
    helpers_in_task(s, helpers, st, task)
    lc = s[blk]
    ln, la, ly, lx, lb = lc.op.axis
    rc, ry, rx = lc.op.reduce_axis
    lc.reorder(ln, la, ly, rc, ry, rx, lx, lb)
    lc.unroll(lx)
    lc.vectorize(lb)
    return s


def _schedule_direct(out: T.Tensor, s: Schedule) -> Schedule:
    lanes = host_target().vector_lanes(32)
    conv = inline_epilogue(s, out)
    for t in op_inputs(conv.op):
        if getattr(t.op, "tag", "") == "pad":
            st = s[t]
            n_, c_, y_, x_ = st.op.axis
            st.parallel(st.fuse(n_, c_))
            st.vectorize(x_)
    _, o, oh, ow = out.shape
    xb, ob = conv_tile(ow, o, lanes)
    if conv is out:
        local = s.cache_write(out, "local")
    else:  # the conv itself is the register tile under the epilogue's store
        local = conv
        s[local].scope = "local"
    st = s[out]
    n, oc, y, x = st.op.axis
    oco, oci = st.split(oc, factor=ob)
    xo, xi = st.split(x, factor=xb)
    st.reorder(n, oco, y, xo, oci, xi)
    st.unroll(oci)
    st.vectorize(xi)
    outer = st.fuse(st.fuse(n, oco), y)
    st.parallel(outer)
    s[local].compute_at(st, xo)
    lc = s[local]
    ln, lo, ly, lx = lc.op.axis
    rc, ry, rx = lc.op.reduce_axis
    lc.reorder(ln, ly, rc, ry, rx, lo, lx)
    lc.unroll(lo)
    lc.vectorize(lx)
    return s
