"""The .tsr artifact: save/load round trip, running without the compiler, and clear errors
for missing, corrupt, truncated, tampered and future-version files."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

import tessera.runtime as rt
from tessera.compiler import compile
from tessera.runtime.artifact import ArtifactError
from tessera.runtime.executor import ExecutorError

RNG = np.random.default_rng(7)


def small_model() -> onnx.ModelProto:
    w = (RNG.standard_normal((4, 2, 3, 3)) * 0.3).astype(np.float32)
    wf = (RNG.standard_normal((3, 4 * 5 * 5)) * 0.3).astype(np.float32)
    nodes = [
        helper.make_node("Conv", ["x", "w"], ["c"], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"]),
        helper.make_node("Flatten", ["r"], ["f"]),
        helper.make_node("Gemm", ["f", "wf"], ["y"], transB=1),
        helper.make_node("Sigmoid", ["y"], ["z"]),
    ]
    g = helper.make_graph(
        nodes, "small", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [2, 2, 5, 5])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [2, 3]),
         helper.make_tensor_value_info("z", TensorProto.FLOAT, [2, 3])],
        [numpy_helper.from_array(w, "w"), numpy_helper.from_array(wf, "wf")],
    )
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 13)])
    m.ir_version = 7
    return m


@pytest.fixture()
def saved(tmp_path):
    m = compile(small_model())
    path = m.save(tmp_path / "small.tsr")
    return m, path


def test_round_trip_gives_identical_outputs(saved) -> None:
    m, path = saved
    x = RNG.standard_normal((2, 2, 5, 5)).astype(np.float32)
    loaded = rt.load(path)
    a, b = m.run({"x": x}), loaded.run({"x": x})
    assert len(a) == len(b) == 2
    for u, v in zip(a, b):
        np.testing.assert_array_equal(u, v)
    assert loaded.info()["ops_by_strategy"] == m.info()["ops_by_strategy"]
    assert loaded.outputs == ["y", "z"]


def test_runs_without_importing_the_compiler(saved) -> None:
    _, path = saved
    code = (
        "import sys, numpy as np, tessera.runtime as rt\n"
        f"m = rt.load({str(path)!r})\n"
        "out = m.run({'x': np.ones((2, 2, 5, 5), np.float32)})\n"
        "assert [o.shape for o in out] == [(2, 3), (2, 3)]\n"
        "assert not any(k.startswith('tessera.compiler') for k in sys.modules), "
        "[k for k in sys.modules if k.startswith('tessera.compiler')]\n"
        "assert 'onnx' not in sys.modules\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr


def test_missing_file(tmp_path) -> None:
    with pytest.raises(ArtifactError) as e:
        rt.load(tmp_path / "none.tsr")
    assert str(e.value) == f"{tmp_path / 'none.tsr'}: artifact file must exist"


@pytest.mark.parametrize("keep", [0, 10, 100, 1000, -100, -1])
def test_truncated_file(saved, tmp_path, keep) -> None:
    _, path = saved
    data = path.read_bytes()
    bad = tmp_path / "cut.tsr"
    bad.write_bytes(data[:keep] if keep >= 0 else data[:len(data) + keep])
    with pytest.raises(ArtifactError) as e:
        rt.load(bad)
    assert str(e.value).startswith(f"{bad}: ")


def test_random_byte_corruption_never_crashes(saved, tmp_path) -> None:
    _, path = saved
    data = bytearray(path.read_bytes())
    rng = np.random.default_rng(0)
    for trial in range(40):
        bad = bytearray(data)
        for pos in rng.integers(0, len(bad), size=4):
            bad[pos] ^= 0xFF
        p = tmp_path / f"bad{trial}.tsr"
        p.write_bytes(bytes(bad))
        try:
            rt.load(p).run({"x": np.ones((2, 2, 5, 5), np.float32)})
        except ArtifactError as err:
            assert str(err).startswith(f"{p}: ")


def _rewrite(path, tmp_path, edit) -> object:
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    edit(members)
    out = tmp_path / "edited.tsr"
    with zipfile.ZipFile(out, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    return out


def test_tampered_member_fails_its_checksum(saved, tmp_path) -> None:
    _, path = saved

    def edit(m):
        m["plan.json"] = m["plan.json"].replace(b'"Relu"', b'"Tanh"')

    bad = _rewrite(path, tmp_path, edit)
    with pytest.raises(ArtifactError) as e:
        rt.load(bad)
    assert str(e.value) == f"{bad}: checksum of plan.json does not match the manifest"


def test_future_version_is_refused(saved, tmp_path) -> None:
    _, path = saved

    def edit(m):
        man = json.loads(m["manifest.json"])
        man["version"] = 99
        m["manifest.json"] = json.dumps(man).encode()

    bad = _rewrite(path, tmp_path, edit)
    with pytest.raises(ArtifactError) as e:
        rt.load(bad)
    assert str(e.value) == f"{bad}: artifact format version must be 1, not 99"


def test_not_an_artifact(saved, tmp_path) -> None:
    _, path = saved
    bad = _rewrite(path, tmp_path, lambda m: m.pop("manifest.json"))
    with pytest.raises(ArtifactError) as e:
        rt.load(bad)
    assert str(e.value) == f"{bad}: artifact must contain manifest.json"


def test_wrong_inputs_are_clear_errors(saved) -> None:
    m, _ = saved
    with pytest.raises(ExecutorError) as e:
        m.run({})
    assert str(e.value) == "input 'x' is missing: inputs are ['x']"
    with pytest.raises(ExecutorError) as e:
        m.run({"x": np.ones((2, 2, 5, 4), np.float32)})
    assert str(e.value) == "input 'x' must have shape [2, 2, 5, 5], not [2, 2, 5, 4]"
    with pytest.raises(ExecutorError) as e:
        m.run({"x": np.ones((2, 2, 5, 5), np.float32), "q": 1})
    assert str(e.value) == "unknown input 'q': inputs must be among ['x']"


def test_unloadable_compiled_code_falls_back_to_numpy(caplog) -> None:
    from tessera.runtime.executor import GraphModule

    m = compile(small_model(), kernels="compiled")
    module = m.module
    assert "llvm" in module.info()["ops_by_strategy"]
    broken = {name: b"this is not LLVM IR" for name in module.code}
    fallback = GraphModule(module.plan, module.constants, broken)
    assert set(fallback.info()["ops_by_strategy"]) == {"numpy"}
    assert "numpy fallback" in caplog.text
    x = RNG.standard_normal((2, 2, 5, 5)).astype(np.float32)
    for a, b in zip(module.run({"x": x}), fallback.run({"x": x})):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
