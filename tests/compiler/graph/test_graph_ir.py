"""Graph IR: the printer's text, the verifier's checks, the registry's shape functions."""

from __future__ import annotations

import numpy as np
import pytest

from tessera.compiler.errors import CompileError, InternalError
from tessera.compiler.graph import Graph, Node, TensorType, infer_node, print_graph, verify
from tessera.compiler.graph.registry import OPS
from tessera.runtime.reference import KERNELS, run_kernel

F = "float32"


def small_graph() -> Graph:
    w = np.ones((4, 3, 3, 3), np.float32)
    nodes = (
        Node.make("conv", "Conv", ["x", "w"], ["c"], {"pads": [1, 1, 1, 1], "group": 1}),
        Node.make("relu", "Relu", ["c"], ["y"]),
    )
    types = {"x": TensorType((1, 3, 8, 8), F), "w": TensorType.of(w),
             "c": TensorType((1, 4, 8, 8), F), "y": TensorType((1, 4, 8, 8), F)}
    return Graph("g", ("x",), ("y",), nodes, types, {"w": w})


def test_printer_one_node_per_line_with_types() -> None:
    assert print_graph(small_graph()) == (
        "graph g(%x: float32[1,3,8,8]) {\n"
        "  const %w: float32[4,3,3,3]\n"
        "  %c: float32[1,4,8,8] = Conv[group=1, pads=[1,1,1,1]](%x, %w)  # conv\n"
        "  %y: float32[1,4,8,8] = Relu(%c)  # relu\n"
        "  return %y\n"
        "}"
    )


def test_verify_accepts_a_good_graph() -> None:
    g = small_graph()
    assert verify(g) is g


@pytest.mark.parametrize("breakage, message", [
    (lambda g: g.replace(nodes=g.nodes[::-1]),
     "node 'relu' (Relu): input 'c' must be defined before use (dangling edge or nodes out "
     "of topological order)"),
    (lambda g: g.replace(nodes=g.nodes + (Node.make("r2", "Relu", ["c"], ["y"]),)),
     "node 'r2' (Relu): output 'y' is defined twice (not SSA)"),
    (lambda g: g.replace(types={**g.types, "y": TensorType((1, 4, 8, 9), F)}),
     "node 'relu' (Relu): output 'y' must have type float32[1,4,8,8] by the shape function, "
     "not float32[1,4,8,9]"),
    (lambda g: g.replace(outputs=("z",)), "graph g: output 'z' is never defined"),
    (lambda g: g.replace(nodes=(Node.make("q", "Frobnicate", ["x"], ["c"]),) + g.nodes[1:]),
     "node 'q' (Frobnicate): op must be in the registry"),
    (lambda g: g.replace(constants={"w": np.zeros((2,), np.float32)}),
     "graph g: constant 'w' must have type float32[2], not float32[4,3,3,3]"),
])
def test_verify_names_the_broken_invariant(breakage, message) -> None:
    with pytest.raises(InternalError) as e:
        verify(breakage(small_graph()))
    assert str(e.value) == message


def test_graph_is_immutable() -> None:
    g = small_graph()
    with pytest.raises(AttributeError):
        g.nodes = ()  # type: ignore[misc]
    with pytest.raises(TypeError):
        g.constants["w"] = np.zeros(1)  # type: ignore[index]


def test_every_registered_op_has_a_reference_kernel() -> None:
    assert set(OPS) <= set(KERNELS)


def test_shape_functions_agree_with_kernels() -> None:
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, 6, 9, 7)).astype(np.float32)
    cases = [
        ("Conv", [x, rng.standard_normal((4, 3, 3, 2)).astype(np.float32)],
         {"strides": [2, 1], "pads": [1, 0, 2, 1], "dilations": [1, 2], "group": 2}),
        ("ConvTranspose", [x, rng.standard_normal((6, 2, 3, 3)).astype(np.float32)],
         {"strides": [2, 2], "pads": [1, 1, 0, 0], "output_padding": [1, 0], "group": 1}),
        ("MaxPool", [x], {"kernel_shape": [3, 2], "strides": [2, 2], "pads": [1, 1, 1, 1],
                          "ceil_mode": 1}),
        ("AveragePool", [x], {"kernel_shape": [2, 2], "strides": [2, 3], "ceil_mode": 1,
                              "count_include_pad": 1, "pads": [0, 1, 0, 1]}),
        ("ReduceMean", [x], {"axes": [1, 3], "keepdims": 0}),
        ("MatMul", [x, rng.standard_normal((7, 5)).astype(np.float32)], {}),
        ("Resize", [x], {"sizes": [2, 6, 18, 14], "scales": [1, 1, 2, 2], "mode": "linear"}),
        ("Transpose", [x], {"perm": [0, 2, 3, 1]}),
        ("Slice", [x], {"starts": [-1], "ends": [-100], "axes": [2], "steps": [-3]}),
    ]
    for op, args, attrs in cases:
        node = Node.make("n", op, [f"i{k}" for k in range(len(args))], ["o"], attrs)
        (t,) = infer_node(node, [TensorType.of(a) for a in args])
        (out,) = run_kernel(op, args, node.attr_dict)
        assert t == TensorType.of(np.asarray(out)), op


def test_shape_function_errors_name_the_node() -> None:
    node = Node.make("mm", "MatMul", ["a", "b"], ["c"])
    with pytest.raises(CompileError) as e:
        infer_node(node, [TensorType((2, 3), F), TensorType((4, 5), F)])
    assert str(e.value) == "node 'mm' (MatMul): inner dimensions must agree, not [2, 3] and [4, 5]"
