"""The ONNX frontend: an ONNX model (path, bytes or ModelProto) -> a typed ``Graph``.

Every node is checked against the supported set; opset differences are normalized here, so
the graph IR sees one form of each op (static shape-like inputs become attributes).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper

from tessera.compiler.errors import CompileError, UnsupportedError
from tessera.compiler.frontend import onnx_nn, onnx_tensor
from tessera.compiler.frontend.context import ImportState, NodeContext, np_dtype
from tessera.compiler.graph.ir import Graph, TensorType

log = logging.getLogger(__name__)

CONVERTERS = {**onnx_tensor.CONVERTERS, **onnx_nn.CONVERTERS}
MIN_OPSET = 7
MAX_OPSET = onnx.defs.onnx_opset_version()

# Inputs (by position) that fix shapes or attributes and so must be constants at compile time.
STATIC_INPUTS: dict[str, tuple[int, ...]] = {
    "Reshape": (1,), "Clip": (1, 2), "Split": (1,), "Slice": (1, 2, 3, 4), "Squeeze": (1,),
    "Unsqueeze": (1,), "Pad": (1, 2, 3), "ReduceMean": (1,), "ReduceSum": (1,),
    "ReduceMax": (1,), "ReduceMin": (1,), "ReduceProd": (1,), "ReduceL1": (1,),
    "ReduceL2": (1,), "ReduceSumSquare": (1,), "ReduceLogSumExp": (1,),
    "ConstantOfShape": (0,), "Resize": (1, 2, 3), "Upsample": (1,), "Expand": (1,),
    "Tile": (1,), "Dropout": (1, 2), "Range": (0, 1, 2),
    "CumSum": (1,), "ReduceLogSum": (1,),
}


def load_model(model: str | Path | bytes | onnx.ModelProto) -> tuple[onnx.ModelProto, str]:
    """The ModelProto and a label for messages."""
    if isinstance(model, onnx.ModelProto):
        return model, model.graph.name or "<ModelProto>"
    if isinstance(model, (bytes, bytearray)):
        try:
            return onnx.load_from_string(bytes(model)), "<bytes>"
        except Exception as err:  # noqa: BLE001 - protobuf raises several types
            raise CompileError(f"<bytes>: not a valid ONNX model: {err}") from None
    path = Path(model)
    if not path.is_file():
        raise CompileError(f"{path}: ONNX model file must exist")
    try:
        return onnx.load(str(path)), str(path)
    except Exception as err:  # noqa: BLE001
        raise CompileError(f"{path}: not a valid ONNX model: {err}") from None


def _opset(model: onnx.ModelProto, label: str) -> int:
    versions = {o.domain: o.version for o in model.opset_import}
    version = versions.get("", versions.get("ai.onnx"))
    if version is None:
        raise UnsupportedError(
            f"{label}: operator domains {sorted(versions)} are not supported; the model must "
            "import the default ONNX domain"
        )
    if not MIN_OPSET <= version <= MAX_OPSET:
        raise UnsupportedError(
            f"{label}: opset must be between {MIN_OPSET} and {MAX_OPSET}, not {version}"
        )
    return version


def _check_edges(model: onnx.ModelProto, label: str) -> None:
    """Every node input must be defined earlier: names a missing initializer precisely."""
    known = {i.name for i in model.graph.input} | {i.name for i in model.graph.initializer}
    known.add("")
    for k, node in enumerate(model.graph.node):
        for name in node.input:
            if name not in known:
                raise CompileError(
                    f"{label}: node '{node.name or f'{node.op_type}_{k}'}' ({node.op_type}): "
                    f"input '{name}' must be a graph input, an initializer or an earlier "
                    "node's output (missing initializer?)"
                )
        known.update(node.output)


def _input_type(
    vi: onnx.ValueInfoProto, override: Sequence[int] | None, label: str
) -> TensorType:
    tt = vi.type.tensor_type
    if not vi.type.HasField("tensor_type"):
        raise UnsupportedError(f"{label}: input '{vi.name}' must be a tensor")
    dtype = np_dtype(tt.elem_type, f"{label}: input '{vi.name}'")
    if override is not None:
        return TensorType(tuple(int(d) for d in override), dtype)
    dims: list[int] = []
    labels: list[str] = []
    for d in tt.shape.dim:
        if d.HasField("dim_value") and d.dim_value > 0:
            dims.append(d.dim_value)
            labels.append(str(d.dim_value))
        else:
            labels.append(d.dim_param or "?")
    if not tt.HasField("shape") or len(dims) != len(labels):
        example = "x".join(lab if lab.isdigit() else "1" for lab in labels) or "1"
        raise CompileError(
            f"{label}: input '{vi.name}' must have a static shape, not "
            f"[{', '.join(labels)}]; give one with --input-shape {vi.name}={example} "
            f"(or input_shapes={{'{vi.name}': ...}})"
        )
    return TensorType(tuple(dims), dtype)


def import_onnx(
    model: str | Path | bytes | onnx.ModelProto,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    freeze: Mapping[str, Any] | None = None,
) -> Graph:
    """Import an ONNX model. ``input_shapes`` fixes dynamic input shapes; ``freeze`` turns
    graph inputs into constants (their values given)."""
    proto, label = load_model(model)
    opset = _opset(proto, label)
    _check_edges(proto, label)
    try:
        onnx.checker.check_model(proto)
    except onnx.checker.ValidationError as err:
        first = str(err).strip().splitlines()[0]
        raise CompileError(f"{label}: model fails onnx.checker: {first}") from None
    g = proto.graph
    state = ImportState(opset=opset)
    for init in g.initializer:
        value = numpy_helper.to_array(init)
        if value.dtype.kind not in "biuf":
            raise UnsupportedError(f"{label}: initializer '{init.name}' of type {value.dtype}")
        state.constants[init.name] = value
        state.types[init.name] = TensorType.of(value)
    shapes = dict(input_shapes or {})
    frozen = dict(freeze or {})
    inputs: list[str] = []
    graph_input_names = {vi.name for vi in g.input}
    for name in list(shapes) + list(frozen):
        if name not in graph_input_names:
            raise CompileError(
                f"{label}: '{name}' must name a graph input, one of {sorted(graph_input_names)}"
            )
    for vi in g.input:
        if vi.name in state.constants:
            continue
        if vi.name in frozen:
            value = np.asarray(frozen[vi.name])
            state.constants[vi.name] = value
            state.types[vi.name] = TensorType.of(value)
            continue
        state.types[vi.name] = _input_type(vi, shapes.get(vi.name), label)
        inputs.append(vi.name)
    state.used = {i for n in g.node for i in n.input} | {o.name for o in g.output}
    for k, node in enumerate(g.node):
        name = node.name or f"{node.op_type}_{k}"
        cx = NodeContext(state, node, name)
        if node.domain not in ("", "ai.onnx"):
            raise UnsupportedError(f"{cx.where}: operator domain {node.domain!r} is not supported")
        convert = CONVERTERS.get(node.op_type)
        if convert is None:
            raise UnsupportedError(f"{cx.where}: operator {node.op_type} is not supported")
        try:
            convert(cx)
        except CompileError as err:
            if cx.where in str(err) or str(err).startswith("node '"):
                raise
            raise type(err)(f"{cx.where}: {err}") from None
    outputs = [o.name for o in g.output]
    _check_outputs(g, state, label)
    log.info("imported %s: %d nodes, opset %d", label, len(state.nodes), opset)
    return Graph(
        name=_ident(g.name or "model"), inputs=tuple(inputs), outputs=tuple(outputs),
        nodes=tuple(state.nodes), types=dict(state.types), constants=dict(state.constants),
    )


def _check_outputs(g: onnx.GraphProto, state: ImportState, label: str) -> None:
    for vi in g.output:
        t = state.types.get(vi.name)
        if t is None:
            raise CompileError(f"{label}: graph output '{vi.name}' is never computed")
        dims = vi.type.tensor_type.shape.dim
        declared = [d.dim_value if d.HasField("dim_value") else None for d in dims]
        if declared and (
            len(declared) != len(t.shape)
            or any(d is not None and d != s for d, s in zip(declared, t.shape))
        ):
            raise CompileError(
                f"{label}: graph output '{vi.name}' is declared with shape "
                f"{[d if d is not None else '?' for d in declared]} but computes "
                f"{list(t.shape)} (inconsistent shapes)"
            )


def _ident(name: str) -> str:
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name) or "model"
