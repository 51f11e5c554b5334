"""Calibration, the quantization pass and its report, on the digits CNN and small graphs."""

from __future__ import annotations

import numpy as np
import pytest

from tessera.compiler.errors import CompileError
from tessera.compiler.frontend import import_onnx
from tessera.compiler.graph.ir import Graph, Node, TensorType
from tessera.compiler.graph.passes import PIPELINE, optimize
from tessera.compiler.graph.verify import verify
from tessera.compiler.models import digits_model_path, digits_split
from tessera.compiler.quant import (
    QuantConfig,
    accuracy_report,
    calibrate,
    exponent_for,
    layer_nodes,
    quantize,
)
from tessera.compiler.quant.calibrate import evaluate
from tessera.runtime.reference import qnn

PRE_FUSION = PIPELINE[:-2]


@pytest.fixture(scope="module")
def digits():
    g = optimize(import_onnx(str(digits_model_path())), PRE_FUSION)
    xtr, xte, ytr, yte = digits_split()
    samples = [{"x": xtr[i:i + 1]} for i in range(0, 400, 4)]
    return g, samples, xte, yte


def _accuracy(graph, xte, yte):
    return float(np.mean([evaluate(graph, {"x": xte[i:i + 1]})[graph.outputs[0]].argmax() == y
                          for i, y in enumerate(yte)]))


def test_exponent_is_the_smallest_power_of_two_scale():
    assert exponent_for(127.0) == 0
    assert exponent_for(127.01) == 1
    assert exponent_for(1.0) == -6  # 127 * 2**-6 = 1.98 >= 1 > 0.99
    assert exponent_for(0.0) == -7
    for r in (1e-3, 0.3, 5.0, 1e4):
        e = exponent_for(r)
        assert 127 * 2.0**e >= r > 127 * 2.0 ** (e - 1)


@pytest.mark.parametrize("weights", ["per_tensor", "per_channel"])
def test_digits_int8_accuracy_within_one_point_of_float(digits, weights):
    g, samples, xte, yte = digits
    q = quantize(g, calibrate(g, samples, "max"), QuantConfig(weights=weights))
    verify(q)
    assert [n.op for n in layer_nodes(q)] == ["QConv2d", "QConv2d", "QDense"]
    acc_f, acc_q = _accuracy(g, xte, yte), _accuracy(q, xte, yte)
    assert acc_f == pytest.approx(0.9844, abs=5e-4)  # 443 of 450
    assert acc_q >= acc_f - 0.01
    assert acc_q > 0.97


def test_quantized_layer_is_exactly_the_accelerator_integer_math(digits):
    g, samples, xte, _ = digits
    q = quantize(g, calibrate(g, samples))
    env = evaluate(q, {"x": xte[:1]})
    conv1, conv2, fc = layer_nodes(q)
    assert all(isinstance(n.attr("shift"), int) for n in (conv1, conv2, fc))  # one ALU shift
    w, b = q.constants[conv2.inputs[1]], q.constants[conv2.inputs[2]]
    ref = qnn.qconv2d(env[conv2.inputs[0]], w, b, conv2.attr("shift"), True, (1, 1),
                      (1, 1, 1, 1))
    np.testing.assert_array_equal(env[conv2.outputs[0]], ref)
    # the rounding term is folded into the bias
    s = conv2.attr("shift")
    ex, ew = conv2.attr("x_exp"), conv2.attr("w_exp")[0]
    fb = g.constants["b2"] / 2.0 ** (ex + ew)
    np.testing.assert_array_equal(b, np.rint(fb).astype(np.int32) + (1 << (s - 1)))
    assert s == conv2.attr("y_exp") - ex - ew
    # activations stay int8 between layers: no float round trip inside the model
    float_ops = [n.op for n in q.nodes if n.op in ("QuantizeLinear", "DequantizeLinear")]
    assert float_ops == ["QuantizeLinear", "DequantizeLinear"]


def test_percentile_ranges_are_at_most_the_maxima(digits):
    g, samples, _, _ = digits
    cmax = calibrate(g, samples, "max")
    cpct = calibrate(g, samples, "percentile", percentile=99.0)
    assert set(cmax.ranges) == set(cpct.ranges)
    assert all(cpct.ranges[v] <= cmax.ranges[v] for v in cmax.ranges)
    assert any(cpct.ranges[v] < cmax.ranges[v] for v in cmax.ranges)


def test_report_rows_per_layer(digits):
    g, samples, _, _ = digits
    q = quantize(g, calibrate(g, samples))
    rows = accuracy_report(g, q, samples[:10])
    assert [r.layer for r in rows] == ["conv1", "conv2", "fc"]
    for r in rows:
        assert 25.0 < r.sqnr_isolated_db < 60.0
        assert r.sqnr_cumulative_db < r.sqnr_isolated_db + 1.0
        assert r.max_err_lsb < 8


def _add_graph() -> Graph:
    t = TensorType((1, 4), "float32")
    nodes = (Node.make("add", "Add", ["x", "x"], ["y"]), Node.make("th", "Tanh", ["y"], ["z"]))
    return Graph("adds", ("x",), ("z",), nodes, {"x": t, "y": t, "z": t})


def test_graph_without_layers_stays_float():
    g = _add_graph()
    q = quantize(g, calibrate(g, [{"x": np.ones((1, 4), np.float32)}]))
    assert [n.op for n in q.nodes] == ["Add", "Tanh"]


def test_calibration_errors_are_explicit():
    g = _add_graph()
    with pytest.raises(CompileError, match="calibration method must be one of "
                                           r"\['max', 'percentile'\], not 'mean'"):
        calibrate(g, [{"x": np.ones((1, 4))}], method="mean")
    with pytest.raises(CompileError, match="calibration needs at least one sample input, not 0"):
        calibrate(g, [])
    with pytest.raises(CompileError, match=r"calibration input 'x' must have shape \[1, 4\], "
                                           r"not \[2, 4\]"):
        calibrate(g, [{"x": np.ones((2, 4))}])
    with pytest.raises(CompileError, match="weight quantization must be one of "
                                           r"\['per_tensor', 'per_channel'\], not 'per_row'"):
        QuantConfig(weights="per_row")
    with pytest.raises(CompileError, match="residual adds must be one of "
                                           r"\['int8', 'float'\], not 'fp16'"):
        QuantConfig(residual="fp16")
