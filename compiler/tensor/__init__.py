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
cache_write. ``s.trace_text()`` prints the trace, ``te.replay`` rebuilds it.
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
from tessera.compiler.tensor.lower import lower
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
    "Buffer", "Expr", "IterVar", "PrimFunc", "Schedule", "Stage", "Tensor", "Var", "all_of",
    "any_of", "cast", "compute", "const", "create_schedule", "equal", "erf", "exp", "fabs",
    "log", "logical_not", "lower", "max", "max_value", "maximum", "min", "min_value", "minimum",
    "not_equal", "placeholder", "reduce_axis", "replay", "select", "sigmoid", "sqrt", "sum",
    "tanh", "thread_axis", "verify",
]
