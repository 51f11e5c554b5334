"""The ONNX frontend against onnxruntime: core CNN ops across opsets, and the input forms."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tessera.compiler import compile
from tessera.compiler.frontend import import_onnx
from tessera.compiler.graph import verify

RNG = np.random.default_rng(0)


def _model(nodes, inputs, outputs, inits=(), opset=13) -> onnx.ModelProto:
    graph = helper.make_graph(
        nodes, "t",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, s) for n, s in inputs],
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, None) for n in outputs],
        [numpy_helper.from_array(v, k) for k, v in inits],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    m.ir_version = 7
    return m


def _typed(model: onnx.ModelProto) -> onnx.ModelProto:
    """Output shapes filled in by ONNX shape inference (the checker wants them)."""
    return onnx.shape_inference.infer_shapes(model)


def _check(model: onnx.ModelProto, feeds: dict[str, np.ndarray], rtol=1e-4, atol=1e-5) -> None:
    model = _typed(model)
    ref = ort.InferenceSession(model.SerializeToString()).run(None, feeds)
    got = compile(model, after_pass=lambda name, g: verify(g)).run(feeds)
    assert len(got) == len(ref)
    for g, r in zip(got, ref):
        assert g.shape == r.shape and g.dtype == r.dtype
        np.testing.assert_allclose(g, r, rtol=rtol, atol=atol)


def _w(*shape: int, scale: float = 0.2) -> np.ndarray:
    return (RNG.standard_normal(shape) * scale).astype(np.float32)


@pytest.mark.parametrize("opset", [7, 11, 13, 18, 21])
def test_cnn_block_matches_onnxruntime(opset: int) -> None:
    """Conv+BN+Relu, MaxPool (SAME padding), a residual Add, AveragePool, Clip, Flatten,
    Gemm, Softmax: the ops of the classic CNNs, at several opsets."""
    clip = (
        helper.make_node("Clip", ["s"], ["c"], min=0.0, max=6.0)
        if opset < 11 else helper.make_node("Clip", ["s", "lo", "hi"], ["c"])
    )
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["c1"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("BatchNormalization", ["c1", "g", "be", "mu", "var"], ["n1"],
                         epsilon=1e-3),
        helper.make_node("Relu", ["n1"], ["r1"]),
        helper.make_node("MaxPool", ["r1"], ["p1"], kernel_shape=[3, 3], strides=[1, 1],
                         auto_pad="SAME_UPPER"),
        helper.make_node("Conv", ["p1", "w2"], ["c2"], pads=[1, 1, 1, 1], group=2),
        helper.make_node("Add", ["c2", "r1"], ["s"]),
        clip,
        helper.make_node("AveragePool", ["c"], ["a"], kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("Flatten", ["a"], ["f"]),
        helper.make_node("Gemm", ["f", "wf", "bf"], ["y0"], transB=1, alpha=0.5),
        helper.make_node("Softmax", ["y0"], ["y"], axis=1),
    ]
    inits = [
        ("w1", _w(8, 3, 3, 3)), ("b1", _w(8)), ("g", 1 + _w(8)), ("be", _w(8)),
        ("mu", _w(8)), ("var", np.abs(_w(8)) + 0.5), ("w2", _w(8, 4, 3, 3)),
        ("wf", _w(10, 8 * 4 * 4)), ("bf", _w(10)),
    ]
    if opset >= 11:
        inits += [("lo", np.array(0.0, np.float32)), ("hi", np.array(6.0, np.float32))]
    model = _model(nodes, [("x", [2, 3, 16, 16])], ["y"], inits, opset)
    _check(model, {"x": RNG.standard_normal((2, 3, 16, 16)).astype(np.float32)})


@pytest.mark.parametrize("opset", [11, 13, 18])
def test_shape_ops_across_opsets(opset: int) -> None:
    """Reshape from a computed shape, Split/Squeeze/Unsqueeze/ReduceMean with axes as
    attributes (old opsets) or inputs (new), Transpose, Concat, Slice, Gather, Pad."""
    ints = lambda name, v: numpy_helper.from_array(np.array(v, np.int64), name)  # noqa: E731
    axes_in = opset >= 13
    red_in = opset >= 18
    nodes = [
        helper.make_node("Shape", ["x"], ["sh"]),
        helper.make_node("Gather", ["sh", "i0"], ["n"], axis=0),
        helper.make_node("Unsqueeze", ["n", "ax0"] if axes_in else ["n"], ["n_u"],
                         **({} if axes_in else {"axes": [0]})),
        helper.make_node("Concat", ["n_u", "m1"], ["shape"], axis=0),
        helper.make_node("Reshape", ["x", "shape"], ["flat"]),
        helper.make_node("Split", ["flat", "parts"] if axes_in else ["flat"], ["s0", "s1"],
                         axis=1, **({} if axes_in else {"split": [16, 32]})),
        helper.make_node("Unsqueeze", ["s0", "ax1"] if axes_in else ["s0"], ["u"],
                         **({} if axes_in else {"axes": [1]})),
        helper.make_node("Squeeze", ["u", "ax1"] if axes_in else ["u"], ["q"],
                         **({} if axes_in else {"axes": [1]})),
        helper.make_node("ReduceMean", ["s1", "ax1"] if red_in else ["s1"], ["rm"],
                         keepdims=1, **({} if red_in else {"axes": [1]})),
        helper.make_node("Mul", ["q", "rm"], ["qm"]),
        helper.make_node("Transpose", ["qm"], ["t"], perm=[1, 0]),
        helper.make_node("Slice", ["t", "st", "en", "ax0", "stp"], ["sl"]),
        helper.make_node("Pad", ["sl", "pads", "pv"], ["y"], mode="constant"),
    ]
    model = onnx.ModelProto()
    graph = helper.make_graph(
        nodes, "t", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [3, 4, 2, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [9, 5])],
        [ints("i0", 0), ints("m1", [-1]), ints("ax0", [0]), ints("ax1", [1]),
         ints("parts", [16, 32]), ints("st", [-1]), ints("en", [-100]), ints("stp", [-2]),
         ints("pads", [1, 0, 0, 2]), numpy_helper.from_array(np.array(0.5, np.float32), "pv")],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    _check(model, {"x": RNG.standard_normal((3, 4, 2, 6)).astype(np.float32)})


def test_resize_and_quantize_roundtrip() -> None:
    nodes = [
        helper.make_node("Resize", ["x", "", "sc"], ["r"], mode="linear"),
        helper.make_node("Resize", ["x", "", "sc"], ["rn"], mode="nearest"),
        helper.make_node("Add", ["r", "rn"], ["a"]),
        helper.make_node("QuantizeLinear", ["a", "qs", "qz"], ["q"]),
        helper.make_node("DequantizeLinear", ["q", "qs", "qz"], ["y"]),
    ]
    inits = [("sc", np.array([1, 1, 2, 1.5], np.float32)), ("qs", np.array(0.05, np.float32))]
    model = _model(nodes, [("x", [1, 2, 4, 4])], ["y"], inits, 13)
    model.graph.initializer.append(numpy_helper.from_array(np.array(128, np.uint8), "qz"))
    _check(model, {"x": RNG.standard_normal((1, 2, 4, 4)).astype(np.float32)})


def test_path_bytes_and_proto_give_the_same_graph(tmp_path) -> None:
    model = _typed(_model([helper.make_node("Relu", ["x"], ["y"])], [("x", [2, 3])], ["y"]))
    path = tmp_path / "m.onnx"
    onnx.save(model, str(path))
    graphs = [import_onnx(model), import_onnx(str(path)), import_onnx(path.read_bytes())]
    assert {str(g) for g in graphs} == {str(graphs[0])}
    assert [n.op for n in graphs[0].nodes] == ["Relu"]


def test_input_shapes_fix_a_dynamic_batch() -> None:
    model = _typed(_model([helper.make_node("Relu", ["x"], ["y"])], [("x", ["N", 3])], ["y"]))
    m = compile(model, input_shapes={"x": (4, 3)})
    x = RNG.standard_normal((4, 3)).astype(np.float32)
    np.testing.assert_array_equal(m.run({"x": x})[0], np.maximum(x, 0))
