"""The graph executor's run-time behaviour around compiled steps: each kernel's output
buffer is kept across runs (the results a run returns are the caller's own copies), and
numpy's BLAS keeps to one thread while a model with compiled parallel kernels runs (its
busy-waiting workers would take the cores those kernels need)."""

from __future__ import annotations

import numpy as np
import onnxruntime as ort
from test_artifact import small_model
from threadpoolctl import threadpool_info

import tessera.runtime.executor as ex
from tessera.compiler import compile

RNG = np.random.default_rng(11)


def _feeds() -> dict[str, np.ndarray]:
    return {"x": RNG.standard_normal((2, 2, 5, 5)).astype(np.float32)}


def test_results_are_the_callers_own_after_the_next_run() -> None:
    model = small_model()  # (each call draws new weights)
    m = compile(model, kernels="compiled")
    assert "llvm" in m.module.strategies
    a, b = _feeds(), _feeds()
    ya = m.run(a)
    kept = [y.copy() for y in ya]
    yb = m.run(b)
    for y, k in zip(ya, kept):
        np.testing.assert_array_equal(y, k)  # the second run did not write into them
    sess = ort.InferenceSession(model.SerializeToString())
    for y, ref in zip(yb, sess.run(None, b)):
        np.testing.assert_allclose(y, ref, rtol=1e-5, atol=1e-6)


def test_numpy_steps_run_with_single_threaded_blas(monkeypatch) -> None:
    m = compile(small_model(), kernels="compiled")
    before = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    seen: list[int] = []
    real = ex.run_kernel

    def spy(op, ins, attrs):
        seen.extend(i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas")
        return real(op, ins, attrs)

    monkeypatch.setattr(ex, "run_kernel", spy)
    m.run(_feeds())
    assert seen and set(seen) == {1}
    outside = [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]
    assert outside == before  # restored after the run
    numpy_only = compile(small_model(), kernels="numpy")
    assert "llvm" not in numpy_only.module.strategies
    seen.clear()
    numpy_only.run(_feeds())
    assert seen and set(seen) == set(outside)  # a numpy-only model leaves BLAS alone
