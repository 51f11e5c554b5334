"""The ONNX backend node test cases through scripts/onnx_conformance.py: no supported
operator may crash or give wrong numbers, and every required operator passes cases."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from onnx.backend.test.case.node import collect_testcases

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "onnx_conformance.py"

_OPS = """
Conv ConvTranspose Gemm MatMul Add Sub Mul Div Pow Sqrt Exp Log Neg Abs Relu LeakyRelu Sigmoid
Tanh Erf Gelu HardSigmoid HardSwish Clip BatchNormalization InstanceNormalization
LayerNormalization LRN MaxPool AveragePool GlobalAveragePool GlobalMaxPool Flatten Reshape
Transpose Concat Split Slice Gather Squeeze Unsqueeze Pad Softmax ReduceMean ReduceSum ReduceMax
Min Max Where Equal Less Greater Cast Shape ConstantOfShape Constant Identity Dropout Resize
QuantizeLinear DequantizeLinear
"""
REQUIRED = _OPS.split()


def test_conformance_no_failures_and_required_ops_covered() -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "-v"], capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(proc.stdout)
    assert set(result) >= {"passed", "failed", "unsupported", "total", "failures",
                           "unsupported_ops"}
    assert result["failed"] == 0, result["failures"]
    assert result["passed"] + result["unsupported"] == result["total"]
    assert result["passed"] >= 1000
    ops = {c.name: {n.op_type for n in c.model.graph.node}
           for c in collect_testcases() if c.kind == "node"}
    passed = {line.split()[0] for line in proc.stderr.splitlines()
              if len(line.split()) > 1 and line.split()[1] == "passed"}
    assert len(passed) == result["passed"] and passed <= set(ops)
    covered = set().union(*(ops[name] for name in passed))
    missing = [op for op in REQUIRED if op not in covered]
    assert not missing, missing
