"""The vta flow end to end: quantize, partition, AccelKernels on fsim inside the graph
executor, artifacts, the profile; every result against the integer reference graph."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import onnx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from onnx import TensorProto, helper, numpy_helper

import tessera.runtime as rt
from tessera.compiler import compile
from tessera.compiler.errors import CompileError
from tessera.compiler.models import digits_model_path, digits_split
from tessera.compiler.partition.flow import AccelModel
from tessera.compiler.quant import QuantConfig
from tessera.compiler.quant.calibrate import evaluate
from tessera.runtime.accel_exec import AccelStep, kernel_from_bytes, kernel_to_bytes
from tessera.runtime.profile import profile_module, step_values

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def data():
    return digits_split()


@pytest.fixture(scope="module")
def digits(data) -> AccelModel:
    xtr = data[0]
    m = compile(str(digits_model_path()), target="vta", device="fsim",
                calibration=[{"x": xtr[i:i + 1]} for i in range(0, 400, 4)])
    assert isinstance(m, AccelModel)
    return m


def test_digits_layers_run_on_the_accelerator_bit_exact(digits, data):
    xte = data[1]
    strategies = digits.module.strategies
    assert strategies.count("vta") == 3
    assert [p.layer for p in digits.placements if p.where == "vta"] == ["conv1", "conv2", "fc"]
    assert digits.notes == []
    for i in range(5):
        x = {"x": xte[i:i + 1]}
        (got,) = digits.run(x)
        ref = evaluate(digits.qgraph, x)["logits"]  # the integer reference of the int8 graph
        np.testing.assert_array_equal(got, ref)
    steps = [k for k in digits.module._kernels if isinstance(k, AccelStep)]
    assert all(k.last is not None and k.last.cycles > 0 for k in steps)


def test_digits_partition_is_printable(digits):
    text = digits.partition_text()
    assert text.splitlines()[0] == "partition: 3 accelerator layer(s), 13 CPU node(s)"
    # conv1 has one input channel: im2col on the CPU turns it into a 1x1 conv (9 channels)
    assert "  cpu  Im2Col           conv1__qconv2d__im2col  (not an accelerator op)" in text
    assert "  vta  QConv2d          conv1__qconv2d [conv1]" in text
    assert "  cpu  MaxPool          pool1__q  (not an accelerator op)" in text


def test_artifact_runs_on_any_device_without_the_compiler(digits, data, tmp_path):
    x = {"x": data[1][7:8]}
    path = digits.save(tmp_path / "digits.tsr")
    loaded = rt.load(path, device="fsim")
    assert loaded.strategies.count("vta") == 3
    np.testing.assert_array_equal(loaded.run(x)[0], digits.run(x)[0])
    assert rt.load(path).plan["device"] == "fsim"
    with pytest.raises(rt.DeviceError, match="device must be one of "
                                             r"\['fsim', 'rtl', 'rtl-fast'\] for a vta "
                                             "artifact, not 'gpu'"):
        rt.load(path, device="gpu")


def test_kernel_blob_round_trip(digits):
    step = next(k for k in digits.module._kernels if isinstance(k, AccelStep))
    k2 = kernel_from_bytes(kernel_to_bytes(step.kernel))
    assert k2.insns == step.kernel.insns and k2.tensors == step.kernel.tensors
    assert k2.macs == step.kernel.macs and k2.cfg == step.kernel.cfg
    for name, v in step.kernel.consts.items():
        np.testing.assert_array_equal(k2.consts[name], v)


def test_profile_table_json_trace_png(digits, data, tmp_path):
    prof = profile_module(digits.module, {"x": data[1][:1]})
    vta = [lp for lp in prof.layers if lp.where == "vta"]
    assert [lp.layer for lp in vta] == ["conv1", "conv2", "fc"]
    cfg = next(k for k in digits.module._kernels if isinstance(k, AccelStep)).kernel.cfg
    for lp in vta:
        assert lp.cycles and lp.cycles > 0 and lp.dma_bytes > 0
        assert lp.utilization == pytest.approx(lp.macs / (lp.cycles * cfg.macs_per_cycle))
    assert [lp.macs for lp in vta] == [16 * 9 * 64, 32 * 16 * 9 * 16, 10 * 128]
    doc = json.loads(json.dumps(prof.to_json()))
    assert doc["accel_cycles"] == sum(lp.cycles for lp in vta)
    trace = prof.chrome_trace()["traceEvents"]
    units = {e["name"].split()[-1] for e in trace if e.get("cat") in ("busy", "stall")}
    assert units == {"busy", "stall"}
    tids = {e["tid"] for e in trace if e.get("cat") == "busy"}
    assert tids == {1, 2, 3, 4}  # fetch, load, compute, store
    assert all(e["dur"] >= 0 for e in trace if e["ph"] == "X")
    png = prof.save_png(tmp_path / "conv2.png", layer="conv2")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with pytest.raises(KeyError, match="no layer or step 'conv9'"):
        prof.layer("conv9")


@pytest.mark.verilator
def test_profile_on_rtl_fast_has_unit_timelines(digits, data, tmp_path):
    """On rtl-fast the profile's units come from the RTL's own activity (events_o): per layer,
    compute busy covers at least the GEMM work and every unit appears."""
    loaded = rt.load(digits.save(tmp_path / "digits.tsr"), device="rtl-fast")
    prof = profile_module(loaded, {"x": data[1][:1]})
    vta = [lp for lp in prof.layers if lp.where == "vta"]
    assert [lp.device for lp in vta] == ["rtl-fast"] * 3
    cfg = next(k for k in loaded._kernels if isinstance(k, AccelStep)).kernel.cfg
    for lp in vta:
        assert {u for u, *_ in lp.timeline} == {"fetch", "load", "compute", "store"}
        busy = sum(b - a for u, k, a, b in lp.timeline if (u, k) == ("compute", "busy"))
        assert lp.macs / cfg.macs_per_cycle <= busy <= lp.cycles
    tids = {e["tid"] for e in prof.chrome_trace()["traceEvents"] if e.get("cat") == "busy"}
    assert tids == {1, 2, 3, 4}


def _two_conv_model() -> onnx.ModelProto:
    rng = np.random.default_rng(3)
    w1 = numpy_helper.from_array(rng.normal(0, 0.3, (16, 8, 3, 3)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.normal(0, 0.2, (16, 16, 3, 3)).astype(np.float32), "w2")
    b2 = numpy_helper.from_array(rng.normal(0, 0.1, (16,)).astype(np.float32), "b2")
    nodes = [
        helper.make_node("Conv", ["x", "w1"], ["a"], pads=[1, 1, 1, 1], name="c1"),
        helper.make_node("Relu", ["a"], ["r"], name="relu"),
        helper.make_node("Conv", ["r", "w2", "b2"], ["y"], pads=[1, 1, 1, 1], strides=[2, 2],
                         name="c2"),
    ]
    g = helper.make_graph(
        nodes, "two_convs", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 8, 6, 6])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [1, 16, 3, 3])], [w1, w2, b2])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def test_consecutive_layers_pass_blocked_data_directly():
    rng = np.random.default_rng(4)
    cal = [{"x": rng.normal(size=(1, 8, 6, 6)).astype(np.float32)} for _ in range(4)]
    m = compile(_two_conv_model(), target="vta", calibration=cal)
    ops = [p.op for p in m.placements]
    assert ops == ["QuantizeLinear", "AccelPack", "QConv2d", "QConv2d", "AccelUnpack",
                   "DequantizeLinear", "Identity"]
    x = {"x": cal[0]["x"]}
    np.testing.assert_array_equal(m.run(x)[0], evaluate(m.qgraph, x)["y"])
    # the int8 model tracks the float one
    ref = evaluate(m.float_graph, x)["y"]
    assert np.abs(m.run(x)[0] - ref).max() < 0.05 * np.abs(ref).max() + 0.1


def test_per_channel_layers_stay_on_cpu_with_a_reason(data):
    xtr, xte = data[0], data[1]
    m = compile(str(digits_model_path()), target="vta", calibration=[{"x": xtr[:1]}],
                quant=QuantConfig(weights="per_channel"))
    cpu = [p for p in m.placements if p.op in ("QConv2d", "QDense")]
    assert all(p.where == "cpu" for p in cpu)
    assert "per-channel shifts (the ALU applies one immediate shift per layer)" in cpu[0].reason
    x = {"x": xte[:1]}
    np.testing.assert_array_equal(m.run(x)[0], evaluate(m.qgraph, x)["logits"])


def test_model_without_accelerator_ops_compiles_to_cpu_alone_with_a_note():
    t = helper.make_tensor_value_info
    g = helper.make_graph(
        [helper.make_node("Tanh", ["x"], ["h"], name="t"),
         helper.make_node("Softmax", ["h"], ["y"], name="s", axis=1)],
        "no_accel", [t("x", TensorProto.FLOAT, [2, 5])], [t("y", TensorProto.FLOAT, [2, 5])])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m = compile(model, target="vta")
    assert m.notes == ["no operator of no_accel is supported by the accelerator (int8 conv2d "
                       "or dense with constant weights): it compiles to the CPU alone"]
    # CPU alone: compiled (llvm) or numpy kernels, nothing on the accelerator.
    assert set(m.module.strategies) <= {"llvm", "numpy"} and m.qgraph is None
    x = np.linspace(-2, 2, 10, dtype=np.float32).reshape(2, 5)
    e = np.exp(np.tanh(x))
    np.testing.assert_allclose(m.run({"x": x})[0], e / e.sum(1, keepdims=True), rtol=1e-6)


def test_vta_errors_are_explicit():
    with pytest.raises(CompileError, match=r"target vta needs calibration sample inputs"):
        compile(str(digits_model_path()), target="vta")
    with pytest.raises(CompileError, match=r"device must be one of \['fsim', 'rtl', "
                                           r"'rtl-fast'\], not 'tpu'"):
        compile(str(digits_model_path()), target="vta", device="tpu")


def _resnet18() -> onnx.ModelProto:
    """ResNet-18 as scripts/build_resnet18.py builds it (random weights, 1x3x224x224)."""
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        from build_resnet18 import build_resnet18
    finally:
        sys.path.pop(0)
    return build_resnet18(seed=0)


def _blobs(rng: np.random.Generator, n: int, size: int) -> list[dict[str, np.ndarray]]:
    """Random images with low-frequency structure (so that top-1 classes vary)."""
    out = []
    for _ in range(n):
        low = np.kron(rng.normal(size=(1, 3, 4, 4)), np.ones((size // 4, size // 4)))
        out.append({"data": (low + 0.3 * rng.normal(size=(1, 3, size, size)))
                    .astype(np.float32)})
    return out


@pytest.mark.slow
def test_resnet18_int8_on_fsim_agrees_with_float(record_property):
    """ResNet-18 quantized, partitioned and run on fsim (64x64 inputs to keep it short);
    int8 equals the integer reference (the final float Softmax may be a compiled kernel whose
    exp rounds a few ulp apart from numpy's; one int8 step of a logit would move the
    probabilities by about the dequantization scale, far beyond the tolerance), and top-1
    agreement with float is reported."""
    size = 64
    feeds = _blobs(np.random.default_rng(0), 20, size)
    m = compile(_resnet18(), target="vta", device="fsim", calibration=feeds[:4],
                input_shapes={"data": (1, 3, size, size)})
    assert m.module.strategies.count("vta") == 21  # 20 convolutions and the dense layer
    agree = 0
    for f in feeds[4:]:
        (y,) = m.run(f)
        np.testing.assert_allclose(y, evaluate(m.qgraph, f)["prob"], rtol=1e-5, atol=1e-7)
        agree += int(y.argmax() == evaluate(m.float_graph, f)["prob"].argmax())
    rate = agree / len(feeds[4:])
    record_property("top1_agreement", rate)
    print(f"ResNet-18 int8 vs float top-1 agreement: {rate:.0%} of {len(feeds[4:])}")
    assert rate >= 0.75


@pytest.mark.verilator
@pytest.mark.slow
def test_resnet18_sample_layer_matches_rtl():
    """One ResNet-18 accelerator layer, bit for bit between fsim and the RTL (rtl-fast)."""
    size = 32
    feeds = _blobs(np.random.default_rng(1), 2, size)
    m = compile(_resnet18(), target="vta", device="fsim", calibration=feeds,
                input_shapes={"data": (1, 3, size, size)})
    try:
        cfg = next(k for k in m.module._kernels if isinstance(k, AccelStep)).kernel.cfg
        rtl = rt.device("rtl-fast", cfg=cfg)
    except rt.DeviceError as err:  # pragma: no cover - no Verilator toolchain
        pytest.skip(f"rtl-fast unavailable: {err}")
    values = step_values(m.module, feeds[0])
    steps = [(s, k) for s, k in zip(m.module.plan["steps"], m.module._kernels)
             if isinstance(k, AccelStep)]
    step, kernel = steps[len(steps) // 2]
    x = values[step["inputs"][0]]
    out_rtl, res_rtl = kernel.kernel.run(rtl, {"data": x})
    np.testing.assert_array_equal(out_rtl["out"], values[step["outputs"][0]])
    assert res_rtl.cycles > 0


def test_cli_compile_dump_partition_run_and_profile(data, tmp_path, capsys):
    from tessera.compiler.cli import main

    xtr, xte = data[0], data[1]
    np.save(tmp_path / "cal.npy", xtr[:40])
    np.save(tmp_path / "x.npy", xte[:1])
    art = tmp_path / "d.tsr"
    assert main(["compile", str(digits_model_path()), "--target", "vta", "--calibration",
                 f"x={tmp_path / 'cal.npy'}", "--dump-partition", "-o", str(art)]) == 0
    out = capsys.readouterr().out
    assert "partition: 3 accelerator layer(s), 13 CPU node(s)" in out
    assert main(["run", str(art), "--input", f"x={tmp_path / 'x.npy'}", "--device", "fsim",
                 "--output-dir", str(tmp_path)]) == 0
    logits = np.load(tmp_path / "out0.npy")
    assert logits.shape == (1, 10) and logits.argmax() == data[3][0]
    assert main(["profile", str(art), "--input", f"x={tmp_path / 'x.npy'}", "--json",
                 str(tmp_path / "p.json"), "--chrome-trace", str(tmp_path / "t.json"),
                 "--png", str(tmp_path / "p.png"), "--layer", "conv1"]) == 0
    prof = json.loads((tmp_path / "p.json").read_text())
    assert [lp["layer"] for lp in prof["layers"] if lp["where"] == "vta"] == \
        ["conv1", "conv2", "fc"]
    assert json.loads((tmp_path / "t.json").read_text())["traceEvents"]
    assert (tmp_path / "p.png").stat().st_size > 1000
    assert main(["profile", str(art), "--trace", "conv7"]) == 1
    assert "--trace layer must be one of the accelerator layers ['conv1', 'conv2', 'fc'], " \
           "not 'conv7'" in capsys.readouterr().err


@pytest.mark.verilator
@pytest.mark.slow
def test_cli_profile_trace_records_a_waveform(data, tmp_path, capsys):
    from tessera.compiler.cli import main

    np.save(tmp_path / "cal.npy", data[0][:20])
    art = tmp_path / "d.tsr"
    assert main(["compile", str(digits_model_path()), "--target", "vta", "--calibration",
                 f"x={tmp_path / 'cal.npy'}", "-o", str(art)]) == 0
    assert main(["profile", str(art), "--trace", "fc", "--waves", "vcd"]) == 0
    line = [s for s in capsys.readouterr().out.splitlines() if s.startswith("waveform of fc:")]
    vcd = Path(line[0].split(": ", 1)[1])
    assert vcd.suffix == ".vcd" and vcd.read_text()[:200].lstrip().startswith("$")


def test_small_configuration_is_bit_exact_too(data):
    from tessera.hw.config import HwConfig

    xtr, xte = data[0], data[1]
    m = compile(str(digits_model_path()), target="vta", cfg=HwConfig.small(),
                calibration=[{"x": xtr[i:i + 1]} for i in range(40)])
    assert m.module.strategies.count("vta") == 3
    for i in range(4):
        x = {"x": xte[i:i + 1]}
        np.testing.assert_array_equal(m.run(x)[0], evaluate(m.qgraph, x)["logits"])


def test_layer_without_a_legal_schedule_stays_on_cpu_with_a_note(data):
    xtr, xte = data[0], data[1]
    m = compile(str(digits_model_path()), target="vta",
                calibration=[{"x": xtr[i:i + 1]} for i in range(40)],
                schedules={"conv2": {"tile_oc": 7}})
    assert m.module.strategies.count("vta") == 2
    conv2 = next(p for p in m.placements if p.layer == "conv2" and p.op == "QConv2d")
    assert conv2.where == "cpu" and "schedule is missing knob(s)" in conv2.reason
    assert m.notes and m.notes[0].startswith("layer conv2 runs on the CPU (integer reference): ")
    x = {"x": xte[:1]}
    np.testing.assert_array_equal(m.run(x)[0], evaluate(m.qgraph, x)["logits"])


def _one_layer_model(kind: str, rng: np.random.Generator, c: int, o: int, hw: int, k: int,
                     stride: int, pad: int, relu: bool) -> tuple[onnx.ModelProto, tuple]:
    t = helper.make_tensor_value_info
    if kind == "conv":
        w = numpy_helper.from_array(rng.normal(0, 0.3, (o, c, k, k)).astype(np.float32), "w")
        b = numpy_helper.from_array(rng.normal(0, 0.2, (o,)).astype(np.float32), "b")
        oh = (hw + 2 * pad - k) // stride + 1
        nodes = [helper.make_node("Conv", ["x", "w", "b"], ["y0"], pads=[pad] * 4,
                                  strides=[stride] * 2, name="L")]
        shape, out = (1, c, hw, hw), (1, o, oh, oh)
    else:  # dense as Gemm with transB=0 or as MatMul
        w = numpy_helper.from_array(rng.normal(0, 0.3, (c * 4, o)).astype(np.float32), "w")
        b = numpy_helper.from_array(rng.normal(0, 0.2, (o,)).astype(np.float32), "b")
        node = helper.make_node("Gemm", ["x", "w", "b"], ["y0"], name="L") if kind == "gemm" \
            else helper.make_node("MatMul", ["x", "w"], ["y0"], name="L")
        nodes, shape, out = [node], (1, c * 4), (1, o)
    nodes.append(helper.make_node("Relu" if relu else "Identity", ["y0"], ["y"], name="post"))
    g = helper.make_graph(nodes, "one_layer", [t("x", TensorProto.FLOAT, list(shape))],
                          [t("y", TensorProto.FLOAT, list(out))], [w, b])
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)]), shape


@settings(max_examples=8)
@given(seed=st.integers(0, 2**31 - 1), kind=st.sampled_from(["conv", "gemm", "matmul"]),
       c=st.integers(1, 20), o=st.integers(1, 20), hw=st.integers(3, 9),
       k=st.sampled_from([1, 3, 5]), stride=st.sampled_from([1, 2]), pad=st.integers(0, 2),
       relu=st.booleans())
def test_random_layers_on_fsim_equal_the_integer_reference(seed, kind, c, o, hw, k, stride,
                                                           pad, relu):
    """Whole flow, one random layer: fsim output == numpy integer math on the int8 graph."""
    rng = np.random.default_rng(seed)
    k = min(k, hw)
    pad = min(pad, k - 1)  # the LOAD unit pads less than a kernel (else the CPU runs it)
    model, shape = _one_layer_model(kind, rng, c, o, hw, k, stride, pad, relu)
    cal = [{"x": rng.normal(size=shape).astype(np.float32)} for _ in range(3)]
    m = compile(model, target="vta", calibration=cal)
    assert m.module.strategies.count("vta") == 1, m.notes
    (layer,) = [n for n in m.qgraph.nodes if n.op in ("QConv2d", "QDense")]
    w, b = (m.qgraph.constants[i] for i in layer.inputs[1:])
    for f in cal[:2]:
        env = evaluate(m.qgraph, f)
        xq = env[layer.inputs[0]].astype(np.int64)
        if kind == "conv":
            acc = np.zeros(env[layer.outputs[0]].shape, np.int64)
            xp = np.pad(xq, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
            for i in range(acc.shape[2]):
                for j in range(acc.shape[3]):
                    win = xp[:, :, i * stride:i * stride + k, j * stride:j * stride + k]
                    acc[:, :, i, j] = np.tensordot(win, w.astype(np.int64),
                                                   ([1, 2, 3], [1, 2, 3]))
            acc += b.reshape(1, -1, 1, 1)
        else:
            acc = xq @ w.astype(np.int64).T + b
        ref = np.clip(acc >> layer.attr("shift"), 0 if relu else -128, 127)
        np.testing.assert_array_equal(env[layer.outputs[0]], ref)
        y = m.run(f)[0]
        np.testing.assert_array_equal(y, (ref * 2.0 ** layer.attr("y_exp")).astype(np.float32))


@pytest.mark.verilator
def test_artifact_on_rtl_fast_equals_fsim(digits, data, tmp_path):
    path = digits.save(tmp_path / "digits.tsr")
    try:
        on_rtl = rt.load(path, device="rtl-fast")
        x = {"x": data[1][3:4]}
        got = on_rtl.run(x)[0]
    except rt.DeviceError as err:  # pragma: no cover - no Verilator toolchain
        pytest.skip(f"rtl-fast unavailable: {err}")
    np.testing.assert_array_equal(got, rt.load(path, device="fsim").run(x)[0])
    rtl_cycles = [k.last.cycles for k in on_rtl._kernels if isinstance(k, AccelStep)]
    assert len(rtl_cycles) == 3 and min(rtl_cycles) > 0


@pytest.mark.parametrize("which", ["digits", "resnet18"])
def test_every_vta_pass_output_verifies(which, data):
    from tessera.compiler.graph.verify import verify

    seen: list[str] = []

    def check(name, graph):
        verify(graph)
        seen.append(name)

    if which == "digits":
        compile(str(digits_model_path()), target="vta", calibration=[{"x": data[0][:1]}],
                after_pass=check)
    else:  # a value read by two accelerator layers (main path and projection shortcut)
        x = np.random.default_rng(0).random((1, 3, 32, 32)).astype(np.float32)
        compile(_resnet18(), target="vta", calibration=[{"data": x}],
                input_shapes={"data": (1, 3, 32, 32)}, after_pass=check)
    assert seen[-4:] == ["quantize", "im2col", "partition", "fuse_ops+plan_memory"]


def test_info_counts_accelerator_layers(digits):
    by = digits.info()["ops_by_strategy"]
    assert by["vta"] == {"QConv2d": 2, "QDense": 1}
    assert "QConv2d" not in by["numpy"]


def _residual_model() -> onnx.ModelProto:
    rng = np.random.default_rng(8)
    w = [numpy_helper.from_array(rng.normal(0, 0.25, (16, 16, 3, 3)).astype(np.float32),
                                 f"w{i}") for i in range(3)]
    t = helper.make_tensor_value_info
    nodes = [
        helper.make_node("Conv", ["x", "w0"], ["a"], pads=[1] * 4, name="c0"),
        helper.make_node("Relu", ["a"], ["ra"], name="r0"),
        helper.make_node("Conv", ["ra", "w1"], ["b"], pads=[1] * 4, name="c1"),
        helper.make_node("Add", ["b", "ra"], ["s"], name="add"),
        helper.make_node("Relu", ["s"], ["rs"], name="r1"),
        helper.make_node("Conv", ["rs", "w2"], ["y"], pads=[1] * 4, name="c2"),
    ]
    g = helper.make_graph(nodes, "residual", [t("x", TensorProto.FLOAT, [1, 16, 5, 5])],
                          [t("y", TensorProto.FLOAT, [1, 16, 5, 5])], w)
    return helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])


def test_residual_add_stays_int8():
    rng = np.random.default_rng(9)
    cal = [{"x": rng.normal(size=(1, 16, 5, 5)).astype(np.float32)} for _ in range(6)]
    m = compile(_residual_model(), target="vta", calibration=cal)
    ops = [n.op for n in m.qgraph.nodes]
    assert ops.count("QAdd") == 1 and ops.count("QConv2d") == 3
    assert ops.count("QuantizeLinear") == 1 and ops.count("DequantizeLinear") == 1
    assert m.module.strategies.count("vta") == 3
    for f in cal[:3]:
        y = m.run(f)[0]
        np.testing.assert_array_equal(y, evaluate(m.qgraph, f)["y"])
        ref = evaluate(m.float_graph, f)["y"]
        assert np.abs(y - ref).max() < 0.1 * np.abs(ref).max()
    f = compile(_residual_model(), target="vta", calibration=cal,
                quant=QuantConfig(residual="float"))
    assert [n.op for n in f.qgraph.nodes].count("QAdd") == 0
    np.testing.assert_array_equal(f.run(cal[0])[0], evaluate(f.qgraph, cal[0])["y"])
