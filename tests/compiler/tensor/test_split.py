from __future__ import annotations

import pytest
from tensor_testutil import check_matmul, matmul

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError


@pytest.mark.parametrize("factor", [1, 3, 4, 12, 20])
def test_split_factor_keeps_numbers(factor):
    A, B, C = matmul()
    s = te.create_schedule(C)
    io, ii = s[C].split(s[C].op.axis[0], factor=factor)
    assert (io.name, ii.name) == ("i.outer", "i.inner")
    check_matmul(s, A, B, C)


def test_split_nparts_and_reduce_axis():
    A, B, C = matmul()
    s = te.create_schedule(C)
    s[C].split(s[C].op.axis[1], nparts=3)
    ko, ki = s[C].split(s[C].op.reduce_axis[0], factor=2)
    assert ko.kind == "reduce"
    check_matmul(s, A, B, C)


def test_non_dividing_split_steady_state_has_no_guard():
    A, B, C = matmul(m=13)
    s = te.create_schedule(C)
    s[C].split(s[C].op.axis[0], factor=4)
    text = check_matmul(s, A, B, C)
    assert text.count("if ") == 0  # 13 = 3*4 + 1: partition gives 3 steady blocks + 1 tail
    assert "for i.outer in range(3)" in text


def test_split_errors_name_the_loop():
    _, _, C = matmul()
    s = te.create_schedule(C)
    i = s[C].op.axis[0]
    with pytest.raises(ScheduleError, match=r"^stage C: split factor of loop i must be a "
                                             r"positive int, not 0$"):
        s[C].split(i, factor=0)
    with pytest.raises(ScheduleError, match=r"^stage C: split of loop i must be given exactly "
                                             r"one of factor or nparts, not both$"):
        s[C].split(i, factor=2, nparts=2)
    s[C].split(i, factor=2)
    with pytest.raises(ScheduleError, match=r"^stage C: split: loop i must be a leaf loop of "
                                             r"the stage \(i.outer, i.inner, j, k\), not "
                                             r"already transformed$"):
        s[C].split(i, factor=2)
