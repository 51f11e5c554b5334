"""Bad ONNX input gets a CompileError (or UnsupportedError) that names the problem and where;
the texts are pinned."""

from __future__ import annotations

import re

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tessera.compiler import compile
from tessera.compiler.errors import CompileError, UnsupportedError
from tessera.compiler.frontend import import_onnx


def _model(nodes, inputs, outputs, inits=(), opset=13, out_shape=None) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "t",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, out_shape or [1]) for n in outputs],
        [numpy_helper.from_array(v, k) for k, v in inits],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    return m


def test_unsupported_operator_names_node_op_and_opset() -> None:
    m = _model([helper.make_node("Trilu", ["x"], ["y"], name="tri")], [("x", [3, 3])], ["y"],
               opset=14, out_shape=[3, 3])
    with pytest.raises(UnsupportedError) as e:
        import_onnx(m)
    assert str(e.value) == "node 'tri' (Trilu, opset 14): operator Trilu is not supported"


def test_unsupported_attribute() -> None:
    m = _model([helper.make_node("Resize", ["x", "", "s"], ["y"], mode="cubic", name="r")],
               [("x", [1, 1, 2, 2])], ["y"], [("s", np.array([1, 1, 2, 2], np.float32))],
               out_shape=[1, 1, 4, 4])
    with pytest.raises(UnsupportedError) as e:
        import_onnx(m)
    assert str(e.value) == (
        "node 'r' (Resize, opset 13): mode must be nearest or linear, not 'cubic'"
    )


def test_model_failing_the_checker() -> None:
    m = _model([helper.make_node("Relu", ["x"], ["y"], name="relu")], [("x", [2])], ["y"])
    m.graph.node[0].attribute.append(helper.make_attribute("bogus", 1))
    with pytest.raises(CompileError) as e:
        import_onnx(m)
    assert re.fullmatch(r"t: model fails onnx\.checker: .*bogus.*", str(e.value))


def test_missing_initializer() -> None:
    m = _model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv")],
               [("x", [1, 3, 4, 4])], ["y"], out_shape=[1, 2, 2, 2])
    with pytest.raises(CompileError) as e:
        import_onnx(m)
    assert str(e.value) == (
        "t: node 'conv' (Conv): input 'w' must be a graph input, an initializer or an "
        "earlier node's output (missing initializer?)"
    )


def test_inconsistent_shapes_broadcast() -> None:
    m = _model([helper.make_node("Add", ["a", "b"], ["y"], name="add")],
               [("a", [2, 3]), ("b", [4, 5])], ["y"], out_shape=[2, 3])
    with pytest.raises(CompileError) as e:
        import_onnx(m)
    assert str(e.value) == "node 'add' (Add): input shapes [2, 3] and [4, 5] must be broadcastable"


def test_inconsistent_shapes_conv_channels() -> None:
    w = np.zeros((8, 4, 3, 3), np.float32)
    m = _model([helper.make_node("Conv", ["x", "w"], ["y"], name="c")],
               [("x", [1, 3, 8, 8])], ["y"], [("w", w)], out_shape=[1, 8, 6, 6])
    with pytest.raises(CompileError) as e:
        import_onnx(m)
    assert str(e.value) == (
        "node 'c' (Conv): input channels must be 4 (weight [8, 4, 3, 3], group 1), not 3"
    )


def test_declared_output_shape_disagrees() -> None:
    m = _model([helper.make_node("Relu", ["x"], ["y"], name="r")], [("x", [2, 3])], ["y"],
               out_shape=[3, 2])
    with pytest.raises(CompileError) as e:
        import_onnx(m)
    assert str(e.value) == (
        "t: graph output 'y' is declared with shape [3, 2] but computes [2, 3] "
        "(inconsistent shapes)"
    )


def test_dynamic_input_shape_says_how_to_fix() -> None:
    m = _model([helper.make_node("Relu", ["x"], ["y"])], [("x", ["N", 3, 224, 224])], ["y"],
               out_shape=["N", 3, 224, 224])
    with pytest.raises(CompileError) as e:
        import_onnx(m)
    assert str(e.value) == (
        "t: input 'x' must have a static shape, not [N, 3, 224, 224]; give one with "
        "--input-shape x=1x3x224x224 (or input_shapes={'x': ...})"
    )


def test_input_shapes_must_name_an_input() -> None:
    m = _model([helper.make_node("Relu", ["x"], ["y"])], [("x", [2])], ["y"], out_shape=[2])
    with pytest.raises(CompileError) as e:
        import_onnx(m, input_shapes={"z": (1,)})
    assert str(e.value) == "t: 'z' must name a graph input, one of ['x']"


def test_opset_out_of_range() -> None:
    m = _model([helper.make_node("Relu", ["x"], ["y"])], [("x", [2])], ["y"], opset=6,
               out_shape=[2])
    with pytest.raises(UnsupportedError) as e:
        import_onnx(m)
    assert str(e.value) == (
        f"t: opset must be between 7 and {onnx.defs.onnx_opset_version()}, not 6"
    )


def test_runtime_shape_input_must_be_constant() -> None:
    graph = helper.make_graph(
        [helper.make_node("Reshape", ["x", "s"], ["y"], name="rs")], "t",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("s", TensorProto.INT64, [2])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [3, 2])],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(UnsupportedError) as e:
        import_onnx(m)
    assert str(e.value) == (
        "node 'rs' (Reshape, opset 13): input 1 (shape, 's') must be a constant (an "
        "initializer or computed from initializers), not a runtime value; freeze it with "
        "compile(..., freeze={name: array})"
    )
    # ... and freezing it works
    out = compile(m, freeze={"s": np.array([3, 2])}).run({"x": np.arange(6.0).reshape(2, 3)})
    np.testing.assert_array_equal(out[0], np.arange(6.0).reshape(3, 2))


def test_missing_or_corrupt_file(tmp_path) -> None:
    with pytest.raises(CompileError) as e:
        import_onnx(tmp_path / "nope.onnx")
    assert str(e.value) == f"{tmp_path / 'nope.onnx'}: ONNX model file must exist"
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"\xff\x00garbage")
    with pytest.raises(CompileError) as e:
        import_onnx(bad)
    assert str(e.value).startswith(f"{bad}: not a valid ONNX model: ")


def test_unknown_target() -> None:
    m = _model([helper.make_node("Relu", ["x"], ["y"])], [("x", [2])], ["y"], out_shape=[2])
    with pytest.raises(CompileError) as e:
        compile(m, target="tpu")
    assert str(e.value) == "target must be one of ['llvm', 'vta'], not 'tpu'"
