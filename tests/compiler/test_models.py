"""The shipped digits CNN: valid ONNX, and as accurate under onnxruntime as its training said."""

from __future__ import annotations

import numpy as np
import onnx
import onnxruntime as ort

from tessera.compiler.models import digits_model_path, digits_split


def test_digits_model_is_valid_and_accurate() -> None:
    model = onnx.load(str(digits_model_path()))
    onnx.checker.check_model(model)
    ops = [n.op_type for n in model.graph.node]
    assert ops == ["Conv", "Relu", "MaxPool", "Conv", "Relu", "MaxPool", "Flatten", "Gemm"]
    _, xte, _, yte = digits_split()
    assert xte.shape == (450, 1, 8, 8)
    sess = ort.InferenceSession(str(digits_model_path()))
    pred = np.array([sess.run(None, {"x": x[None]})[0].argmax() for x in xte])
    assert (pred == yte).mean() >= 0.97
