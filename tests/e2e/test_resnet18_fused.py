"""ResNet-18 (scripts/build_resnet18.py) with every conv group as one compiled kernel: the 20
convs with their 17 Relu and 8 residual Add nodes run as tensor-compiler code in both
layouts (through the conv2d_nchw / conv2d_nchwc tuning templates' default points), and the
model matches onnxruntime."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

from tessera.compiler import compile

sys.path.insert(0, str(Path(__file__).parents[2] / "scripts"))
from build_resnet18 import build_resnet18  # noqa: E402


@pytest.mark.slow
@pytest.mark.parametrize("layout", ["NCHW", "NCHWc"])
def test_resnet18_conv_groups_are_compiled_whole_and_match_onnxruntime(layout: str) -> None:
    model = build_resnet18(seed=0)
    x = np.random.default_rng(0).uniform(0, 1, (1, 3, 224, 224)).astype(np.float32)
    m = compile(model, kernels="compiled", layout=layout)
    llvm = m.info()["ops_by_strategy"]["llvm"]
    convs = llvm.get("Conv", 0) + llvm.get("ConvNCHWc", 0)
    assert (convs, llvm["Relu"], llvm["Add"]) == (20, 17, 8)
    tuning = [s["compiled"][s["master"]].get("tuning") for s in m.module.plan["steps"]
              if s["nodes"][0]["op"] in ("Conv", "ConvNCHWc")]
    # each built through dispatch.build_best at its template's default point (no DB)
    assert len(tuning) == 20 and all(t["source"] == "default" for t in tuning)
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    feeds = {sess.get_inputs()[0].name: x}
    (want,) = sess.run(None, feeds)
    (got,) = m.run(feeds)
    np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-4)
