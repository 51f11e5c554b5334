"""The benchmark's records (structure and correctness checks, never timings)."""

from __future__ import annotations

import json

import pytest

from tessera.compiler.ops import bench
from tessera.compiler.ops.bench_conv import bench_conv2d

FIELDS = {"op", "shape", "dtype", "threads", "tessera_gflops", "reference",
          "reference_gflops", "ratio"}


def test_matmul_and_conv_records_have_the_issue_fields():
    recs = bench.bench_matmul(64, [1, 2], repeat=2)
    recs += bench_conv2d((1, 8, 10, 10), 8, 3, 1, [1], repeat=2)
    for r in recs:
        assert r.keys() >= FIELDS
        assert r["max_rel_error"] < 1e-4
        assert r["tessera_gflops"] > 0 and r["reference_gflops"] > 0
    assert recs[0]["blas"]["internal_api"] in ("openblas", "mkl", "blis")
    assert [r["reference"] for r in recs] == ["numpy", "numpy", "onnxruntime"]


def test_parallel_launch_cost_is_measured():
    assert bench.parallel_launch_us(2) >= 0.0


def test_numpy_reference_runs_without_openblas_overrides(monkeypatch):
    monkeypatch.setenv("OPENBLAS_CORETYPE", "Haswell")
    res = bench.numpy_matmul_gflops(64, 1, repeat=2)
    assert res["env_unset"] == ["OPENBLAS_CORETYPE"]
    assert res["gflops"] > 0


@pytest.mark.slow
def test_cli_quick_json(capsys):
    from tessera.compiler.cli import main

    assert main(["bench-ops", "--quick", "--threads", "1", "--json"]) == 0
    recs = json.loads(capsys.readouterr().out)
    assert {r["op"] for r in recs} == {"matmul", "conv2d"}
    assert all(r.keys() >= FIELDS and "machine" in r and "versions" in r for r in recs)
