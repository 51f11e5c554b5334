from __future__ import annotations

import numpy as np
import pytest
from tensor_testutil import check_matmul, matmul, run

from tessera.compiler import tensor as te
from tessera.compiler.codegen import build
from tessera.compiler.errors import ScheduleError


@pytest.mark.parametrize("threads", [1, 2, 3, 7])
def test_parallel_loop_gives_same_numbers_at_any_thread_count(threads):
    n = 1000
    X = te.placeholder((n,), name="X")
    Y = te.compute((n,), lambda i: X[i] * 2.0 + 1.0, name="Y")
    s = te.create_schedule(Y)
    o, _ = s[Y].split(s[Y].op.axis[0], factor=64)
    s[Y].parallel(o)
    k = build(s, [X, Y])
    k.num_threads = threads
    x = np.arange(n, dtype=np.float32)
    y = np.zeros(n, np.float32)
    k(x, y)
    np.testing.assert_array_equal(y, x * 2 + 1)


def test_parallel_matmul_rows():
    A, B, C = matmul(m=33)
    s = te.create_schedule(C)
    s[C].parallel(s[C].op.axis[0])
    assert "# parallel" in check_matmul(s, A, B, C)


def test_nested_parallel_runs_inner_serially():
    A, B, C = matmul()
    s = te.create_schedule(C)
    i, j = s[C].op.axis
    s[C].parallel(i)
    s[C].parallel(j)
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(A.shape, np.float32), rng.standard_normal(B.shape, np.float32)
    np.testing.assert_allclose(run(s, [A, B, C], [a, b]), a @ b, rtol=1e-5, atol=1e-5)


def test_parallel_reduction_is_an_error():
    _, _, C = matmul()
    s = te.create_schedule(C)
    with pytest.raises(ScheduleError, match=r"^stage C: parallel: loop k must be a "
                                             r"data-parallel loop, not a reduction$"):
        s[C].parallel(s[C].op.reduce_axis[0])
