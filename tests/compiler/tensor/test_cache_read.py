from __future__ import annotations

import pytest
from tensor_testutil import check_matmul, lower_checked, matmul

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError


def test_cache_read_into_a_scope_at_a_loop():
    A, B, C = matmul(m=8, n=6, k=5)
    s = te.create_schedule(C)
    AL = s.cache_read(A, "inp_buffer", [C])
    assert AL.name == "A.inp_buffer"
    assert s.trace_text() == "s.cache_read('A', 'inp_buffer', ('C',))"
    io, _ = s[C].split(s[C].op.axis[0], factor=4)
    s[AL].compute_at(s[C], io)
    text = check_matmul(s, A, B, C)
    assert "A.inp_buffer = allocate(float32, [20], scope='inp_buffer')" in text


def test_cache_read_of_an_unread_tensor_fails():
    A, B, C = matmul()
    X = te.placeholder((3,), name="X")
    s = te.create_schedule(C)
    with pytest.raises(ScheduleError, match=r"^cache_read of X: reader stage C must read X, "
                                             r"not be unrelated$"):
        s.cache_read(X, "local", [C])
    with pytest.raises(ScheduleError, match=r"^cache_read of A: scope must be a non-empty "
                                             r"string, not ''$"):
        s.cache_read(A, "", [C])
    lower_checked(s, [A, B, C])
