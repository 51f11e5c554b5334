from __future__ import annotations

import pytest
from tensor_testutil import check_matmul, matmul

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError


def test_tile_orders_outer_then_inner():
    A, B, C = matmul(m=16, n=10)
    s = te.create_schedule(C)
    i, j = s[C].op.axis
    s[C].tile(i, j, 4, 5)
    assert [v.name for v in s[C].leaf_iter_vars] == ["i.outer", "j.outer", "i.inner",
                                                     "j.inner", "k"]
    assert s.trace_text() == "s['C'].tile('i', 'j', 4, 5)"
    check_matmul(s, A, B, C)


def test_tile_of_unknown_loop_names_it():
    _, _, C = matmul()
    s = te.create_schedule(C)
    with pytest.raises(ScheduleError, match=r"^stage C: tile: loop q must be a leaf loop"):
        s[C].tile("q", "j", 2, 2)
