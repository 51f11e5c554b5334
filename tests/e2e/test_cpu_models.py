"""End to end on the CPU: ONNX -> compile -> run / save / load, the CLI, and real networks
against onnxruntime (the light model set in a slow test, with their shipped constant weights
and with seeded random weights)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import onnx
import onnxruntime as ort
import pytest
from onnx import helper, numpy_helper

import tessera.runtime as rt
from tessera.compiler import compile
from tessera.compiler.cli import main as cli_main
from tessera.compiler.graph import verify
from tessera.compiler.models import digits_model_path, digits_split

LIGHT = Path(os.path.dirname(onnx.__file__)) / "backend" / "test" / "data" / "light"
MODELS = ["resnet50", "squeezenet", "vgg19", "bvlc_alexnet", "inception_v1", "zfnet512"]


def ort_run(model: onnx.ModelProto | str, feeds: dict) -> list[np.ndarray]:
    src = model if isinstance(model, str) else model.SerializeToString()
    opts = ort.SessionOptions()
    opts.log_severity_level = 3
    return ort.InferenceSession(src, opts).run(None, feeds)


def test_digits_cnn_matches_onnxruntime_and_classifies() -> None:
    m = compile(str(digits_model_path()), after_pass=lambda name, g: verify(g))
    _, xte, _, yte = digits_split()
    x = xte[:1].astype(np.float32)
    (got,) = m.run({"x": x})
    (ref,) = ort_run(str(digits_model_path()), {"x": x})
    np.testing.assert_allclose(got, ref, rtol=1e-4, atol=1e-5)
    preds = [int(m.run({"x": xte[i : i + 1]})[0].argmax()) for i in range(60)]
    assert np.mean(np.array(preds) == yte[:60]) >= 0.9


def test_cli_compile_run_info(tmp_path, capsys) -> None:
    model = str(digits_model_path())
    out = tmp_path / "digits.tsr"
    assert cli_main(["compile", model, "--target", "llvm", "-o", str(out)]) == 0
    assert "memory planned" in capsys.readouterr().out
    x = digits_split()[1][:1].astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    rc = cli_main(["run", str(out), "--input", f"x={tmp_path / 'x.npy'}", "--output-dir",
                   str(tmp_path / "o")])
    assert rc == 0
    got = np.load(tmp_path / "o" / "out0.npy")
    np.testing.assert_allclose(got, ort_run(model, {"x": x})[0], rtol=1e-4, atol=1e-5)
    capsys.readouterr()
    assert cli_main(["info", str(out)]) == 0
    text = capsys.readouterr().out
    assert "Conv" in text and "memory plan:" in text and "strategy" in text


def test_cli_dump_graph_shows_each_pass(tmp_path, capsys) -> None:
    rc = cli_main(["compile", str(digits_model_path()), "-o", str(tmp_path / "d.tsr"),
                   "--dump-graph"])
    assert rc == 0
    text = capsys.readouterr().out
    for name in ("import", "fold_constants", "simplify", "fuse_ops", "plan_memory"):
        assert f"after {name}" in text
    assert "Conv[" in text


def test_cli_errors_exit_1_with_a_message(tmp_path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "tessera.compiler.cli", "compile", str(digits_model_path()),
         "--input-shape", "x=1xtwo"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        "tessera compile: error: --input-shape must look like NAME=1x3x224x224 (positive "
        "dims), not 'x=1xtwo'"
    )
    bad = tmp_path / "bad.tsr"
    bad.write_bytes(b"PK\x03\x04 not really")
    proc = subprocess.run([sys.executable, "-m", "tessera.compiler.cli", "info", str(bad)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.startswith(f"tessera info: error: {bad}: not a readable Tessera artifact")


# ------------------------------------------------------------------ the light model set
def randomize_weights(model: onnx.ModelProto, seed: int) -> onnx.ModelProto:
    """Replace every ConstantOfShape weight by seeded random values of the same shape, scaled
    by the role of the tensor (He-scaled conv/dense weights, BN statistics near 1) so that
    activations stay finite and the softmax is not saturated."""
    rng = np.random.default_rng(seed)
    g = model.graph
    inits = {i.name: numpy_helper.to_array(i) for i in g.initializer}
    role: dict[str, tuple[str, int]] = {}
    for node in g.node:
        for k, name in enumerate(node.input):
            role.setdefault(name, (node.op_type, k))
    keep, new_inits = [], []
    for node in g.node:
        if node.op_type != "ConstantOfShape" or node.input[0] not in inits:
            keep.append(node)
            continue
        shape = tuple(int(d) for d in inits[node.input[0]])
        op, k = role.get(node.output[0], ("", -1))
        if op in ("Conv", "Gemm", "MatMul") and k == 1:
            fan_in = int(np.prod(shape[1:])) if op == "Conv" else shape[-1]
            v = rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)
        elif op == "BatchNormalization" and k in (1, 4):
            v = rng.uniform(0.5, 1.5, shape)
        else:
            v = rng.standard_normal(shape) * 0.05
        new_inits.append(numpy_helper.from_array(v.astype(np.float32), node.output[0]))
    out = onnx.ModelProto()
    out.CopyFrom(model)
    del out.graph.node[:]
    out.graph.node.extend(keep)
    out.graph.initializer.extend(new_inits)
    if out.ir_version < 4:  # old IR: every initializer must also be a graph input
        out.graph.input.extend(
            helper.make_tensor_value_info(i.name, i.data_type, list(i.dims)) for i in new_inits
        )
    return out


def calibrate_logits(model: onnx.ModelProto, x: np.ndarray, target_std: float = 2.0) -> None:
    """Scale the output of the last conv/dense layer before the softmax (a Mul by a constant;
    the ops in between are positively homogeneous: relu, pooling, reshapes) so the logits
    have about ``target_std``: random weights otherwise saturate a deep network's softmax."""
    g = model.graph
    producer = {o: n for n in g.node for o in n.output}
    soft = next(n for n in g.node if n.op_type == "Softmax")
    node = producer[soft.input[0]]
    while node.op_type not in ("Conv", "Gemm", "MatMul"):
        assert node.op_type in ("Relu", "GlobalAveragePool", "AveragePool", "MaxPool",
                                "Reshape", "Flatten", "Dropout", "Identity"), node.op_type
        node = producer[node.input[0]]
    probe = onnx.ModelProto()
    probe.CopyFrom(model)
    probe.graph.output.append(helper.make_tensor_value_info(soft.input[0], 1, None))
    init_names = {i.name for i in g.initializer}
    data = next(i.name for i in g.input if i.name not in init_names)
    logits = ort_run(probe, {data: x})[-1]
    scale = target_std / float(np.std(logits))
    out = node.output[0]
    node.output[0] = out + "_unscaled"
    g.initializer.append(numpy_helper.from_array(np.array(scale, np.float32), out + "_scale"))
    if model.ir_version < 4:
        g.input.append(helper.make_tensor_value_info(out + "_scale", 1, []))
    mul = helper.make_node("Mul", [out + "_unscaled", out + "_scale"], [out])
    index = list(g.node).index(node)
    g.node.insert(index + 1, mul)


