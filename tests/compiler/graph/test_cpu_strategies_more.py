"""The llvm target's compiled kernels for pooling, elementwise, Softmax, LayerNormalization,
Transpose, Pad and Concat masters: with kernels='compiled' each runs as tensor-compiler code
(reported as 'llvm') and matches the numpy reference, on odd shapes (primes, ones)."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from tessera.compiler import compile

F = TensorProto.FLOAT


def _model(op: str, in_shapes: list[tuple[int, ...]], out_shape: tuple[int, ...],
           consts: dict[str, np.ndarray] | None = None, opset: int = 13, **attrs: Any
           ) -> onnx.ModelProto:
    names = [f"x{k}" for k in range(len(in_shapes))]
    consts = consts or {}
    node = helper.make_node(op, names + list(consts), ["y"], **attrs)
    g = helper.make_graph(
        [node], op.lower(),
        [helper.make_tensor_value_info(n, F, list(s)) for n, s in zip(names, in_shapes)],
        [helper.make_tensor_value_info("y", F, list(out_shape))],
        [numpy_helper.from_array(v if v.dtype == np.int64 else v.astype(np.float32), k)
         for k, v in consts.items()])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    return model


def _check(model: onnx.ModelProto, op: str, in_shapes: list[tuple[int, ...]],
           positive: bool = False) -> None:
    rng = np.random.default_rng(3)
    feeds = {f"x{k}": rng.standard_normal(s).astype(np.float32)
             for k, s in enumerate(in_shapes)}
    if positive:
        feeds = {k: np.abs(v) + 0.5 for k, v in feeds.items()}
    m = compile(model, kernels="compiled")
    assert m.info()["ops_by_strategy"].get("llvm") == {op: 1}
    (got,) = m.run(feeds)
    (want,) = compile(model, kernels="numpy").run(feeds)
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


POOLS = [
    ("MaxPool", (1, 3, 7, 11), (1, 3, 3, 5), dict(kernel_shape=[3, 3], strides=[2, 2])),
    ("MaxPool", (2, 5, 13, 13), (2, 5, 7, 7),
     dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1])),
    ("AveragePool", (1, 3, 7, 11), (1, 3, 7, 11),
     dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1])),
    ("AveragePool", (1, 3, 7, 11), (1, 3, 7, 11),
     dict(kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1)),
    ("AveragePool", (1, 1, 5, 5), (1, 1, 2, 2), dict(kernel_shape=[2, 2], strides=[2, 2])),
    ("GlobalAveragePool", (1, 7, 5, 3), (1, 7, 1, 1), {}),
    ("GlobalMaxPool", (3, 2, 1, 13), (3, 2, 1, 1), {}),
]


@pytest.mark.parametrize("op,shape,out,attrs", POOLS)
def test_pooling(op: str, shape: tuple[int, ...], out: tuple[int, ...], attrs: dict) -> None:
    _check(_model(op, [shape], out, **attrs), op, [shape])


# padding computed inline, asymmetric (auto_pad) and ceil_mode (extra end padding, never
# counted by AveragePool), strides the vector loads shuffle (2, 3) or gather (5)
WINDOWS = [
    ("MaxPool", (1, 8, 112, 112), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4)),
    ("MaxPool", (1, 3, 8, 8), dict(kernel_shape=[3, 3], strides=[2, 2], ceil_mode=1)),
    ("MaxPool", (2, 4, 9, 10), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4,
                                    ceil_mode=1)),
    ("MaxPool", (1, 2, 10, 10), dict(kernel_shape=[3, 3], strides=[3, 3], ceil_mode=1)),
    ("MaxPool", (1, 3, 5, 6), dict(kernel_shape=[2, 2], auto_pad="SAME_UPPER")),
    ("MaxPool", (1, 2, 5, 7), dict(kernel_shape=[3, 2], strides=[1, 2], pads=[0, 1, 2, 0])),
    ("MaxPool", (1, 1, 11, 13), dict(kernel_shape=[5, 5], strides=[5, 5], ceil_mode=1)),
    ("AveragePool", (2, 4, 9, 10), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4,
                                        ceil_mode=1)),
    ("AveragePool", (2, 4, 9, 10), dict(kernel_shape=[3, 3], strides=[2, 2], pads=[1] * 4,
                                        ceil_mode=1, count_include_pad=1)),
    ("AveragePool", (1, 2, 7, 7), dict(kernel_shape=[2, 2], strides=[2, 2], ceil_mode=1,
                                       count_include_pad=1)),
    ("AveragePool", (1, 3, 5, 6), dict(kernel_shape=[2, 2], auto_pad="SAME_LOWER",
                                       count_include_pad=1)),
]


@pytest.mark.parametrize("op,shape,attrs", WINDOWS)
def test_pooling_windows(op: str, shape: tuple[int, ...], attrs: dict) -> None:
    from onnx.reference import ReferenceEvaluator

    x = np.random.default_rng(3).standard_normal(shape).astype(np.float32)
    (ref,) = ReferenceEvaluator(_model(op, [shape], shape, **attrs)).run(None, {"x0": x})
    model = _model(op, [shape], ref.shape, **attrs)
    _check(model, op, [shape])
    (got,) = compile(model, kernels="compiled").run({"x0": x})
    np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)  # and onnx's own reference


UNARY: list[tuple[str, dict[str, Any]]] = [
    ("Relu", {}), ("LeakyRelu", {"alpha": 0.2}), ("Sigmoid", {}), ("Tanh", {}), ("Exp", {}),
    ("Sqrt", {}), ("Abs", {}), ("Neg", {}),
]


@pytest.mark.parametrize("op,attrs", UNARY)
@pytest.mark.parametrize("shape", [(1, 7, 13), (1,), (3, 1, 5)])
def test_unary(op: str, attrs: dict, shape: tuple[int, ...]) -> None:
    _check(_model(op, [shape], shape, **attrs), op, [shape], positive=op == "Sqrt")


@pytest.mark.parametrize("bounds", [{"lo": -0.5, "hi": 0.75}, {"lo": 0.1}])
def test_clip(bounds: dict[str, float]) -> None:
    consts = {k: np.array(v, np.float32) for k, v in bounds.items()}
    _check(_model("Clip", [(2, 1, 7)], (2, 1, 7), consts=consts), "Clip", [(2, 1, 7)])


@pytest.mark.parametrize("op", ["Add", "Sub", "Mul", "Div", "Min", "Max"])
@pytest.mark.parametrize("a,b,out", [((2, 7, 5), (2, 7, 5), (2, 7, 5)),
                                      ((2, 7, 5), (7, 1), (2, 7, 5)),
                                      ((1, 5), (3, 1), (3, 5)),
                                      ((1,), (11,), (11,))])
def test_binary(op: str, a: tuple, b: tuple, out: tuple) -> None:
    _check(_model(op, [a, b], out), op, [a, b], positive=op == "Div")


def test_binary_with_constant_operand() -> None:
    bias = np.arange(7, dtype=np.float32).reshape(7, 1)
    _check(_model("Add", [(2, 7, 5)], (2, 7, 5), consts={"c": bias}), "Add", [(2, 7, 5)])


@pytest.mark.parametrize("shape", [(3, 17), (2, 3, 1), (1, 1000), (13,)])
def test_softmax(shape: tuple[int, ...]) -> None:
    _check(_model("Softmax", [shape], shape, axis=-1), "Softmax", [shape])


def test_softmax_on_another_axis_stays_numpy() -> None:
    m = compile(_model("Softmax", [(3, 5)], (3, 5), axis=0), kernels="compiled")
    assert "llvm" not in m.info()["ops_by_strategy"]


@pytest.mark.parametrize("shape,axis", [((3, 17), -1), ((2, 5, 7), 1), ((1, 1), -1)])
def test_layer_norm(shape: tuple[int, ...], axis: int) -> None:
    norm = shape[axis % len(shape):]
    rng = np.random.default_rng(1)
    consts = {"g": rng.standard_normal(norm), "b": rng.standard_normal(norm)}
    model = _model("LayerNormalization", [shape], shape, consts=consts, opset=17, axis=axis,
                   epsilon=1e-3)
    _check(model, "LayerNormalization", [shape])


@pytest.mark.parametrize("shape,perm", [((2, 3, 5), [2, 0, 1]), ((1, 7, 1, 3), [0, 3, 1, 2]),
                                        ((11, 13), [1, 0])])
def test_transpose(shape: tuple[int, ...], perm: list[int]) -> None:
    out = tuple(shape[p] for p in perm)
    _check(_model("Transpose", [shape], out, perm=perm), "Transpose", [shape])


@pytest.mark.parametrize("shape,pads,value", [((1, 3, 5, 7), [0, 0, 1, 2, 0, 0, 3, 0], 0.0),
                                              ((7,), [2, 3], 1.5), ((2, 1), [0, 1, 1, 0], -2.0)])
def test_pad(shape: tuple[int, ...], pads: list[int], value: float) -> None:
    nd = len(shape)
    out = tuple(n + pads[d] + pads[d + nd] for d, n in enumerate(shape))
    consts = {"p": np.array(pads, np.int64), "v": np.array(value, np.float32)}
    model = _model("Pad", [shape], out, consts=consts, mode="constant")
    _check(model, "Pad", [shape])


@pytest.mark.parametrize("shapes,axis", [([(1, 3, 5), (1, 2, 5), (1, 1, 5)], 1),
                                         ([(7,), (1,)], 0), ([(2, 3), (2, 3)], -1)])
def test_concat(shapes: list[tuple[int, ...]], axis: int) -> None:
    ax = axis % len(shapes[0])
    out = tuple(sum(s[ax] for s in shapes) if d == ax else n for d, n in enumerate(shapes[0]))
    _check(_model("Concat", shapes, out, axis=axis), "Concat", shapes)


def test_auto_keeps_numpy_where_it_is_faster() -> None:
    """kernels='auto' measures; a tiny Relu is not slower in numpy than through a call into
    compiled code by a wide margin, so whichever runs, the result matches numpy."""
    model = _model("Relu", [(1, 3)], (1, 3))
    x = {"x0": np.array([[-1.0, 0.0, 2.0]], np.float32)}
    (got,) = compile(model, kernels="auto").run(x)
    np.testing.assert_array_equal(got, [[0.0, 0.0, 2.0]])
