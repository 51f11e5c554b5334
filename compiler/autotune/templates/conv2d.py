"""The tunable NCHW conv2d: ``ops.conv2d_nchw``'s two schedules with knobs.

``variant``: ``blocked`` (the operator library's default: the weight packed by blocks of
``ob`` output channels, which sit in vector lanes, ``xb`` output pixels unrolled) or
``direct`` (``ob`` output channels unrolled by ``xb`` pixels in vector lanes).
``rorder``: the reduction loops around the register tile, channels outside or inside the
kernel window; ``urx``: unroll the window's column loop; ``par``: parallel over the fused
(batch, channel block, row block) loops or over (batch, channel block) with rows serial;
``yblocks``: about how many row blocks; ``helpers`` (cache placement of the weight packing
and the padding): computed by each parallel task for itself, or ahead in their own loops.
The default point is ``ops.schedule_conv2d_nchw``'s.

An optional 11th argument is the fused epilogue (``ops.epilogue``: bias, residual add, Relu,
Clip), so a conv group is tuned as the kernel the compiler builds for it: its operands (bias
``(O,)``, residuals of the output's shape) follow the weight, and the epilogue is inlined into
the output's store at every point. The 10-argument form is the plain conv.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tessera.compiler import tensor as te
from tessera.compiler.autotune.errors import TuningError
from tessera.compiler.autotune.space import Config, ConfigSpace, Knob
from tessera.compiler.autotune.templates.base import Template
from tessera.compiler.ops.conv2d import conv2d_nchw, helpers_in_task
from tessera.compiler.ops.epilogue import WITH_OPERAND, Epilogue, epilogue_of, inline_epilogue
from tessera.compiler.tensor.schedule import Schedule, Stage, op_inputs
from tessera.compiler.tensor.tensor import Tensor
from tessera.runtime.cpu import host_target

OB = (1, 2, 4, 6, 8, 12, 16, 32)
XB = (1, 2, 4, 7, 8, 14, 16, 28, 32)


def out_size(args: tuple[Any, ...]) -> tuple[int, int]:
    _, _, h, w, _, kh, kw, stride, pad = args[:9]
    return (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1


def epilogue_arg(args: tuple[Any, ...]) -> Epilogue:
    """The workload's fused epilogue (empty for the 10-argument form)."""
    if len(args) not in (10, 11):
        raise TuningError(f"conv2d_nchw: args must be (N, C, H, W, O, KH, KW, stride, pad, "
                          f"dtype[, epilogue]), not {len(args)} values")
    return epilogue_of(args[10]) if len(args) == 11 else ()


def _operand_shapes(args: tuple[Any, ...]) -> list[tuple[int, ...]]:
    n, o = int(args[0]), int(args[4])
    oh, ow = out_size(args)
    return [(o,) if step[0] == "bias" else (n, o, oh, ow)
            for step in epilogue_arg(args) if step[0] in WITH_OPERAND]


def _default_xb(ow: int) -> int:
    """``ops.schedule_conv2d_nchw``'s pixel block of the blocked variant."""
    limit = 14 if host_target().vector_bits >= 512 else 12
    divs = [d for d in range(1, min(ow, limit) + 1) if ow % d == 0]
    return divs[-1] if divs[-1] >= 4 or ow <= limit else 8


