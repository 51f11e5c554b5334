"""tessera.compiler.ops: operators as tensor expressions, each with a default CPU schedule.

    from tessera.compiler import ops, tensor as te
    from tessera.compiler.codegen import build
    A = te.placeholder((M, K)); B = te.placeholder((K, N))
    C = ops.matmul(A, B)
    kernel = build(ops.schedule_matmul(C), [A, B, C])

Every ``ops.<op>(...)`` returns its output tensor; ``ops.schedule(out)`` picks the default
CPU schedule by the output's tag (the strategy table in ``strategy.py``), and
``ops.schedule_<op>(out)`` names each one directly.
"""

from tessera.compiler.ops.dense import MatmulConfig, dense, matmul, schedule_matmul

__all__ = ["MatmulConfig", "dense", "matmul", "schedule_matmul"]
