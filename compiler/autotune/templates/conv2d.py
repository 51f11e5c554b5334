"""The tunable NCHW conv2d: ``ops.conv2d``'s register-tiled direct convolution with knobs.

Knobs: ``ob`` (output channels per register tile, unrolled), ``xb`` (output columns per tile,
vectorized), ``rorder`` (order of the reduction loops around the tile: channels outside or
inside the kernel window), ``urx`` (unroll the kernel-window column loop), ``par`` (parallel
over (batch, channel block, row) fused, or over (batch, channel block) with rows serial).
The default point is ``ops.schedule_conv2d_nchw``'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tessera.compiler import tensor as te
from tessera.compiler.autotune.space import Config, ConfigSpace, Knob
from tessera.compiler.autotune.templates.base import Template
from tessera.compiler.ops.conv2d import _block, conv2d_nchw
from tessera.compiler.tensor.schedule import Schedule, op_inputs
from tessera.compiler.tensor.tensor import Tensor
from tessera.runtime.cpu import host_target

OB = (1, 2, 4, 6, 8, 12, 16)


def out_size(args: tuple[Any, ...]) -> tuple[int, int]:
    _, _, h, w, _, kh, kw, stride, pad, _ = args
    return (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1


def _default_xb(ow: int, lanes: int) -> int:
    xb = ow if ow <= 2 * lanes else _block(ow, 2 * lanes)
    if xb < lanes // 2 and ow > 2 * lanes:
        xb = lanes
    return xb


class Conv2dTemplate(Template):
    """args: (N, C, H, W, O, KH, KW, stride, pad, dtype)."""

    name = "conv2d_nchw"

    def space(self, args: tuple[Any, ...]) -> ConfigSpace:
        o = args[4]
        _, ow = out_size(args)
        lanes = host_target().vector_lanes(32)
        xbs = sorted({v for v in (4, 7, 8, 14, 16, 28, 32, lanes, 2 * lanes, _default_xb(ow, lanes))
                      if v <= max(ow, 4)})

        def check(cfg: Config) -> str | None:
            if o % cfg["ob"]:
                return f"ob must divide the {o} output channels, not {cfg['ob']}"
            if cfg["xb"] > ow:
                return f"xb must be at most the output width {ow}, not {cfg['xb']}"
            if cfg["ob"] * -(-cfg["xb"] // lanes) > 28:
                return (f"ob*ceil(xb/lanes) accumulators must fit in 28 vector registers, not "
                        f"{cfg['ob'] * -(-cfg['xb'] // lanes)}")
            return None

        return ConfigSpace([
            Knob("ob", OB),
            Knob("xb", tuple(xbs)),
            Knob("rorder", ("c,y,x", "y,x,c")),
            Knob("urx", (False, True)),
            Knob("par", ("n,o,y", "n,o")),
        ], check)

    def default(self, args: tuple[Any, ...]) -> dict[str, Any]:
        o = args[4]
        _, ow = out_size(args)
        lanes = host_target().vector_lanes(32)
        ob = max(v for v in OB if o % v == 0 and v <= (8 if lanes >= 16 else 6))
        return {"ob": ob, "xb": _default_xb(ow, lanes), "rorder": "c,y,x", "urx": False,
                "par": "n,o,y"}

    def flops(self, args: tuple[Any, ...]) -> float:
        n, c, _, _, o, kh, kw, _, _, _ = args
        oh, ow = out_size(args)
        return 2.0 * n * o * oh * ow * c * kh * kw

    def arrays(self, args: tuple[Any, ...], rng: np.random.Generator) -> list[np.ndarray]:
        n, c, h, w, o, kh, kw, _, _, dtype = args
        oh, ow = out_size(args)
        return [rng.standard_normal((n, c, h, w)).astype(dtype),
                rng.standard_normal((o, c, kh, kw)).astype(dtype),
                np.zeros((n, o, oh, ow), dtype)]

    def instantiate(self, args: tuple[Any, ...], cfg: Config) -> tuple[Schedule, list[Tensor]]:
        n, c, h, w, o, kh, kw, stride, pad, dtype = args
        D = te.placeholder((n, c, h, w), dtype, "D")
        W = te.placeholder((o, c, kh, kw), dtype, "W")
        out = conv2d_nchw(D, W, stride=stride, padding=pad)
        s = te.create_schedule(out)
        for t in op_inputs(out.op):
            if getattr(t.op, "tag", "") == "pad":
                ps = s[t]
                n_, c_, _, x_ = ps.op.axis
                ps.parallel(ps.fuse(n_, c_))
                if t.shape[3] <= 4096:
                    ps.vectorize(x_)
        local = s.cache_write(out, "local")
        st = s[out]
        nn, oc, y, x = st.op.axis
        oco, oci = st.split(oc, factor=int(cfg["ob"]))
        xo, xi = st.split(x, factor=int(cfg["xb"]))
        st.reorder(nn, oco, y, xo, oci, xi)
        st.unroll(oci)
        st.vectorize(xi)
        if cfg["par"] == "n,o,y":
            st.parallel(st.fuse(st.fuse(nn, oco), y))
        else:
            st.parallel(st.fuse(nn, oco))
        s[local].compute_at(st, xo)
        lc = s[local]
        ln, lo, ly, lx = lc.op.axis
        rc, ry, rx = lc.op.reduce_axis
        if cfg["rorder"] == "c,y,x":
            lc.reorder(ln, ly, rc, ry, rx, lo, lx)
        else:
            lc.reorder(ln, ly, ry, rx, rc, lo, lx)
        if cfg["urx"]:
            lc.unroll(rx)
        lc.unroll(lo)
        lc.vectorize(lx)
        return s, [D, W, out]
