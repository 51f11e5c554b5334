"""tessera.compiler.tensor: tensor expressions, schedules and the loop IR.

    from tessera.compiler import tensor as te
    A = te.placeholder((M, K), "float32", name="A")
    B = te.placeholder((K, N), "float32", name="B")
    k = te.reduce_axis(K, name="k")
    C = te.compute((M, N), lambda i, j: te.sum(A[i, k] * B[k, j], axis=k), name="C")
    s = te.create_schedule(C)
    io, jo, ii, ji = s[C].tile(*s[C].op.axis, 8, 32)
    s[C].vectorize(ji)
    f = te.lower(s, [A, B, C])        # a PrimFunc; print(f) shows the loop IR
    te.verify(f)

Schedule primitives (on ``s[T]``): split, tile, fuse, reorder, vectorize, unroll, parallel,
pragma, compute_at, compute_inline, bind (hook), tensorize (hook); on ``s``: cache_read,
cache_write, rfactor. ``s.trace_text()`` prints the trace, ``te.replay`` rebuilds it.

``te.lower`` runs, in order: schedule_ops (bound inference, loop nests), storage_flatten,
simplify, loop_partition, unroll_loops, simplify, loop_partition, vectorize_loops, simplify
(``compiler/tensor/passes/``, one pass per file). ``tessera.compiler.codegen.build`` turns
the result into a callable kernel.

Hooks for other targets: ``te.thread_axis("vthread")`` / ``("threadIdx.x")`` with ``bind``
(loop kinds ``vthread`` / ``thread_binding``), ``tensorize`` with a ``te.decl_tensor_intrin``
declared as its own tensor expression, open-string storage scopes for cache_read/cache_write
(``"acc_buffer"``, ...) and pragmas (``"dma_copy"``, ``"alu"``), and target passes run by
``te.lower(sch, args, passes={phase: [pass, ...]})`` at a phase of ``te.PHASES``.
"""

from tessera.compiler.tensor.expr import (
    Expr,
    Var,
    all_of,
    any_of,
    cast,
    const,
    equal,
    erf,
    exp,
    fabs,
    log,
    logical_not,
    max_value,
    maximum,
    min_value,
    minimum,
    not_equal,
    select,
    sigmoid,
    sqrt,
    tanh,
)
from tessera.compiler.tensor.intrin import TensorIntrin, decl_tensor_intrin, get_tensor_intrin
from tessera.compiler.tensor.lower import PHASES, lower
from tessera.compiler.tensor.schedule import Schedule, Stage, create_schedule
from tessera.compiler.tensor.stmt import Buffer, PrimFunc
from tessera.compiler.tensor.tensor import (
    IterVar,
    Tensor,
    compute,
    max,
    min,
    placeholder,
    reduce_axis,
    sum,
    thread_axis,
)
from tessera.compiler.tensor.trace import replay
from tessera.compiler.tensor.verify import verify

__all__ = [
    "PHASES", "TensorIntrin", "decl_tensor_intrin", "get_tensor_intrin",
    "Buffer", "Expr", "IterVar", "PrimFunc", "Schedule", "Stage", "Tensor", "Var", "all_of",
    "any_of", "cast", "compute", "const", "create_schedule", "equal", "erf", "exp", "fabs",
    "log", "logical_not", "lower", "max", "max_value", "maximum", "min", "min_value", "minimum",
    "not_equal", "placeholder", "reduce_axis", "replay", "select", "sigmoid", "sqrt", "sum",
    "tanh", "thread_axis", "verify",
]