@pytest.mark.slow
@pytest.mark.parametrize("weights", ["shipped", "random"])
@pytest.mark.parametrize("name", MODELS)
def test_light_models_match_onnxruntime(name: str, weights: str) -> None:
    model = onnx.load(str(LIGHT / f"light_{name}.onnx"))
    init_names = {i.name for i in model.graph.initializer}
    inp = next(i for i in model.graph.input if i.name not in init_names)
    shape = [d.dim_value for d in inp.type.tensor_type.shape.dim]
    x = np.random.default_rng(1).uniform(0, 1, shape).astype(np.float32)
    if weights == "random":
        model = randomize_weights(model, seed=sum(map(ord, name)))
        calibrate_logits(model, x)
    m = compile(model, after_pass=lambda _, g: verify(g))
    got = m.run({inp.name: x})
    ref = ort_run(model, {inp.name: x})
    for a, b in zip(got, ref):
        assert np.isfinite(a).all()
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-4)
    if weights == "random":
        probs = got[0].reshape(-1)
        assert probs.max() < 0.99, "softmax saturated: the random weights prove little"
        assert probs.std() > 1e-6, "uniform output: the random weights prove little"
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"tessera_{name}_{weights}.tsr"
    try:
        again = rt.load(m.save(path)).run({inp.name: x})
        np.testing.assert_array_equal(again[0], got[0])
    finally:
        path.unlink(missing_ok=True)


