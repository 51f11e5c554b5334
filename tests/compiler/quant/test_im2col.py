"""Im2col of few-channel convolutions: exact, and only where it saves GEMM block steps."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from tessera.compiler.graph.ir import Graph, Node, TensorType
from tessera.compiler.graph.verify import verify
from tessera.compiler.partition.im2col import im2col_small_convs, worth_it
from tessera.compiler.quant.calibrate import evaluate
from tessera.hw.config import HwConfig
from tessera.runtime.reference import run_kernel


@given(seed=st.integers(0, 2**31 - 1), c=st.integers(1, 4), k=st.sampled_from([1, 2, 3, 5]),
       stride=st.sampled_from([1, 2]), pads=st.lists(st.integers(0, 2), min_size=4,
                                                      max_size=4))
def test_im2col_then_1x1_equals_the_conv(seed, c, k, stride, pads):
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (1, c, 7, 6), dtype=np.int8)
    w = rng.integers(-127, 128, (5, c, k, k), dtype=np.int8)
    b = rng.integers(-999, 999, 5).astype(np.int32)
    conv = {"strides": [stride] * 2, "pads": pads, "shift": 5, "relu": 0}
    (ref,) = run_kernel("QConv2d", [x, w, b], conv)
    (col,) = run_kernel("Im2Col", [x], {"kernel_shape": [k, k], "strides": [stride] * 2,
                                        "pads": pads})
    assert col.shape[1] == c * k * k and col.dtype == np.int8
    (got,) = run_kernel("QConv2d", [col, w.reshape(5, c * k * k, 1, 1), b],
                        {**conv, "strides": [1, 1], "pads": [0, 0, 0, 0]})
    np.testing.assert_array_equal(got, ref)


def test_worth_it_only_when_blocks_halve():
    cfg = HwConfig.default()
    assert worth_it(3, 7, 7, cfg)        # 49 block steps -> 10
    assert worth_it(1, 3, 3, cfg)        # 9 -> 1
    assert not worth_it(16, 3, 3, cfg)   # 9 -> 9
    assert not worth_it(3, 1, 1, cfg)    # already 1x1
    assert not worth_it(12, 3, 3, cfg)   # 9 -> 7


def test_graph_rewrite_is_exact_and_verifies():
    rng = np.random.default_rng(5)
    t = TensorType
    w = rng.integers(-127, 128, (8, 3, 3, 3), dtype=np.int8)
    b = rng.integers(-99, 99, 8).astype(np.int32)
    node = Node.make("c", "QConv2d", ["x", "w", "b"], ["y"],
                     {"strides": [2, 2], "pads": [1, 0, 1, 2], "shift": 4, "relu": 1})
    g = Graph("g", ("x",), ("y",), (node,),
              {"x": t((1, 3, 9, 9), "int8"), "w": t.of(w), "b": t.of(b),
               "y": t((1, 8, 5, 5), "int8")}, {"w": w, "b": b})
    verify(g)
    g2 = im2col_small_convs(g, HwConfig.default())
    verify(g2)
    assert [n.op for n in g2.nodes] == ["Im2Col", "QConv2d"]
    assert "w" not in g2.constants and g2.constants["w__1x1"].shape == (8, 27, 1, 1)
    x = rng.integers(-128, 128, (1, 3, 9, 9), dtype=np.int8)
    np.testing.assert_array_equal(evaluate(g2, {"x": x})["y"], evaluate(g, {"x": x})["y"])
    assert im2col_small_convs(g, HwConfig.default(), max_bytes=100) is g
