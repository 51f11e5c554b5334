"""Graph passes, each a function ``Graph -> Graph`` that never mutates its input.

``PIPELINE`` is the default order; ``optimize`` runs it, calling ``after_pass(name, graph)``
after each pass (for ``--dump-graph`` and for verify-after-every-pass in tests).
"""

from __future__ import annotations

from collections.abc import Callable

from tessera.compiler.graph.ir import Graph
from tessera.compiler.graph.passes.eliminate_common_subexpr import eliminate_common_subexpr
from tessera.compiler.graph.passes.eliminate_dead_code import eliminate_dead_code
from tessera.compiler.graph.passes.fold_constants import fold_constants
from tessera.compiler.graph.passes.fuse_ops import fuse_ops
from tessera.compiler.graph.passes.infer_shapes import infer_shapes
from tessera.compiler.graph.passes.plan_memory import plan_memory
from tessera.compiler.graph.passes.simplify import simplify

Pass = Callable[[Graph], Graph]

PIPELINE: tuple[tuple[str, Pass], ...] = (
    ("infer_shapes", infer_shapes),
    ("fold_constants", fold_constants),
    ("simplify", simplify),
    ("fold_constants", fold_constants),
    ("eliminate_common_subexpr", eliminate_common_subexpr),
    ("eliminate_dead_code", eliminate_dead_code),
    ("fuse_ops", fuse_ops),
    ("plan_memory", plan_memory),
)


def optimize(
    graph: Graph, passes: tuple[tuple[str, Pass], ...] = PIPELINE,
    after_pass: Callable[[str, Graph], None] | None = None,
) -> Graph:
    for name, fn in passes:
        graph = fn(graph)
        if after_pass is not None:
            after_pass(name, graph)
    return graph


__all__ = [
    "PIPELINE", "Pass", "eliminate_common_subexpr", "eliminate_dead_code", "fold_constants",
    "fuse_ops", "infer_shapes", "optimize", "plan_memory", "simplify",
]
