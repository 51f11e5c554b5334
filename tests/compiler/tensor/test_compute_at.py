from __future__ import annotations

import numpy as np
import pytest
from tensor_testutil import lower_checked, run

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError


def _chain(n: int = 20):
    X = te.placeholder((n,), name="X")
    Y = te.compute((n,), lambda i: X[i] + 1.0, name="Y")
    Z = te.compute((n,), lambda i: Y[i] * 2.0, name="Z")
    return X, Y, Z


def test_compute_at_computes_only_the_region_needed():
    X, Y, Z = _chain(20)
    s = te.create_schedule(Z)
    o, _ = s[Z].split(s[Z].op.axis[0], factor=8)
    s[Y].compute_at(s[Z], o)
    text = str(lower_checked(s, [X, Z]))
    assert "Y = allocate(float32, [8], scope='global')" in text
    x = np.arange(20, dtype=np.float32)
    np.testing.assert_array_equal(run(s, [X, Z], [x]), (x + 1) * 2)


def test_compute_at_with_a_stencil_widens_the_region():
    n = 17
    X = te.placeholder((n + 2,), name="X")
    Y = te.compute((n + 2,), lambda i: X[i] * 3.0, name="Y")
    Z = te.compute((n,), lambda i: Y[i] + Y[i + 1] + Y[i + 2], name="Z")
    s = te.create_schedule(Z)
    o, _ = s[Z].split(s[Z].op.axis[0], factor=4)
    s[Y].compute_at(s[Z], o)
    assert "Y = allocate(float32, [6]" in str(lower_checked(s, [X, Z]))
    x = np.random.default_rng(0).standard_normal(n + 2).astype(np.float32)
    y = x * 3
    np.testing.assert_allclose(run(s, [X, Z], [x]), y[:-2] + y[1:-1] + y[2:], rtol=1e-6)


def test_compute_at_errors():
    X, Y, Z = _chain()
    s = te.create_schedule(Z)
    with pytest.raises(ScheduleError, match=r"^stage Y: compute_at: parent must be another "
                                             r"stage, not itself \(loop i\)$"):
        s[Y].compute_at(s[Y], s[Y].op.axis[0])
    with pytest.raises(ScheduleError, match=r"^stage Z: compute_at at loop i: the stage must "
                                             r"not be an output$"):
        s[Z].compute_at(s[Y], s[Y].op.axis[0])
    W = te.compute((20,), lambda i: X[i] - 1.0, name="W")
    V = te.compute((20,), lambda i: W[i] + Z[i], name="V")
    s2 = te.create_schedule(V)
    with pytest.raises(ScheduleError, match=r"^stage W: compute_at: stage Z \(loop i\) must "
                                             r"read W, not be unrelated$"):
        s2[W].compute_at(s2[Z], s2[Z].op.axis[0])


def test_splitting_an_attach_loop_is_an_error():
    X, Y, Z = _chain()
    s = te.create_schedule(Z)
    i = s[Z].op.axis[0]
    s[Y].compute_at(s[Z], i)
    with pytest.raises(ScheduleError, match=r"^stage Z: split: loop i must not have stage Y "
                                             r"attached \(compute_at after transforming the "
                                             r"loop\), not before$"):
        s[Z].split(i, factor=2)
