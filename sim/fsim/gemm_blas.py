"""The factorized GEMM path: one BLAS matrix product per group of micro-ops.

Most GEMM instructions a compiler emits have structure: within a group of micro-ops that share
their ``dst``, each of the two loops moves either the input index (``src``) or the weight
index (``wgt``) but not both. Then, with R the iterations of the loops that move ``src`` (or
neither) and C those of the loops that move ``wgt``, the instruction is

    Out[(r, b), (c, n)] = sum_(u, k) A[(r, b), (u, k)] * B[(u, k), (c, n)]
    A[(r, b), (u, k)] = inp[s(r, u)][b][k],   B[(u, k), (c, n)] = wgt[w(c, u)][n][k]

a single (R*batch) x (nu*block_in) x (C*block_out) matrix product, followed by
``acc[d(r, c)] += Out[r, c]``. Every partial sum is an integer of magnitude at most
``nu * block_in * 2**14``; float32 holds those exactly up to 2**24, so the product runs in
float32 when ``nu * block_in <= 1024`` and in float64 (exact to 2**53) otherwise. The result is
bit-identical to the sequential definition in ``gemm``; instructions without this structure
(a loop moving both indices) take the generic gather path.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tessera.hw import isa as I
from tessera.sim.fsim.loops import LoopNest
from tessera.sim.fsim.state import FSimState

MAX_ELEMS = 1 << 22  # index elements per group beyond which the generic path is used
EXACT_F32_TERMS = 1024


@dataclass(frozen=True)
class Group:
    """One BLAS product: operand indices, destination runs and the float type to use."""

    src: np.ndarray          # [R, nu] input entry per (row, micro-op)
    wgt: np.ndarray          # [C, nu] weight entry per (column, micro-op)
    order: np.ndarray        # permutation of the R*C products sorting them by destination
    starts: np.ndarray | None  # first product of each destination run (None: all distinct)
    dst: np.ndarray          # the distinct destinations, in run order
    dtype: type


def group_by(d: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """(order sorting ``d``, run starts or None when all distinct, distinct values)."""
    order = np.argsort(d, kind="stable")
    ds = d[order]
    starts = np.flatnonzero(np.r_[True, ds[1:] != ds[:-1]])
    return order, (None if len(starts) == len(ds) else starts), ds[starts]


def plan(state: FSimState, insn: I.GemmInsn, nest: LoopNest) -> list[Group] | None:
    """The groups of a factorizable (already range-checked) GEMM, or None."""
    loops = [
        (insn.iter_out, insn.dst_factor_out, insn.src_factor_out, insn.wgt_factor_out),
        (insn.iter_in, insn.dst_factor_in, insn.src_factor_in, insn.wgt_factor_in),
    ]
    if any(sf and wf for _, _, sf, wf in loops) or nest.n == 0:
        return None
    grid = np.meshgrid(np.arange(insn.iter_out), np.arange(insn.iter_in), indexing="ij")
    rows = [k for k, (_, _, _, wf) in enumerate(loops) if not wf]
    cols = [k for k, (_, _, _, wf) in enumerate(loops) if wf]
    # Loop indices of each row and column: the grid axes, with the other side held at 0.
    axes = rows + cols
    perm = np.transpose(np.stack(grid), [0, *(1 + a for a in axes)])
    n_rows = int(np.prod([loops[k][0] for k in rows]))
    n_cols = int(np.prod([loops[k][0] for k in cols]))
    o_rc = perm[0].reshape(n_rows, n_cols)
    i_rc = perm[1].reshape(n_rows, n_cols)
    dst, src, wgt = nest.fields["dst"], nest.fields["src"], nest.fields["wgt"]
    s_row = o_rc[:, 0] * insn.src_factor_out + i_rc[:, 0] * insn.src_factor_in
    w_col = o_rc[0, :] * insn.wgt_factor_out + i_rc[0, :] * insn.wgt_factor_in
    d_rc = (o_rc * insn.dst_factor_out + i_rc * insn.dst_factor_in).reshape(-1)
    groups: list[Group] = []
    for value in np.unique(dst):
        us = np.flatnonzero(dst == value)
        if (n_rows + n_cols) * len(us) + n_rows * n_cols > MAX_ELEMS:
            return None
        order, starts, uniq = group_by(d_rc + value)
        dtype = np.float32 if len(us) * state.cfg.block_in <= EXACT_F32_TERMS else np.float64
        groups.append(Group(s_row[:, None] + src[us][None, :], w_col[:, None] + wgt[us][None, :],
                            order, starts, uniq, dtype))
    return groups


def run(state: FSimState, groups: list[Group]) -> None:
    """Execute the planned products on ``state``."""
    cfg = state.cfg
    b, bi, bo = cfg.batch, cfg.block_in, cfg.block_out
    for g in groups:
        n_rows, nu = g.src.shape
        n_cols = g.wgt.shape[0]
        a = state.inp_t[:, g.src].reshape(b * n_rows, nu * bi)   # rows (b, r)
        w = state.wgt_t[:, g.wgt].reshape(bo * n_cols, nu * bi)  # rows (n, c)
        if g.dtype is np.float64:
            a, w = a.astype(np.float64), w.astype(np.float64)
        out_t = w @ a.T  # [(n, c), (b, r)]
        prod = out_t.reshape(bo, n_cols, b, n_rows).transpose(3, 1, 2, 0)
        prod64 = prod.reshape(n_rows * n_cols, b, bo).astype(np.int64)[g.order]
        sums = prod64 if g.starts is None else np.add.reduceat(prod64, g.starts, axis=0)
        new = (state.acc[g.dst].astype(np.int64) + sums).astype(np.int32)
        state.acc[g.dst] = new
        state.out[g.dst] = new.astype(np.int8)
