from __future__ import annotations

import pytest
from tensor_testutil import check_matmul, matmul

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError, UnsupportedError


def test_vthread_binding_hook_lowers_to_a_vthread_loop():
    A, B, C = matmul()
    s = te.create_schedule(C)
    io, _ = s[C].split(s[C].op.axis[0], nparts=2)
    s[C].bind(io, te.thread_axis("vthread"))
    assert "# vthread" in check_matmul(s, A, B, C)


def test_bind_of_a_reduction_is_an_error():
    _, _, C = matmul()
    s = te.create_schedule(C)
    with pytest.raises(ScheduleError, match=r"^stage C: bind: loop k must be data-parallel, not "
                                             r"a reduction$"):
        s[C].bind(s[C].op.reduce_axis[0], te.thread_axis("threadIdx.x"))


def test_thread_binding_is_unsupported_on_the_cpu():
    from tessera.compiler.codegen import build

    A, B, C = matmul()
    s = te.create_schedule(C)
    s[C].bind(s[C].op.axis[0], te.thread_axis("blockIdx.x"))
    f = te.lower(s, [A, B, C])
    assert "# thread_binding" in str(f)
    with pytest.raises(UnsupportedError, match=r"thread_binding loop i must be lowered"):
        build(f, [A, B, C])
