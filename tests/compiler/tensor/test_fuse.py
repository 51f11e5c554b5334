from __future__ import annotations

import pytest
from tensor_testutil import check_matmul, matmul

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError


def test_fuse_adjacent_loops():
    A, B, C = matmul(m=6, n=5)
    s = te.create_schedule(C)
    f = s[C].fuse(*s[C].op.axis)
    assert f.name == "i.j.fused"
    text = check_matmul(s, A, B, C)
    assert "for i.j.fused in range(30)" in text


def test_fuse_then_split_and_parallel():
    A, B, C = matmul(m=9, n=7)
    s = te.create_schedule(C)
    f = s[C].fuse(*s[C].op.axis)
    fo, _ = s[C].split(f, factor=8)
    s[C].parallel(fo)
    check_matmul(s, A, B, C)


def test_fuse_errors_name_the_loops():
    _, _, C = matmul()
    s = te.create_schedule(C)
    i, j = s[C].op.axis
    (k,) = s[C].op.reduce_axis
    with pytest.raises(ScheduleError, match=r"^stage C: fuse: loop i must be directly inside "
                                             r"loop j, not at leaf position 0 \(loop j is at 1\)$"):
        s[C].fuse(j, i)
    with pytest.raises(ScheduleError, match=r"^stage C: fuse: loops j and k must be of the same "
                                             r"kind, not data_par and reduce$"):
        s[C].fuse(j, k)
