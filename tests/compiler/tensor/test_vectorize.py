from __future__ import annotations

import pytest
from tensor_testutil import check_matmul, matmul

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError


def test_vectorize_inner_column_loop_gives_ramps():
    A, B, C = matmul(m=4, n=16)
    s = te.create_schedule(C)
    i, j = s[C].op.axis
    (k,) = s[C].op.reduce_axis
    s[C].reorder(i, k, j)
    s[C].vectorize(j)
    text = check_matmul(s, A, B, C)
    assert "ramp(" in text and "x16(" in text
    assert "for j" not in text


def test_vectorize_falls_back_to_serial_when_body_has_a_loop():
    A, B, C = matmul(m=4, n=8)
    s = te.create_schedule(C)
    s[C].vectorize(s[C].op.axis[1])  # j outside k: the body holds the k loop
    text = check_matmul(s, A, B, C)
    assert "for j in range(8):  # serial" in text


def test_vectorize_errors():
    _, _, C = matmul()
    s = te.create_schedule(C)
    with pytest.raises(ScheduleError, match=r"^stage C: vectorize: loop k must be a "
                                             r"data-parallel loop, not a reduction$"):
        s[C].vectorize(s[C].op.reduce_axis[0])
    s[C].unroll(s[C].op.axis[1])
    with pytest.raises(ScheduleError, match=r"^stage C: vectorize: loop j must not already be "
                                             r"unrolled, it cannot also be vectorized$"):
        s[C].vectorize(s[C].op.axis[1])
