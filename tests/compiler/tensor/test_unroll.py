from __future__ import annotations

import pytest
from tensor_testutil import check_matmul, matmul

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError


def test_unroll_replaces_loop_by_copies():
    A, B, C = matmul(m=3, n=4, k=5)
    s = te.create_schedule(C)
    s[C].unroll(s[C].op.reduce_axis[0])
    text = check_matmul(s, A, B, C)
    assert "for k" not in text
    assert text.count("C[i * 4 + j] = C[i * 4 + j] +") == 5


def test_unroll_of_a_split_loop_is_an_error():
    _, _, C = matmul()
    s = te.create_schedule(C)
    i = s[C].op.axis[0]
    s[C].unroll(i)
    with pytest.raises(ScheduleError, match=r"^stage C: split: loop i must not be annotated "
                                             r"\(unrolled\) before it is split$"):
        s[C].split(i, factor=2)
