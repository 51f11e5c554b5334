"""GEMM: the block matrix multiply (normative).

Over the micro-op loop (``loops``), each iteration with indices ``(d, s, w)`` does::

    reset:  acc[d] = 0
    else:   acc[d][b][n] += sum_k inp[s][b][k] * wgt[w][n][k]   (int32, wrap-around mod 2**32)
    both:   out[d] = acc[d] truncated to its low 8 bits         (two's complement, no saturation)

Products and their block sums are exact (|sum| <= block_in * 2**14). A reset GEMM reads no
operands, so only ``dst`` is range checked. Iterations never read the accumulator they write
except through ``+=``, and wrap-around addition is associative, so every iteration of one
instruction can run at once: the simulator gathers all operand blocks of a chunk, multiplies
them in float32 (exact: every partial sum is an integer of magnitude < 2**24 for
``block_in <= 1024``), and adds the products into the accumulator grouped by ``d`` in int64
before wrapping back to int32. The result is bit-identical to the sequential definition.
Instructions whose loops factor into one matrix product per micro-op group take the faster
BLAS path of ``gemm_blas`` instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tessera.hw import isa as I
from tessera.sim.fsim import gemm_blas
from tessera.sim.fsim.loops import LoopNest, Operand, cached
from tessera.sim.fsim.state import FSimState

EXACT_F32_BLOCK_IN = 1024


def operands(state: FSimState, insn: I.GemmInsn) -> list[Operand]:
    cfg = state.cfg
    ops = [Operand("dst", insn.dst_factor_out, insn.dst_factor_in, "acc", cfg.acc_depth)]
    if not insn.reset:
        ops += [
            Operand("src", insn.src_factor_out, insn.src_factor_in, "inp", cfg.inp_depth),
            Operand("wgt", insn.wgt_factor_out, insn.wgt_factor_in, "wgt", cfg.wgt_depth),
        ]
    return ops


@dataclass(frozen=True)
class _Chunk:
    """One chunk of iterations, permuted so that equal destinations are adjacent."""

    src: np.ndarray     # input index per iteration (sorted by destination)
    wgt: np.ndarray     # weight index per iteration (sorted by destination)
    starts: np.ndarray | None  # first iteration of each destination run; None if all distinct
    dst: np.ndarray     # the distinct destinations, in run order


def _plan(
    state: FSimState, pc: int, insn: I.GemmInsn
) -> list[_Chunk | np.ndarray] | list[gemm_blas.Group]:
    nest = LoopNest(state, pc, insn, operands(state, insn))
    if insn.reset:
        return [np.unique(idx["dst"]) for idx in nest.chunks()]
    groups = gemm_blas.plan(state, insn, nest)
    if groups is not None:
        return groups
    out: list[_Chunk | np.ndarray] = []
    for idx in nest.chunks():
        d = idx["dst"]
        order = np.argsort(d, kind="stable")
        ds = d[order]
        starts = np.flatnonzero(np.r_[True, ds[1:] != ds[:-1]])
        distinct = len(starts) == len(ds)
        out.append(_Chunk(idx["src"][order], idx["wgt"][order], None if distinct else starts,
                          ds[starts]))
    return out


def gemm(state: FSimState, pc: int, insn: I.GemmInsn) -> None:
    """Execute one GEMM instruction on ``state``."""
    acc, out = state.acc, state.out
    steps = cached(state, insn, lambda: _plan(state, pc, insn))
    if steps and isinstance(steps[0], gemm_blas.Group):
        gemm_blas.run(state, steps)
        return
    for chunk in steps:
        assert not isinstance(chunk, gemm_blas.Group)
        if isinstance(chunk, np.ndarray):  # reset
            acc[chunk] = 0
            out[chunk] = 0
            continue
        if state.cfg.block_in <= EXACT_F32_BLOCK_IN:
            prod = np.einsum("nbk,nok->nbo", state.inp_f[chunk.src], state.wgt_f[chunk.wgt])
            prod64 = prod.astype(np.int64)
        else:  # pragma: no cover - no shipped configuration is this wide
            prod64 = np.einsum(
                "nbk,nok->nbo",
                state.inp[chunk.src].astype(np.int64),
                state.wgt[chunk.wgt].astype(np.int64),
            )
        sums = prod64 if chunk.starts is None else np.add.reduceat(prod64, chunk.starts, axis=0)
        new = (acc[chunk.dst].astype(np.int64) + sums).astype(np.int32)
        acc[chunk.dst] = new
        out[chunk.dst] = new.astype(np.int8)
