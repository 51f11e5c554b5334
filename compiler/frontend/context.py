"""What an ONNX op converter sees: one node, its attributes, constant inputs, and ``emit``."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import onnx
from onnx import helper

from tessera.compiler.errors import CompileError, UnsupportedError
from tessera.compiler.graph.ir import Node, TensorType
from tessera.compiler.graph.registry import infer_node
from tessera.runtime.reference import run_kernel


@dataclass
class ImportState:
    """The graph under construction."""

    opset: int
    constants: dict[str, np.ndarray] = field(default_factory=dict)
    types: dict[str, TensorType] = field(default_factory=dict)
    nodes: list[Node] = field(default_factory=list)
    producer: dict[str, Node] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    folded: dict[str, np.ndarray] = field(default_factory=dict)
    node_names: set[str] = field(default_factory=set)

    def const_value(self, name: str) -> np.ndarray | None:
        """The value of ``name`` if it is a constant or computed from constants only."""
        if name in self.constants:
            return self.constants[name]
        if name in self.folded:
            return self.folded[name]
        node = self.producer.get(name)
        if node is None:
            return None
        args = [self.const_value(i) for i in node.inputs]
        if any(a is None for a in args):
            return None
        try:
            outs = run_kernel(node.op, [a for a in args if a is not None], node.attr_dict)
        except (ValueError, IndexError, TypeError) as err:
            raise CompileError(
                f"node '{node.name}' ({node.op}): cannot evaluate on its constant inputs: {err}"
            ) from None
        for out, value in zip(node.outputs, outs):
            self.folded[out] = value
        return self.folded[name]


class NodeContext:
    """One ONNX node being converted."""

    def __init__(self, state: ImportState, node: onnx.NodeProto, name: str):
        self.state = state
        self.node = node
        self.name = name
        self.op = node.op_type
        self.opset = state.opset
        self.inputs: list[str] = list(node.input)
        self.outputs: list[str] = list(node.output)
        self.attrs: dict[str, Any] = {
            a.name: helper.get_attribute_value(a) for a in node.attribute
        }
        self._count = 0

    @property
    def where(self) -> str:
        return f"node '{self.name}' ({self.op}, opset {self.opset})"

    def error(self, message: str) -> CompileError:
        return CompileError(f"{self.where}: {message}")

    def unsupported(self, message: str) -> UnsupportedError:
        return UnsupportedError(f"{self.where}: {message}")

    def attr(self, key: str, default: Any = None) -> Any:
        value = self.attrs.get(key, default)
        return value.decode() if isinstance(value, bytes) else value

    def has_input(self, i: int) -> bool:
        return i < len(self.inputs) and self.inputs[i] != ""

    def in_type(self, i: int) -> TensorType:
        return self.state.types[self.inputs[i]]

    def rank(self, i: int = 0) -> int:
        return len(self.in_type(i).shape)

    def const(self, i: int, what: str) -> np.ndarray:
        """Input ``i`` as a constant; inputs that fix shapes or attributes must be."""
        value = self.state.const_value(self.inputs[i])
        if value is None:
            raise self.unsupported(
                f"input {i} ({what}, '{self.inputs[i]}') must be a constant (an initializer or "
                "computed from initializers), not a runtime value; freeze it with "
                "compile(..., freeze={name: array})"
            )
        return value

    def const_or(self, i: int, what: str, default: Any) -> Any:
        return self.const(i, what) if self.has_input(i) else default

    def only_outputs(self, n: int, what: str) -> None:
        """Outputs beyond the first ``n`` (``what``) must be unused."""
        for out in self.outputs[n:]:
            if out and out in self.state.used:
                raise self.unsupported(f"output '{out}' ({what}) is not supported")

    def check(self, ok: bool, message: str) -> None:
        if not ok:
            raise self.unsupported(message)

    def emit(
        self, op: str, inputs: Sequence[str], attrs: Mapping[str, Any] | None = None,
        outputs: Sequence[str] | None = None,
    ) -> list[str]:
        """Add a graph node; returns its output names (fresh ones when not given)."""
        name = self.name if self._count == 0 else f"{self.name}/{self._count}"
        while name in self.state.node_names:
            name += "_"
        self._count += 1
        outs = list(outputs) if outputs is not None else [f"{name}:out{k}" for k in range(1)]
        node = Node.make(name, op, inputs, outs, attrs)
        types = infer_node(node, [self.state.types[i] for i in node.inputs])
        for out, t in zip(outs, types):
            if out in self.state.types:
                raise self.error(f"output '{out}' is defined twice")
            self.state.types[out] = t
            self.state.producer[out] = node
        self.state.nodes.append(node)
        self.state.node_names.add(name)
        return outs

    def emit_const(self, output: str, value: np.ndarray) -> None:
        self.state.constants[output] = np.asarray(value)
        self.state.types[output] = TensorType.of(np.asarray(value))

    def add_const(self, suffix: str, value: np.ndarray) -> str:
        name = f"{self.name}:{suffix}"
        self.emit_const(name, value)
        return name


Converter = Callable[[NodeContext], None]


SUPPORTED_DTYPES = frozenset({
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64",
    "float16", "float32", "float64",
})


def np_dtype(onnx_type: int, where: str) -> str:
    try:
        dt = np.dtype(helper.tensor_dtype_to_np_dtype(onnx_type))
    except (KeyError, TypeError, ValueError):
        raise UnsupportedError(f"{where}: element type {onnx_type} is not supported") from None
    if dt.name not in SUPPORTED_DTYPES:
        raise UnsupportedError(f"{where}: element type {dt} is not supported")
    return dt.name