def test_model_with_two_inputs_and_a_scalar_output_order() -> None:
    nodes = [helper.make_node("Add", ["a", "b"], ["s"]), helper.make_node("Mul", ["a", "b"], ["p"]),
             helper.make_node("ReduceSum", ["p"], ["t"], keepdims=0)]
    g = helper.make_graph(
        nodes, "two",
        [helper.make_tensor_value_info(n, onnx.TensorProto.FLOAT, [3, 4]) for n in "ab"],
        [helper.make_tensor_value_info("t", onnx.TensorProto.FLOAT, []),
         helper.make_tensor_value_info("s", onnx.TensorProto.FLOAT, [3, 4])],
    )
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    rng = np.random.default_rng(2)
    feeds = {k: rng.standard_normal((3, 4)).astype(np.float32) for k in "ab"}
    got = compile(model).run(feeds)
    ref = ort_run(model, feeds)
    assert [g.shape for g in got] == [(), (3, 4)]
    for a, b in zip(got, ref):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)


def _conv_model() -> onnx.ModelProto:
    rng = np.random.default_rng(5)
    w1 = (rng.standard_normal((16, 16, 3, 3)) * 0.1).astype(np.float32)
    w2 = (rng.standard_normal((16, 16, 3, 3)) * 0.1).astype(np.float32)
    b = (rng.standard_normal(16) * 0.1).astype(np.float32)
    wf = (rng.standard_normal((10, 16)) * 0.3).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b"], ["c1"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c1"], ["r1"]),
        helper.make_node("Conv", ["r1", "w2"], ["c2"], pads=[1, 1, 1, 1], strides=[2, 2]),
        helper.make_node("Relu", ["c2"], ["r2"]),
        helper.make_node("GlobalAveragePool", ["r2"], ["p"]),
        helper.make_node("Flatten", ["p"], ["f"]),
        helper.make_node("Gemm", ["f", "wf"], ["y"], transB=1),
    ]
    g = helper.make_graph(
        nodes, "convs", [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT,
                                                       [1, 16, 12, 12])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1, 10])],
        [numpy_helper.from_array(v, k) for k, v in (("w1", w1), ("w2", w2), ("b", b),
                                                     ("wf", wf))],
    )
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    model.ir_version = 7
    return model


@pytest.mark.parametrize("layout", ["NCHW", "NCHWc"])
def test_compiled_kernels_match_and_survive_save_load(layout: str, tmp_path) -> None:
    """With kernels='compiled' the convs, the global pool and the dense layer run as
    tensor-compiler code (reported as 'llvm'), match onnxruntime, and run again from the saved
    artifact."""
    model = _conv_model()
    x = np.random.default_rng(6).standard_normal((1, 16, 12, 12)).astype(np.float32)
    m = compile(model, kernels="compiled", layout=layout, after_pass=lambda _, g: verify(g))
    by = m.info()["ops_by_strategy"]
    conv = "ConvNCHWc" if layout == "NCHWc" else "Conv"
    transforms = {"LayoutTransform": 2} if layout == "NCHWc" else {}  # in and out, compiled
    assert by["llvm"] == {conv: 2, "Relu": 2, "GlobalAveragePool": 1, "Gemm": 1, **transforms}
    assert "Conv" not in by["numpy"] and "Relu" not in by["numpy"]  # fused into the convs
    (got,) = m.run({"x": x})
    np.testing.assert_allclose(got, ort_run(model, {"x": x})[0], rtol=1e-4, atol=1e-5)
    path = m.save(tmp_path / "convs.tsr")
    loaded = rt.load(path)
    assert loaded.info()["ops_by_strategy"] == by
    np.testing.assert_array_equal(loaded.run({"x": x})[0], got)
    numpy_only = compile(model, kernels="numpy").info()["ops_by_strategy"]
    assert set(numpy_only) == {"numpy"}


def test_kernels_and_layout_are_checked() -> None:
    from tessera.compiler.errors import CompileError

    with pytest.raises(CompileError) as e:
        compile(_conv_model(), kernels="fast")
    assert str(e.value) == "kernels must be one of ['auto', 'compiled', 'numpy'], not 'fast'"
    with pytest.raises(CompileError) as e:
        compile(_conv_model(), layout="NHWC")
    assert str(e.value) == "layout must be one of ['auto', 'NCHW', 'NCHWc'], not 'NHWC'"
