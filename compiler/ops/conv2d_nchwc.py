"""Blocked conv2d in NCHW[x]c (TVM's x86 layout): channels split into vector-wide blocks.

data ``(N, C/ci, H, W, ci)``, weight ``(O/oc, C/ci, KH, KW, ci, oc)``, output
``(N, O/oc, OH, OW, oc)``. The innermost output-channel block is one vector; a row segment
of ``x_block`` output pixels is held in registers while input channels and the window run
outside it (weights loaded as vectors, inputs broadcast).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from tessera.compiler.errors import CompileError
from tessera.compiler.ops.epilogue import apply_epilogue, inline_epilogue
from tessera.compiler.ops.pad import pad as pad_op
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import tensor as T
from tessera.compiler.tensor.schedule import Schedule, create_schedule, op_inputs


def nchw_to_nchwc(data: T.Tensor, block: int, name: str = "to_nchwc") -> T.Tensor:
    n, c, h, w = data.shape
    if c % block:
        raise CompileError(f"nchw_to_nchwc: channels {c} must be a multiple of the block, "
                           f"not with block {block}")
    return T.compute((n, c // block, h, w, block),
                     lambda b, co, y, x, ci: data[b, co * block + ci, y, x], name=name,
                     tag="injective")


def oihw_to_blocked(weight: T.Tensor, ic_block: int, oc_block: int,
                    name: str = "to_oihwio") -> T.Tensor:
    o, i, kh, kw = weight.shape
    if o % oc_block or i % ic_block:
        raise CompileError(f"oihw_to_blocked: weight {weight.shape} must divide into blocks "
                           f"{oc_block}x{ic_block}, not leave a remainder")
    return T.compute((o // oc_block, i // ic_block, kh, kw, ic_block, oc_block),
                     lambda oo, io, y, x, ii, oi: weight[oo * oc_block + oi, io * ic_block + ii,
                                                         y, x], name=name, tag="injective")


def conv2d_nchwc(data: T.Tensor, weight: T.Tensor, stride: int = 1, padding: int = 0,
                 name: str = "conv2d_nchwc", epilogue: Sequence[Any] = (),
                 operands: Sequence[T.Tensor] = ()) -> T.Tensor:
    """The blocked conv; ``epilogue`` (``ops.epilogue``; bias ``(O/oc, 1, 1, oc)``, residuals
    of the output's shape) is fused after it and written with the conv's store."""
    if data.ndim != 5 or weight.ndim != 6:
        raise CompileError(f"conv2d_nchwc: data must be 5-D and weight 6-D, not {data.shape} "
                           f"and {weight.shape}")
    n, cb, h, w, ci = data.shape
    ob, cb2, kh, kw, ci2, oc = weight.shape
    if (cb, ci) != (cb2, ci2):
        raise CompileError(f"conv2d_nchwc: weight input blocks must be {(cb, ci)}, not "
                           f"{(cb2, ci2)}")
    oh = (h + 2 * padding - kh) // stride + 1
    ow = (w + 2 * padding - kw) // stride + 1
    src = pad_op(data, (0, 0, padding, padding, 0), name=name + "_pad") if padding else data
    rco, rci = T.reduce_axis(cb, "rco"), T.reduce_axis(ci, "rci")
    ry, rx = T.reduce_axis(kh, "ry"), T.reduce_axis(kw, "rx")

    def body(b: E.Var, oo: E.Var, y: E.Var, x: E.Var, oi: E.Var) -> E.Expr:
        return T.sum(src[b, rco, y * stride + ry, x * stride + rx, rci]
                     * weight[oo, rco, ry, rx, rci, oi], axis=[rco, ry, rx, rci])

    conv = T.compute((n, ob, oh, ow, oc), body, name=name, tag="conv2d_nchwc")
    return apply_epilogue(conv, epilogue, operands, name=name + "_epi")


def nchwc_x_block(ow: int) -> int:
    """The default number of output pixels held in registers (a divisor of the row)."""
    return next((f for f in (14, 12, 8, 7, 6, 4) if ow % f == 0), min(ow, 8))


def schedule_conv2d_nchwc(out: T.Tensor, sch: Schedule | None = None, *,
                          xb: int | None = None, par: str = "n,o,y", rorder: str = "c,y,x",
                          urx: bool = False, ob: int = 1, yb: int = 1) -> Schedule:
    """The blocked conv's schedule (and its fused epilogue's). The defaults are the operator
    library's schedule; the ``conv2d_nchwc`` tuning template passes its knobs: ``xb`` output
    pixels in registers (default ``nchwc_x_block``), ``ob`` output channel blocks and ``yb``
    output rows in the register tile (``xb * ob * yb`` vectors; each weight vector loaded
    serves ``xb * yb`` pixels, each input broadcast serves ``ob`` blocks), ``par`` the
    parallel loops ("n,o,y" or "n,o"), ``rorder`` the reduction order around the tile
    ("c,y,x" or "y,x,c"), ``urx`` unroll the window's column loop."""
    s = sch or create_schedule(out)
    conv = inline_epilogue(s, out)
    for t in op_inputs(conv.op):
        if getattr(t.op, "tag", "") == "pad":
            st = s[t]
            b, co, _, _, ci = st.op.axis
            st.parallel(st.fuse(b, co))
            st.vectorize(ci)
    if conv is out:
        local = s.cache_write(out, "local")
    else:  # the conv is the register tile; the epilogue's store writes the output once
        local = conv
        s[local].scope = "local"
    st = s[out]
    b, oo, y, x, oi = st.op.axis
    ooo, ooi = st.split(oo, factor=ob)
    yo, yi = st.split(y, factor=yb)
    xo, xi = st.split(x, factor=xb or nchwc_x_block(out.shape[3]))
    st.reorder(b, ooo, yo, xo, ooi, yi, xi, oi)
    st.parallel(st.fuse(st.fuse(b, ooo), yo) if par == "n,o,y" else st.fuse(b, ooo))
    st.unroll(ooi)
    st.unroll(yi)
    st.unroll(xi)
    st.vectorize(oi)
    s[local].compute_at(st, xo)
    lc = s[local]
    lb, loo, ly, lx, loi = lc.op.axis
    rco, ry, rx, rci = lc.op.reduce_axis
    red = (rco, ry, rx, rci) if rorder == "c,y,x" else (ry, rx, rco, rci)
    lc.reorder(lb, *red, loo, ly, lx, loi)
    if urx:
        lc.unroll(rx)
    lc.unroll(loo)
    lc.unroll(ly)
    lc.unroll(lx)
    lc.vectorize(loi)
    return s
