from __future__ import annotations

from tensor_testutil import lower_checked, matmul

from tessera.compiler import tensor as te


def test_trace_prints_and_replays_to_the_same_program():
    A, B, C = matmul(m=16, n=12, k=8)
    s = te.create_schedule(C)
    CL = s.cache_write(C, "local")
    i, j = s[C].op.axis
    io, jo, ii, ji = s[C].tile(i, j, 4, 6)
    s[C].parallel(io)
    s[CL].compute_at(s[C], jo)
    s[CL].unroll(s[CL].op.axis[0])
    s[C].vectorize(ji)
    text = s.trace_text()
    assert text.splitlines() == [
        "s.cache_write('C', 'local')",
        "s['C'].tile('i', 'j', 4, 6)",
        "s['C'].parallel('i.outer')",
        "s['C.local'].compute_at('C', 'j.outer')",
        "s['C.local'].unroll('i.c')",
        "s['C'].vectorize('j.inner')",
    ]
    A2, B2, C2 = matmul(m=16, n=12, k=8)
    s2 = te.replay(s.trace, C2)
    assert s2.trace_text() == text
    assert str(lower_checked(s2, [A2, B2, C2])) == str(lower_checked(s, [A, B, C]))
