from __future__ import annotations

import numpy as np
import pytest
from tensor_testutil import lower_checked, run

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError


def test_compute_inline_substitutes_the_expression():
    X = te.placeholder((10,), name="X")
    Y = te.compute((10,), lambda i: X[i] + 1.0, name="Y")
    Z = te.compute((10,), lambda i: Y[i] * Y[i], name="Z")
    s = te.create_schedule(Z)
    s[Y].compute_inline()
    text = str(lower_checked(s, [X, Z]))
    assert "allocate" not in text and "Y[" not in text
    x = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(run(s, [X, Z], [x]), (x + 1) ** 2)


def test_compute_inline_errors():
    X = te.placeholder((4, 4), name="X")
    k = te.reduce_axis(4, "k")
    R = te.compute((4,), lambda i: te.sum(X[i, k], axis=k), name="R")
    Z = te.compute((4,), lambda i: R[i] + 1.0, name="Z")
    s = te.create_schedule(Z)
    with pytest.raises(ScheduleError, match=r"^stage R: compute_inline: the stage must not be "
                                             r"a reduction \(loop k\)$"):
        s[R].compute_inline()
    with pytest.raises(ScheduleError, match=r"^stage Z: compute_inline: the stage must not be "
                                             r"an output$"):
        s[Z].compute_inline()
