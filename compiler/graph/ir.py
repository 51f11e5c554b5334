"""The graph IR: a typed dataflow graph of operator nodes over named tensor values.

Values are named by strings (SSA: each value has exactly one producer, a graph input or a
constant). Nodes are immutable; passes build new graphs with ``Graph.replace``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

import numpy as np


@dataclass(frozen=True)
class TensorType:
    """A static tensor type: shape and numpy dtype name (``"float32"``, ``"int64"``...)."""

    shape: tuple[int, ...]
    dtype: str

    @property
    def size(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64))

    @property
    def nbytes(self) -> int:
        return self.size * np.dtype(self.dtype).itemsize

    @staticmethod
    def of(array: np.ndarray) -> TensorType:
        return TensorType(tuple(int(d) for d in array.shape), str(array.dtype))

    def __str__(self) -> str:
        return f"{self.dtype}[{','.join(str(d) for d in self.shape)}]"


def freeze(value: Any) -> Any:
    """Attributes as hashable, JSON-friendly values: tuples for lists, Python scalars."""
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    if isinstance(value, np.ndarray):
        return freeze(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


@dataclass(frozen=True)
class Node:
    """One operator application. ``attrs`` are the normalized attributes, sorted by name."""

    name: str
    op: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    attrs: tuple[tuple[str, Any], ...] = ()

    @staticmethod
    def make(
        name: str, op: str, inputs: Iterable[str], outputs: Iterable[str],
        attrs: Mapping[str, Any] | None = None,
    ) -> Node:
        items = tuple(sorted((k, freeze(v)) for k, v in (attrs or {}).items()))
        return Node(name, op, tuple(inputs), tuple(outputs), items)

    def attr(self, key: str, default: Any = None) -> Any:
        for k, v in self.attrs:
            if k == key:
                return v
        return default

    @property
    def attr_dict(self) -> dict[str, Any]:
        return dict(self.attrs)

    def with_attrs(self, **updates: Any) -> Node:
        merged = {**self.attr_dict, **updates}
        return Node.make(self.name, self.op, self.inputs, self.outputs, merged)


@dataclass(frozen=True)
class FusedGroup:
    """Nodes that run as one kernel: ``master`` is the node whose schedule the group uses
    (the conv or dense it is built around, else its most complex node)."""

    name: str
    nodes: tuple[str, ...]
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    master: str
    pattern: int


@dataclass(frozen=True)
class MemoryPlan:
    """Buffer assignment by liveness: ``storage[value]`` is a buffer id, ``sizes[id]`` its
    bytes; ``free_after[step]`` the values whose last use is that step."""

    storage: Mapping[str, int]
    sizes: tuple[int, ...]
    free_after: tuple[tuple[str, ...], ...]
    planned_bytes: int
    naive_bytes: int


def _frozen_map(m: Mapping[str, Any]) -> Mapping[str, Any]:
    return MappingProxyType(dict(m))


@dataclass(frozen=True, eq=False)
class Graph:
    """A model: inputs, nodes in topological order, outputs, types of every value and the
    constants (weights), which are values without a producing node."""

    name: str
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    nodes: tuple[Node, ...]
    types: Mapping[str, TensorType] = field(default_factory=dict)
    constants: Mapping[str, np.ndarray] = field(default_factory=dict)
    groups: tuple[FusedGroup, ...] = ()
    memory: MemoryPlan | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "types", _frozen_map(self.types))
        object.__setattr__(self, "constants", _frozen_map(self.constants))

    def replace(self, **changes: Any) -> Graph:
        return replace(self, **changes)

    def producers(self) -> dict[str, Node]:
        return {out: n for n in self.nodes for out in n.outputs}

    def consumers(self) -> dict[str, list[Node]]:
        users: dict[str, list[Node]] = {}
        for n in self.nodes:
            for i in n.inputs:
                users.setdefault(i, []).append(n)
        return users

    def type_of(self, value: str) -> TensorType:
        return self.types[value]

    def ops(self) -> dict[str, int]:
        """How many nodes of each op type."""
        counts: dict[str, int] = {}
        for n in self.nodes:
            counts[n.op] = counts.get(n.op, 0) + 1
        return counts

    def __str__(self) -> str:
        from tessera.compiler.graph.printer import print_graph

        return print_graph(self)
