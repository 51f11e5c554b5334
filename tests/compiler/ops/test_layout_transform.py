"""layout_transform (NCHW <-> NCHW[b]c) against the numpy reference kernel, and its errors;
and the graph's LayoutTransform nodes running as compiled kernels in a blocked model."""

from __future__ import annotations

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper
from ops_testutil import run_op

from tessera.compiler import ops
from tessera.compiler import tensor as te
from tessera.compiler.errors import CompileError
from tessera.runtime.reference import run_kernel

RNG = np.random.default_rng(5)


@pytest.mark.parametrize("shape,block", [((1, 32, 5, 7), 16), ((2, 8, 3, 1), 4),
                                         ((1, 64, 14, 14), 16), ((1, 3, 2, 19), 1),
                                         ((1, 48, 1, 33), 8)])
def test_round_trip_matches_the_reference(shape, block) -> None:
    x = RNG.standard_normal(shape).astype(np.float32)
    fwd = {"src": "NCHW", "dst": f"NCHW{block}c"}
    back = {"src": f"NCHW{block}c", "dst": "NCHW"}
    want = run_kernel("LayoutTransform", [x], fwd)[0]
    X = te.placeholder(shape, "float32", name="x")
    got = run_op(ops.layout_transform(X, **fwd), [X], [x])
    np.testing.assert_array_equal(got, want)
    Xb = te.placeholder(want.shape, "float32", name="xb")
    np.testing.assert_array_equal(run_op(ops.layout_transform(Xb, **back), [Xb], [want]), x)


@pytest.mark.parametrize("shape,src,dst,text", [
    ((1, 8, 2, 2), "NCHW", "NHWC",
     "layout_transform: layout must be 'NCHW' or 'NCHW<b>c' with b >= 1, not 'NHWC'"),
    ((1, 8, 2, 2), "NCHW", "NCHW",
     "layout_transform: exactly one of src and dst must be blocked, not 'NCHW' -> 'NCHW'"),
    ((1, 6, 2, 2), "NCHW", "NCHW4c",
     "layout_transform: input must be NCHW with channels divisible by 4, not (1, 6, 2, 2)"),
    ((1, 2, 2, 2, 8), "NCHW4c", "NCHW",
     "layout_transform: input must be NCHW4c (5-D, last axis 4), not (1, 2, 2, 2, 8)"),
])
def test_bad_layouts_are_clear_errors(shape, src, dst, text) -> None:
    X = te.placeholder(shape, "float32", name="x")
    with pytest.raises(CompileError) as e:
        ops.layout_transform(X, src, dst)
    assert str(e.value) == text


def _blocked_net() -> onnx.ModelProto:
    """conv(3->16) -> conv(16->16) + residual -> relu -> maxpool: the second conv is blocked,
    with a LayoutTransform in (of the first conv's output) and out (to the pool)."""
    rng = np.random.default_rng(0)
    w1 = (rng.standard_normal((16, 3, 3, 3)) * 0.3).astype(np.float32)
    w2 = (rng.standard_normal((16, 16, 3, 3)) * 0.1).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"], pads=[1] * 4),
        helper.make_node("Conv", ["a", "w2"], ["b"], pads=[1] * 4),
        helper.make_node("Add", ["a", "b"], ["c"]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("MaxPool", ["r"], ["y"], kernel_shape=[2, 2], strides=[2, 2]),
    ]
    g = helper.make_graph(
        nodes, "blocked", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 3, 9, 10])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 4, 5])],
        [numpy_helper.from_array(w1, "w1"), numpy_helper.from_array(w2, "w2")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    return m


def test_layout_transform_nodes_run_compiled_in_a_blocked_model() -> None:
    from tessera.compiler import compile

    m = compile(_blocked_net(), kernels="compiled", layout="NCHWc")
    ops_by = m.info()["ops_by_strategy"]
    assert ops_by["llvm"].get("LayoutTransform", 0) >= 1, ops_by
    x = RNG.standard_normal((1, 3, 9, 10)).astype(np.float32)
    (got,) = m.run({"x": x})
    (want,) = compile(_blocked_net(), kernels="numpy", layout="NCHW").run({"x": x})
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
