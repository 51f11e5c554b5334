from __future__ import annotations

import numpy as np
import pytest
from tensor_testutil import lower_checked, run

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError


def _row_reduce(n: int, comb):
    X = te.placeholder((3, n), name="X")
    k = te.reduce_axis(n, "k")
    Y = te.compute((3,), lambda i: comb(X[i, k] * 2.0, axis=k), name="Y")
    return X, Y


def _vector_partials(s, Y, factor):
    _, ki = s[Y].split(s[Y].op.reduce_axis[0], factor=factor)
    YF = s.rfactor(Y, ki)
    rf, i = s[YF].op.axis
    (ro,) = s[YF].op.reduce_axis
    s[YF].reorder(i, ro, rf)
    s[YF].vectorize(rf)
    s[YF].compute_at(s[Y], s[Y].op.axis[0])
    return YF


@pytest.mark.parametrize("n,factor", [(64, 16), (70, 16), (5, 16), (33, 4)])
@pytest.mark.parametrize("comb,ref", [(te.sum, np.sum), (te.max, np.max), (te.min, np.min)])
def test_rfactor_gives_vector_partial_reductions(n, factor, comb, ref):
    X, Y = _row_reduce(n, comb)
    s = te.create_schedule(Y)
    _vector_partials(s, Y, factor)
    x = np.random.default_rng(n).standard_normal((3, n)).astype(np.float32)
    np.testing.assert_allclose(run(s, [X, Y], [x]), ref(x * 2, axis=1), rtol=1e-5, atol=1e-5)


def test_rfactor_lowering_has_vector_accumulators_and_a_guard_free_tail():
    X, Y = _row_reduce(70, te.sum)
    s = te.create_schedule(Y)
    _vector_partials(s, Y, 16)
    text = str(lower_checked(s, [X, Y]))
    assert "Y.rf[ramp(0, 1, 16)] = Y.rf[ramp(0, 1, 16)] + X[ramp(" in text
    assert "Y.rf[ramp(0, 1, 6)]" in text and "if " not in text
    assert s.trace_text().splitlines()[1] == "s.rfactor('Y', 'k.inner')"
    X2, Y2 = _row_reduce(70, te.sum)
    assert str(lower_checked(te.replay(s.trace, Y2), [X2, Y2])) == text


def test_rfactor_errors_name_the_loop():
    X, Y = _row_reduce(8, te.sum)
    s = te.create_schedule(Y)
    with pytest.raises(ScheduleError, match=r"^stage Y: rfactor: loop i must come from the only "
                                             r"split of a reduction axis"):
        s.rfactor(Y, s[Y].op.axis[0])
    Z = te.compute((3, 8), lambda i, j: X[i, j] + 1.0, name="Z")
    s2 = te.create_schedule(Z)
    with pytest.raises(ScheduleError, match=r"^stage Z: rfactor of loop j: the stage must be a "
                                             r"reduction, not elementwise$"):
        s2.rfactor(Z, s2[Z].op.axis[1])
