"""The tunable blocked conv2d (NCHW[x]c, what ``compile(layout="auto")`` builds for convs whose
channels divide into vector blocks): ``ops.schedule_conv2d_nchwc`` with knobs.

args: ``(N, C, H, W, O, KH, KW, stride, pad, dtype, block[, epilogue])`` in the plain NCHW
sizes; the kernel's arrays are blocked: data ``(N, C/b, H, W, b)``, weight
``(O/b, C/b, KH, KW, b, b)``, epilogue operands (bias ``(O/b, 1, 1, b)``, residuals of the
output's shape), output ``(N, O/b, OH, OW, b)``. Knobs: ``xb`` output pixels held in vector
registers (one vector of ``b`` output channels each), ``ob`` output channel blocks and ``yb``
output rows in the same register tile (``xb * ob * yb`` accumulators, at most
``MAX_TILE_VECTORS``; ``ob`` must divide ``O/b``); ``rorder`` the reduction loops around
the tile (input channel blocks outside or inside the kernel window; the channels within a
block stay innermost); ``urx`` unroll the window's column loop; ``par`` parallel over the
fused (batch, channel block, row) loops or over (batch, channel block) with rows serial.
The default point is ``ops.schedule_conv2d_nchwc``'s.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tessera.compiler import tensor as te
from tessera.compiler.autotune.errors import TuningError
from tessera.compiler.autotune.space import Config, ConfigSpace, Knob
from tessera.compiler.autotune.templates.base import Template
from tessera.compiler.ops.conv2d_nchwc import conv2d_nchwc, nchwc_x_block, schedule_conv2d_nchwc
from tessera.compiler.ops.epilogue import WITH_OPERAND, Epilogue, epilogue_of
from tessera.compiler.tensor.schedule import Schedule
from tessera.compiler.tensor.tensor import Tensor

XB = (1, 2, 4, 6, 7, 8, 12, 14, 16, 28)
OB = (1, 2, 4)
YB = (1, 2)
MAX_TILE_VECTORS = 28  # accumulators, leaving registers for a weight vector and a broadcast


def out_size(args: tuple[Any, ...]) -> tuple[int, int]:
    _, _, h, w, _, kh, kw, stride, pad = args[:9]
    return (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1


def _check(args: tuple[Any, ...]) -> tuple[int, Epilogue]:
    if len(args) not in (11, 12):
        raise TuningError(f"conv2d_nchwc: args must be (N, C, H, W, O, KH, KW, stride, pad, "
                          f"dtype, block[, epilogue]), not {len(args)} values")
    block = int(args[10])
    if block < 1 or args[1] % block or args[4] % block:
        raise TuningError(f"conv2d_nchwc: block must divide the channels {args[1]} and "
                          f"{args[4]}, not {block}")
    return block, epilogue_of(args[11]) if len(args) == 12 else ()


def shapes(args: tuple[Any, ...]) -> list[tuple[int, ...]]:
    """The kernel's array shapes: data, weight, epilogue operands, output."""
    b, epi = _check(args)
    n, c, h, w, o, kh, kw = (int(v) for v in args[:7])
    oh, ow = out_size(args)
    out = (n, o // b, oh, ow, b)
    ops = [(o // b, 1, 1, b) if s[0] == "bias" else out for s in epi if s[0] in WITH_OPERAND]
    return [(n, c // b, h, w, b), (o // b, c // b, kh, kw, b, b), *ops, out]


class Conv2dNCHWcTemplate(Template):
    """args: (N, C, H, W, O, KH, KW, stride, pad, dtype, block[, epilogue])."""

    name = "conv2d_nchwc"

    def space(self, args: tuple[Any, ...]) -> ConfigSpace:
        block, _ = _check(args)
        oh, ow = out_size(args)
        xbs = tuple(sorted({v for v in (*XB, nchwc_x_block(ow)) if v <= ow}))
        oblocks = int(args[4]) // block

        def check(cfg: Config) -> str | None:
            if oblocks % cfg["ob"]:
                return (f"ob must divide the {oblocks} output channel blocks, "
                        f"not {cfg['ob']}")
            if cfg["yb"] > oh:
                return f"yb must be at most the {oh} output rows, not {cfg['yb']}"
            tile = cfg["xb"] * cfg["ob"] * cfg["yb"]
            if tile > MAX_TILE_VECTORS:
                return (f"the register tile xb*ob*yb must be at most {MAX_TILE_VECTORS} "
                        f"vectors, not {tile}")
            return None

        return ConfigSpace([
            Knob("xb", xbs),
            Knob("rorder", ("c,y,x", "y,x,c")),
            Knob("urx", (False, True)),
            Knob("par", ("n,o,y", "n,o")),
            Knob("ob", OB, implied=1),
            Knob("yb", YB, implied=1),
        ], check)

    def default(self, args: tuple[Any, ...]) -> dict[str, Any]:
        _, ow = out_size(args)
        return {"xb": nchwc_x_block(ow), "rorder": "c,y,x", "urx": False, "par": "n,o,y",
                "ob": 1, "yb": 1}

    def flops(self, args: tuple[Any, ...]) -> float:
        n, c, _, _, o, kh, kw = args[:7]
        oh, ow = out_size(args)
        return 2.0 * n * o * oh * ow * c * kh * kw

    def arrays(self, args: tuple[Any, ...], rng: np.random.Generator) -> list[np.ndarray]:
        dtype = str(args[9])
        *ins, out = shapes(args)
        return [*[rng.standard_normal(s).astype(dtype) for s in ins], np.zeros(out, dtype)]

    def instantiate(self, args: tuple[Any, ...], cfg: Config) -> tuple[Schedule, list[Tensor]]:
        _, epi = _check(args)
        stride, pad, dtype = int(args[7]), int(args[8]), str(args[9])
        ph = [te.placeholder(s, dtype, f"in{k}") for k, s in enumerate(shapes(args)[:-1])]
        out = conv2d_nchwc(ph[0], ph[1], stride=stride, padding=pad, epilogue=epi,
                           operands=ph[2:])
        s = schedule_conv2d_nchwc(out, xb=int(cfg["xb"]), par=str(cfg["par"]),
                                  rorder=str(cfg["rorder"]), urx=bool(cfg["urx"]),
                                  ob=int(cfg["ob"]), yb=int(cfg["yb"]))
        return s, [*ph, out]