def _row_block(oh: int, blocks: int) -> int:
    """Rows per block for about ``blocks`` blocks (a divisor of the output height)."""
    return max(d for d in range(1, -(-oh // blocks) + 1) if oh % d == 0)


class Conv2dTemplate(Template):
    """args: (N, C, H, W, O, KH, KW, stride, pad, dtype[, epilogue])."""

    name = "conv2d_nchw"

    def space(self, args: tuple[Any, ...]) -> ConfigSpace:
        o = args[4]
        _, ow = out_size(args)
        lanes = host_target().vector_lanes(32)
        xbs = tuple(sorted({v for v in (*XB, _default_xb(ow)) if v <= ow}))

        def check(cfg: Config) -> str | None:
            ob, xb = int(cfg["ob"]), int(cfg["xb"])
            if cfg["variant"] == "blocked":
                if ob % 4:
                    return f"ob must be a multiple of 4 for the blocked variant, not {ob}"
                regs = xb * -(-ob // lanes)
            else:
                if o % ob:
                    return f"ob must divide the {o} output channels, not {ob}"
                regs = ob * -(-xb // lanes)
            if regs > 28:
                return f"the register tile must fit in 28 vector registers, not {regs}"
            if cfg["variant"] == "direct" and (cfg["helpers"] != "ahead" or cfg["yblocks"] != 1):
                return (f"the direct variant must have helpers 'ahead' and yblocks 1, not "
                        f"{cfg['helpers']!r} and {cfg['yblocks']}")
            return None

        return ConfigSpace([
            Knob("variant", ("blocked", "direct")),
            Knob("ob", OB),
            Knob("xb", xbs),
            Knob("rorder", ("c,y,x", "y,x,c")),
            Knob("urx", (False, True)),
            Knob("par", ("n,o,y", "n,o")),
            Knob("yblocks", (1, 4, 8, 16)),
            Knob("helpers", ("in_task", "ahead")),
        ], check)

    def default(self, args: tuple[Any, ...]) -> dict[str, Any]:
        _, ow = out_size(args)
        return {"variant": "blocked", "ob": host_target().vector_lanes(32),
                "xb": _default_xb(ow), "rorder": "c,y,x", "urx": False, "par": "n,o,y",
                "yblocks": 8, "helpers": "in_task"}

    def flops(self, args: tuple[Any, ...]) -> float:
        n, c, _, _, o, kh, kw = args[:7]
        oh, ow = out_size(args)
        return 2.0 * n * o * oh * ow * c * kh * kw

    def arrays(self, args: tuple[Any, ...], rng: np.random.Generator) -> list[np.ndarray]:
        n, c, h, w, o, kh, kw, _, _, dtype = args[:10]
        oh, ow = out_size(args)
        return [rng.standard_normal((n, c, h, w)).astype(dtype),
                rng.standard_normal((o, c, kh, kw)).astype(dtype),
                *[rng.standard_normal(s).astype(dtype) for s in _operand_shapes(args)],
                np.zeros((n, o, oh, ow), dtype)]

    def instantiate(self, args: tuple[Any, ...], cfg: Config) -> tuple[Schedule, list[Tensor]]:
        n, c, h, w, o, kh, kw, stride, pad, dtype = args[:10]
        blocked = cfg["variant"] == "blocked"
        D = te.placeholder((n, c, h, w), dtype, "D")
        W = te.placeholder((o, c, kh, kw), dtype, "W")
        extra = [te.placeholder(shape, dtype, f"E{k}")
                 for k, shape in enumerate(_operand_shapes(args))]
        out = conv2d_nchw(D, W, stride=stride, padding=pad,
                          oc_block=int(cfg["ob"]) if blocked else 1,
                          epilogue=epilogue_arg(args), operands=extra)
        s = te.create_schedule(out)
        conv = inline_epilogue(s, out)  # every step but the last, which stores the output
        if blocked:
            acc = next(t for t in op_inputs(conv.op)
                       if getattr(t.op, "tag", "") == "conv2d_nchw_blocked")
            s[acc].scope = "local"
            if conv is not out:
                s[conv].compute_inline()
        elif conv is out:
            acc = s.cache_write(out, "local")
        else:  # the conv is the register tile under the epilogue's store
            acc = conv
            s[acc].scope = "local"
        helpers = {getattr(t.op, "tag", ""): t for t in op_inputs(acc.op if blocked else conv.op)}
        in_task = cfg["helpers"] == "in_task"
        if not in_task:
            if "pad" in helpers:
                ps = s[helpers["pad"]]
                n_, c_, _, x_ = ps.op.axis
                ps.parallel(ps.fuse(n_, c_))
                ps.vectorize(x_)
            if "conv_pack_w" in helpers:
                ps = s[helpers["conv_pack_w"]]
                ps.parallel(ps.op.axis[0])
                ps.vectorize(ps.op.axis[4])
        st = s[out]
        nn, oc, y, x = st.op.axis
        oco, oci = st.split(oc, factor=int(cfg["ob"]))
        yo, yi = st.split(y, factor=_row_block(out.shape[2], int(cfg["yblocks"])))
        xo, xi = st.split(x, factor=int(cfg["xb"]))
        st.reorder(nn, oco, yo, yi, xo, oci, xi)
        st.unroll(oci)
        if blocked:
            st.unroll(xi)
        else:
            st.vectorize(xi)
        if cfg["par"] == "n,o,y":
            task = st.fuse(st.fuse(nn, oco), yo)
        else:
            task = st.fuse(nn, oco)
        st.parallel(task)
        s[acc].compute_at(st, xo)
        if in_task:  # after the accumulator is attached, so the task reads them
            helpers_in_task(s, helpers, st, task)
        lc = s[acc]
        if blocked:
            ln, la, ly, lx, lb = lc.op.axis
            tile = (lx, lb)
        else:
            ln, lo, ly, lx = lc.op.axis
            la, tile = None, (lo, lx)
        _reduce(lc, (ln, la, ly) if la is not None else (ln, ly), tile, cfg)
        return s, [D, W, *extra, out]


def _reduce(lc: Stage, outer: tuple[Any, ...], tile: tuple[Any, Any], cfg: Config) -> None:
    rc, ry, rx = lc.op.reduce_axis
    red = (rc, ry, rx) if cfg["rorder"] == "c,y,x" else (ry, rx, rc)
    lc.reorder(*outer, *red, *tile)
    if cfg["urx"]:
        lc.unroll(rx)
    lc.unroll(tile[0])
    lc.vectorize(tile[1])
