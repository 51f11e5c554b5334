from __future__ import annotations

import pytest
from tensor_testutil import matmul

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError, UnsupportedError


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


def test_tensorize_with_an_intrinsic_declared_as_a_tensor_expression():
    a = te.placeholder((4, 8), name="a")
    b = te.placeholder((4, 8), name="b")
    k = te.reduce_axis(8, "k")
    gemm = te.compute((4, 4), lambda i, j: te.sum(a[i, k] * b[j, k], axis=k), name="gemm")
    intrin = te.decl_tensor_intrin(gemm, [a, b], "gemm_4x4x8")
    assert te.get_tensor_intrin("gemm_4x4x8") is intrin
    A, B, C = matmul(m=8, n=8, k=8)
    s = te.create_schedule(C)
    _, _, ii, _ = s[C].tile(*s[C].op.axis, 4, 4)
    s[C].tensorize(ii, intrin)
    assert "with attr('tensorize', 'gemm_4x4x8'):" in str(te.lower(s, [A, B, C]))
    with pytest.raises(ScheduleError, match=r"^stage C: tensorize of loop j.inner: intrin must "
                                             r"be a TensorIntrin or its name, not 3$"):
        s[C].tensorize("j.inner", 3)
