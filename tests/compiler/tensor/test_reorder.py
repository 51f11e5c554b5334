from __future__ import annotations

import pytest
from tensor_testutil import check_matmul, matmul

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError


def test_reorder_moves_reduction_outside():
    A, B, C = matmul()
    s = te.create_schedule(C)
    i, j = s[C].op.axis
    (k,) = s[C].op.reduce_axis
    s[C].reorder(k, i, j)
    text = check_matmul(s, A, B, C)
    # the init nest comes first, then the update with k outermost
    assert "  for k in range(7):  # serial\n    for i in range(12):  # serial" in text


def test_reorder_twice_the_same_loop_fails():
    _, _, C = matmul()
    s = te.create_schedule(C)
    i, j = s[C].op.axis
    with pytest.raises(ScheduleError, match=r"^stage C: reorder: loop i must appear once, "
                                             r"not twice$"):
        s[C].reorder(i, j, i)
