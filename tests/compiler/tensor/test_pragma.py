from __future__ import annotations

import pytest
from tensor_testutil import check_matmul, matmul

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError


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
