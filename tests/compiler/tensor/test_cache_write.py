from __future__ import annotations

import pytest
from tensor_testutil import check_matmul, matmul

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError


def test_cache_write_accumulates_in_a_local_tile():
    A, B, C = matmul(m=12, n=8, k=5)
    s = te.create_schedule(C)
    CL = s.cache_write(C, "acc_buffer")
    i, j = s[C].op.axis
    io, jo, ii, ji = s[C].tile(i, j, 4, 8)
    s[CL].compute_at(s[C], jo)
    text = check_matmul(s, A, B, C)
    assert "C.acc_buffer = allocate(float32, [32], scope='acc_buffer')" in text


def test_cache_write_after_a_split_fails():
    _, _, C = matmul()
    s = te.create_schedule(C)
    s[C].split(s[C].op.axis[0], factor=2)
    with pytest.raises(ScheduleError, match=r"^stage C: cache_write must come before any loop "
                                             r"transformation of the stage, not after "
                                             r"\(i.outer, i.inner, j, k\)$"):
        s.cache_write(C, "local")
