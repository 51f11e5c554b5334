"""``lower(sch, args)``: the schedule becomes a PrimFunc, through this list of passes."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from tessera.compiler.errors import CompileError
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.passes.loop_partition import loop_partition
from tessera.compiler.tensor.passes.simplify import simplify
from tessera.compiler.tensor.passes.storage_flatten import storage_flatten
from tessera.compiler.tensor.passes.unroll import unroll_loops
from tessera.compiler.tensor.passes.vectorize import vectorize_loops
from tessera.compiler.tensor.schedule import Schedule
from tessera.compiler.tensor.schedule_ops import schedule_ops
from tessera.compiler.tensor.tensor import PlaceholderOp, Tensor

Pass = Callable[[S.Stmt], S.Stmt]

# Extension point for targets (tensorize, virtual threads, DMA injection): extra passes run
# at a named phase: "schedule" (after schedule_ops), "flat" (after storage_flatten), "final".
PHASES = ("schedule", "flat", "final")


def _params(sch: Schedule, args: Sequence[Tensor]) -> tuple[dict[object, S.Buffer],
                                                              tuple[S.Buffer, ...]]:
    params: dict[object, S.Buffer] = {}
    order: list[S.Buffer] = []
    for t in args:
        if not isinstance(t, Tensor):
            raise CompileError(f"lower: every argument must be a Tensor, not {type(t).__name__}")
        st = sch.stage_of(t.op)
        key: object = t.op if isinstance(t.op, PlaceholderOp) or st is None else st.op
        if st is None and not isinstance(t.op, PlaceholderOp):
            raise CompileError(f"lower: argument {t.name} must be computed by the schedule or a "
                               f"placeholder, not a foreign tensor")
        if key in params:
            raise CompileError(f"lower: argument {t.name} must appear once, not twice")
        buf = S.Buffer(t.name, t.dtype, t.shape)
        params[key] = buf
        order.append(buf)
    return params, tuple(order)


def lower(sch: Schedule, args: Sequence[Tensor], name: str = "main",
          passes: dict[str, list[Pass]] | None = None,
          trace: list[tuple[str, S.PrimFunc]] | None = None) -> S.PrimFunc:
    """Lower a schedule to a flat, vectorized loop program (a PrimFunc).

    ``passes`` adds target passes at a phase of ``PHASES``; ``trace`` (a list) receives the
    function after every pass, for the verifier and for debugging.
    """
    extra = passes or {}
    params, order = _params(sch, args)

    def step(label: str, f: S.PrimFunc) -> S.PrimFunc:
        if trace is not None:
            trace.append((label, f))
        return f

    def run(f: S.PrimFunc, p: Pass, label: str) -> S.PrimFunc:
        return step(label, S.PrimFunc(f.name, f.params, p(f.body), f.attrs))

    shapes = {f"shape{i}": ",".join(str(d) for d in b.shape) for i, b in enumerate(order)}
    f = step("schedule_ops", S.PrimFunc(name, order, schedule_ops(sch, params), shapes))
    for p in extra.get("schedule", []):
        f = run(f, p, p.__name__)
    f = step("storage_flatten", storage_flatten(f))
    for p in extra.get("flat", []):
        f = run(f, p, p.__name__)
    f = run(f, simplify, "simplify")
    f = run(f, loop_partition, "loop_partition")
    f = run(f, unroll_loops, "unroll_loops")
    f = run(f, simplify, "simplify")
    f = run(f, loop_partition, "loop_partition")  # guards that unrolling made affine in one loop
    f = run(f, vectorize_loops, "vectorize_loops")
    f = run(f, simplify, "simplify")
    for p in extra.get("final", []):
        f = run(f, p, p.__name__)
    return f
