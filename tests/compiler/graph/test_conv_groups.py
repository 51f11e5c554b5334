"""Conv groups on the llvm target: the conv and its epilogue (bias, residual Add/Sum, Relu,
Clip) run as ONE compiled kernel; members the kernel cannot express stay numpy. Checked
against onnxruntime in both layouts, with odd shapes, and the group's epilogue as read."""

from __future__ import annotations

from typing import Any

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import TensorProto, helper, numpy_helper

from tessera.compiler import compile
from tessera.compiler.frontend import import_onnx
from tessera.compiler.graph.conv_epilogue import group_epilogue
from tessera.compiler.graph.passes import PIPELINE, optimize
from tessera.compiler.graph.passes.plan_memory import steps_of

F = TensorProto.FLOAT


def _model(c: int, o: int, hw: int, tail: list[tuple[str, list[str], dict[str, Any]]],
           opset: int = 13) -> onnx.ModelProto:
    """x -> Conv(w, b) -> c0, then ``tail`` nodes (op, inputs, attrs), each writing t<k>;
    the residual is the input ``x`` (``c == o``), so it is blocked alike under NCHWc; the
    last value is the output."""
    rng = np.random.default_rng(c * 100 + o)
    w = (rng.standard_normal((o, c, 3, 3)) * 0.3).astype(np.float32)
    b = rng.standard_normal(o).astype(np.float32)
    nodes = [helper.make_node("Conv", ["x", "w", "b"], ["c0"], pads=[1, 1, 1, 1])]
    inits = [numpy_helper.from_array(w, "w"), numpy_helper.from_array(b, "b")]
    prev = "c0"
    for k, (op, ins, attrs) in enumerate(tail):
        nodes.append(helper.make_node(op, [prev if i == "$" else i for i in ins], [f"t{k}"],
                                      **attrs))
        prev = f"t{k}"
    for name, val in (("lo", 0.0), ("hi", 0.5)):
        inits.append(numpy_helper.from_array(np.array(val, np.float32), name))
    g = helper.make_graph(
        nodes, "conv_group",
        [helper.make_tensor_value_info("x", F, [1, c, hw, hw])],
        [helper.make_tensor_value_info(prev, F, [1, o, hw, hw])], inits)
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)])
    model.ir_version = 7
    return model


TAILS = {
    "relu": [("Relu", ["$"], {})],
    "add_relu": [("Add", ["x", "$"], {}), ("Relu", ["$"], {})],
    "sum_relu": [("Sum", ["$", "x"], {}), ("Relu", ["$"], {})],
    "clip": [("Clip", ["$", "lo", "hi"], {})],
    "relu_sigmoid": [("Relu", ["$"], {}), ("Sigmoid", ["$"], {})],
}
# what the compiled kernel covers, and what stays numpy (beside layout transforms)
COVERED = {"relu": ["Relu"], "add_relu": ["Add", "Relu"], "sum_relu": ["Sum", "Relu"],
           "clip": ["Clip"], "relu_sigmoid": ["Relu"]}


def _feeds(c: int, hw: int) -> dict[str, np.ndarray]:
    return {"x": np.random.default_rng(9).standard_normal((1, c, hw, hw)).astype(np.float32)}


@pytest.mark.parametrize("layout,c,hw", [("NCHW", 5, 7), ("NCHWc", 16, 9)])
@pytest.mark.parametrize("tail", sorted(TAILS))
def test_conv_group_is_one_kernel_and_matches_onnxruntime(tail: str, layout: str, c: int,
                                                           hw: int) -> None:
    model = _model(c, c, hw, TAILS[tail])
    m = compile(model, kernels="compiled", layout=layout)
    conv = "ConvNCHWc" if layout == "NCHWc" else "Conv"
    by = m.info()["ops_by_strategy"]
    llvm_ops = {k: v for k, v in by["llvm"].items() if k != "LayoutTransform"}  # compiled too
    assert llvm_ops == {conv: 1, **{op: 1 for op in COVERED[tail]}}
    numpy_ops = {k: v for k, v in by.get("numpy", {}).items() if k != "LayoutTransform"}
    assert numpy_ops == ({"Sigmoid": 1} if tail == "relu_sigmoid" else {})
    step = next(s for s in m.module.plan["steps"] if any(n["op"] == conv for n in s["nodes"]))
    (spec,) = step["compiled"].values()
    assert len(spec["fused"]) == len(COVERED[tail])
    feeds = _feeds(c, hw)
    (got,) = m.run(feeds)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    (want,) = sess.run(None, feeds)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


