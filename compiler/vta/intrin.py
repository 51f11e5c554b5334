"""The accelerator's intrinsics as tensor expressions, and the structural match of
``tensorize``.

The GEMM intrinsic is declared with its own compute (VTA's ``gemm`` intrin)::

    out[b, o] = sum(k, int32(inp[b, k]) * int32(wgt[o, k]))      b < batch, o < block_out,
                                                                  k < block_in

``tensorize(compute, intrin)`` checks that the innermost block of a layer's compute -- its two
innermost output axes and its innermost reduction axis -- computes exactly that: the same
reduction, the same expression tree and dtypes, the same extents, and each operand indexed
by the block variables in the same positions. A mismatch is a ScheduleError naming both
sides. The epilogue stages map onto ALU opcodes (``ALU_OPS``).
"""

from __future__ import annotations

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor.functor import walk
from tessera.compiler.tensor.printer import expr_str
from tessera.compiler.tensor.tensor import ComputeOp, Tensor
from tessera.hw import isa as I
from tessera.hw.config import HwConfig

# Epilogue stage -> ALU opcode (pragma "alu"): add bias, shift right, clip high, clip low/ReLU.
ALU_OPS = {"add": I.AluOp.ADD, "shr": I.AluOp.SHR, "min": I.AluOp.MIN, "max": I.AluOp.MAX}


def gemm_intrin(cfg: HwConfig) -> Tensor:
    """The GEMM intrinsic's compute for ``cfg``'s block shape."""
    inp = te.placeholder((cfg.batch, cfg.block_in), "int8", name="inp")
    wgt = te.placeholder((cfg.block_out, cfg.block_in), "int8", name="wgt")
    k = te.reduce_axis(cfg.block_in, name="k")
    return te.compute(
        (cfg.batch, cfg.block_out),
        lambda b, o: te.sum(te.cast("int32", inp[b, k]) * te.cast("int32", wgt[o, k]), axis=k),
        name="gemm",
    )


def conv2d_blocked(cfg: HwConfig, nb: int, icb: int, ocb: int, h: int, w: int, kh: int,
                   kw: int, stride: tuple[int, int], name: str = "conv2d",
                   data: Tensor | None = None) -> Tensor:
    """res[n, oc, y, x, b, o] = sum(ic, i, j, k) data[n, ic, y*s+i, x*s+j, b, k] *
    kernel[oc, ic, i, j, o, k] over the (padded) blocked layouts; ``data`` (an
    ``(nb, icb, h, w, batch, block_in)`` tensor, e.g. a padding stage) or a placeholder."""
    oh, ow = (h - kh) // stride[0] + 1, (w - kw) // stride[1] + 1
    if data is None:
        data = te.placeholder((nb, icb, h, w, cfg.batch, cfg.block_in), "int8", name="data")
    kern = te.placeholder((ocb, icb, kh, kw, cfg.block_out, cfg.block_in), "int8",
                          name="kernel")
    ic = te.reduce_axis(icb, name="ic")
    ri = te.reduce_axis(kh, name="kh")
    rj = te.reduce_axis(kw, name="kw")
    k = te.reduce_axis(cfg.block_in, name="k")
    return te.compute(
        (nb, ocb, oh, ow, cfg.batch, cfg.block_out),
        lambda n, oc, y, x, b, o: te.sum(
            te.cast("int32", data[n, ic, y * stride[0] + ri, x * stride[1] + rj, b, k])
            * te.cast("int32", kern[oc, ic, ri, rj, o, k]),
            axis=[ic, ri, rj, k],
        ),
        name=name,
    )


def _block_vars(op: ComputeOp) -> tuple[list[E.Var], list[int]]:
    """The block variables (two innermost output axes, innermost reduce axis), extents."""
    body = op.body
    if not isinstance(body, E.Reduce) or len(op.axis) < 2:
        return [], []
    ivs = [*op.axis[-2:], body.axis[-1]]
    return [iv.var for iv in ivs], [int(iv.dom.extent.value) for iv in ivs]


def _canon(e: E.Expr, roles: dict[E.Var, str]) -> str:
    """The block structure of ``e``: indices without block variables become ``_``."""
    if isinstance(e, E.Var):
        return roles.get(e, "_")
    if isinstance(e, E.Const):
        return f"{e.dtype}({e.value})"
    if isinstance(e, E.Cast):
        return f"{e.dtype}({_canon(e.value, roles)})"
    if isinstance(e, E.Binary):
        return f"({_canon(e.a, roles)} {e.op} {_canon(e.b, roles)})"
    if isinstance(e, E.Reduce):
        return f"{e.combiner}({_canon(e.source, roles)})"
    if isinstance(e, E.TensorRead):
        idx = []
        for i in e.indices:
            uses = [v for v in walk(i) if isinstance(v, E.Var) and v in roles]
            if not uses:
                continue  # an outer index: part of the loops around the block
            idx.append(roles[i] if isinstance(i, E.Var) else f"<{expr_str(i)}>")
        return f"{e.dtype}[{', '.join(idx)}]"
    return f"<{type(e).__name__}>"


def block_signature(t: Tensor) -> tuple[str, tuple[int, ...]]:
    """(structure of the innermost block's body, its (b, o, k) extents)."""
    op = t.op
    if not isinstance(op, ComputeOp):
        return "<placeholder>", ()
    block, extents = _block_vars(op)
    if not block:
        return f"<no reduction: {expr_str(op.body)}>", ()
    roles = dict(zip(block, ("b", "o", "k")))
    return _canon(op.body, roles), tuple(extents)


def tensorize(t: Tensor, intrin: Tensor) -> None:
    """Check that ``t``'s innermost block is ``intrin``; ScheduleError naming both if not."""
    mine, my_ext = block_signature(t)
    theirs, their_ext = block_signature(intrin)
    if mine != theirs or my_ext != their_ext:
        raise ScheduleError(
            f"tensorize: stage {t.name}'s inner block {mine} over (b, o, k) = {my_ext} does "
            f"not match intrinsic {intrin.name}'s {theirs} over {their_ext}"
        )
