"""Lowering the accelerator's te schedule: the loop IR, then the accelerator passes.

``loop_ir`` is ``te``'s schedule_ops (bound inference through the compute_at chain, the
storage scopes, the pragma/tensorize attributes, the vthread loop) with proven guards
dropped: the listing users read when debugging a layer. ``lower_program`` runs the passes of
``tessera.compiler.vta.passes`` over it, ``verify_accel`` after each (and ``te.verify`` when a
trace is asked for), and returns the program (``program`` operations in instruction order
with their token flags) that ``tessera.compiler.codegen.vta.generate`` turns into an
``AccelKernel``.
"""

from __future__ import annotations

from collections.abc import Callable

from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.functor import walk
from tessera.compiler.tensor.lower import _params
from tessera.compiler.tensor.schedule import Schedule
from tessera.compiler.tensor.schedule_ops import schedule_ops
from tessera.compiler.tensor.tensor import PlaceholderOp, Tensor
from tessera.compiler.tensor.verify import verify
from tessera.compiler.vta.passes.accel_ir import accel_stmts, simplify_guards
from tessera.compiler.vta.passes.inject_alu import inject_alu
from tessera.compiler.vta.passes.inject_dma_copy import inject_dma_copy
from tessera.compiler.vta.passes.inject_virtual_threads import inject_virtual_threads
from tessera.compiler.vta.passes.tensorize_gemm import tensorize_gemm
from tessera.compiler.vta.passes.unroll_host_loops import unroll_host_loops
from tessera.compiler.vta.passes.verify import verify_accel
from tessera.compiler.vta.program import Op
from tessera.hw.config import HwConfig

# te tensor -> the kernel's DRAM tensor (``codegen.vta.TensorSpec`` names)
DRAM_NAMES = {"data": "data", "kernel": "weight", "bias": "bias", "res": "out"}


def _args(sch: Schedule) -> list[Tensor]:
    found: dict[str, Tensor] = {}
    for st in sch.stages:
        for n in walk(st.op.body):
            if isinstance(n, E.TensorRead) and isinstance(n.tensor.op, PlaceholderOp):
                found.setdefault(n.tensor.name, n.tensor)
    return [found[k] for k in ("data", "kernel", "bias") if k in found] + list(sch.outputs)


def loop_ir(sch: Schedule, name: str = "layer") -> S.PrimFunc:
    """The loop IR of an accelerator schedule (``conv2d_te_schedule``)."""
    params, order = _params(sch, _args(sch))
    f = S.PrimFunc(name, order, simplify_guards(schedule_ops(sch, params)))
    verify(f)
    return f


def lower_program(f: S.PrimFunc, cfg: HwConfig, vthreads: int,
                  trace: list[tuple[str, S.PrimFunc]] | None = None) -> list[Op]:
    """The program of ``f``: every pass in order, each result verified."""
    passes: list[tuple[str, Callable[[S.Stmt], S.Stmt]]] = [
        ("unroll_host_loops", unroll_host_loops),
        ("tensorize_gemm", tensorize_gemm),
        ("inject_alu", inject_alu),
        ("inject_dma_copy", lambda s: inject_dma_copy(s, DRAM_NAMES)),
        ("inject_virtual_threads", lambda s: inject_virtual_threads(s, vthreads)),
    ]
    for label, p in passes:
        f = S.PrimFunc(f.name, f.params, p(f.body), f.attrs)
        verify_accel(f, cfg, label)
        if trace is not None:  # debugging: the loop-IR verifier too (it costs a walk)
            verify(f)
            trace.append((label, f))
    return [a.op for a in accel_stmts(f.body)]
