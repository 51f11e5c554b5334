"""Per-group kernel strategies: which fused groups run as compiled tensor-compiler kernels and
which fall back to the numpy reference kernels.

A *strategy builder* takes a fused group (with the graph, for types and constants) and the
target and returns a ``CompiledStep`` (a symbol, the code blob and the strategy kind the
runtime provider loads) or ``None`` when it does not handle the group. Builders register
themselves in ``BUILDERS`` by master op; the default is the numpy fallback.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from tessera.compiler.graph.ir import FusedGroup, Graph

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class CompiledStep:
    kind: str  # the runtime provider that loads it, e.g. "llvm"
    entry: dict[str, Any] = field(default_factory=dict)  # extra plan fields for the provider
    code: dict[str, bytes] = field(default_factory=dict)  # artifact code members


StrategyBuilder = Callable[[FusedGroup, Graph, str], "CompiledStep | None"]

BUILDERS: dict[str, list[StrategyBuilder]] = {}


def register_strategy(op: str, builder: StrategyBuilder) -> None:
    BUILDERS.setdefault(op, []).append(builder)


def select(
    group: FusedGroup, graph: Graph, target: str, kernels: str = "auto"
) -> CompiledStep | None:
    """The compiled kernel for ``group`` on ``target``, or None for the numpy fallback.
    ``kernels``: "auto" (measure, keep the faster), "compiled" or "numpy"."""
    from tessera.compiler.graph.cpu_strategies import make_builder

    master = next(n for n in graph.nodes if n.name == group.master)
    for builder in [*BUILDERS.get(master.op, []), make_builder(kernels)]:
        step = builder(group, graph, target)
        if step is not None:
            return step
    return None
