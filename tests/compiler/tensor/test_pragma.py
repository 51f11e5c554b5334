from __future__ import annotations

import pytest
from tensor_testutil import check_matmul, matmul

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError, UnsupportedError


def test_pragma_is_an_attribute_around_the_loop():
    A, B, C = matmul()
    s = te.create_schedule(C)
    s[C].pragma(s[C].op.axis[1], "dma_copy")
    assert "with attr('pragma_dma_copy', ''):" in check_matmul(s, A, B, C)


def test_pragma_needs_a_key():
    _, _, C = matmul()
    s = te.create_schedule(C)
    with pytest.raises(ScheduleError, match=r"^stage C: pragma on loop j: key must be a "
                                             r"non-empty string, not ''$"):
        s[C].pragma(s[C].op.axis[1], "")


def test_tensorize_hook_must_be_lowered_by_a_target():
    from tessera.compiler.codegen import build

    A, B, C = matmul()
    s = te.create_schedule(C)
    s[C].tensorize(s[C].op.axis[1], "gemm_16x16")
    f = te.lower(s, [A, B, C])
    assert "with attr('tensorize', 'gemm_16x16'):" in str(f)
    with pytest.raises(UnsupportedError, match=r"tensorize\('gemm_16x16'\) must be lowered"):
        build(f, [A, B, C])


def test_lowering_extension_point_runs_target_passes():
    from tessera.compiler.tensor import stmt as S
    from tessera.compiler.tensor.functor import rewrite

    A, B, C = matmul()
    s = te.create_schedule(C)
    s[C].tensorize(s[C].op.axis[1], "intrin")
    seen = []

    def drop_tensorize(body: S.Stmt) -> S.Stmt:
        def post(n):
            if isinstance(n, S.AttrStmt) and n.key == "tensorize":
                seen.append(n.value)
                return n.body
            return None

        return rewrite(body, post)

    f = te.lower(s, [A, B, C], passes={"schedule": [drop_tensorize]})
    assert seen == ["intrin"] and "tensorize" not in str(f)


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