def test_group_epilogue_reads_bias_residual_and_stops_at_what_it_cannot_express() -> None:
    graph = optimize(import_onnx(_model(5, 5, 7, TAILS["add_relu"] + [("Sigmoid", ["$"], {})])),
                     PIPELINE)
    ops = {n.name: n.op for n in graph.nodes}
    (group,) = [g for g in steps_of(graph) if ops[g.master] == "Conv"]
    assert [ops[n] for n in group.nodes] == ["Conv", "Add", "Relu", "Sigmoid"]
    epi = group_epilogue(group, graph)
    assert epi is not None
    assert epi.steps == (("bias",), ("add",), ("relu",))
    assert epi.operands[1] == "x" and [ops[n] for n in epi.fused] == ["Add", "Relu"]
    assert epi.output == next(n for n in graph.nodes if n.op == "Relu").outputs[0]


def test_auto_mode_times_the_whole_group_and_the_plan_runs_either_way() -> None:
    """kernels='auto' keeps the fused kernel or the numpy group, whichever it measured
    faster; the numbers match onnxruntime in both cases, and the result is reported
    per group: all of its nodes on one side."""
    model = _model(16, 16, 14, TAILS["add_relu"])
    m = compile(model, kernels="auto", layout="NCHW")
    by = m.info()["ops_by_strategy"]
    sides = [k for k, v in by.items() if "Conv" in v]
    assert len(sides) == 1 and by[sides[0]].get("Add") == 1 and by[sides[0]].get("Relu") == 1
    feeds = _feeds(16, 14)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(m.run(feeds)[0], sess.run(None, feeds)[0], rtol=1e-4,
                               atol=1e-5)


@pytest.mark.parametrize("layout", ["NCHW", "NCHWc"])
def test_a_tuned_conv_group_config_reaches_compile(layout: str, tmp_path) -> None:
    """The conv group's task from extract_tasks (same key as the builder's), a recorded
    non-default config in a tuning DB, and compile(tuning_db=...) builds the group with it;
    the numbers still match onnxruntime."""
    from tessera.compiler.autotune import Database, Record
    from tessera.compiler.autotune.extract import extract_tasks
    from tessera.compiler.autotune.hardware import cpu_descriptor

    model = _model(16, 16, 9, TAILS["add_relu"])
    (wt,) = extract_tasks(model, layout=layout)
    task = wt.task
    assert task.template == ("conv2d_nchwc" if layout == "NCHWc" else "conv2d_nchw")
    assert task.args[-1] == (("bias",), ("add",), ("relu",))
    cfg = {**task.impl.default(task.args), "rorder": "y,x,c", "urx": True}
    point = task.space.from_dict(cfg)
    with Database(tmp_path / "t.db") as db:
        db.add_many([Record(task.key, "llvm", cpu_descriptor(2), point.to_dict(), point.index,
                            1e-6, (1e-6,))])
    m = compile(model, kernels="compiled", layout=layout, tuning_db=tmp_path / "t.db")
    (spec,) = [s["compiled"][s["master"]] for s in m.module.plan["steps"] if "compiled" in s
               and "tuning" in s["compiled"][s["master"]]]
    assert spec["tuning"]["source"] == "tuning database"
    assert spec["tuning"]["config"] == point.to_dict() and len(spec["fused"]) == 2
    feeds = _feeds(16, 9)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(m.run(feeds)[0], sess.run(None, feeds)[0], rtol=1e-4,
                               atol=1e-5)


def test_a_conv_group_whose_master_is_not_first_fuses_what_follows() -> None:
    """Members before the master (here a Sigmoid feeding the conv) run first in numpy; the
    chain after the conv still fuses."""
    from tessera.compiler.graph.ir import FusedGroup

    graph = optimize(import_onnx(_model(5, 5, 7, TAILS["relu"])), PIPELINE)
    ops = {n.name: n.op for n in graph.nodes}
    (group,) = [g for g in steps_of(graph) if ops[g.master] == "Conv"]
    moved = FusedGroup(group.name, ("pre", *group.nodes), group.inputs, group.outputs,
                       group.master, group.pattern)
    epi = group_epilogue(moved, graph)
    assert epi is not None and epi.steps == (("bias",), ("relu",))
    assert [ops[n] for n in epi.fused] == ["Relu"]
