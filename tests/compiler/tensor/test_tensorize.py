from __future__ import annotations

import pytest
from tensor_testutil import matmul

from tessera.compiler import tensor as te
from tessera.compiler.errors import UnsupportedError


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
