"""compute_at of a chain of stages under one consumer loop (TVM's epilogue-at-tile idiom):
every stage of the chain is attached at the same loop, producers run first, and bound
inference widens each producer's region by what its attached consumers read."""

from __future__ import annotations

import numpy as np
import pytest
from tensor_testutil import lower_checked, run

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError


def test_a_stencil_chain_attached_at_one_loop_runs_in_order_and_widens():
    n = 20
    X = te.placeholder((n + 2,), name="X")
    A = te.compute((n + 2,), lambda i: X[i] * 2.0, name="A")
    B = te.compute((n + 2,), lambda i: A[i] + 1.0, name="B")
    C = te.compute((n,), lambda i: B[i] + B[i + 2], name="C")
    D = te.compute((n,), lambda i: C[i] * 3.0, name="D")
    s = te.create_schedule(D)
    o, _ = s[D].split(s[D].op.axis[0], factor=4)
    for st in (C, B, A):  # consumers first: each is then read inside the loop
        s[st].compute_at(s[D], o)
    text = str(lower_checked(s, [X, D]))
    # A and B cover the 4 outputs' stencil (6 entries), C just the tile; in producer order.
    assert text.index("A = allocate(float32, [6]") < text.index("B = allocate(float32, [6]") \
        < text.index("C = allocate(float32, [4]")
    x = np.random.default_rng(1).standard_normal(n + 2).astype(np.float32)
    b = x * 2 + 1
    np.testing.assert_allclose(run(s, [X, D], [x]), (b[:-2] + b[2:]) * 3, rtol=1e-6)


def test_a_cached_reduction_and_its_epilogue_chain_attach_at_the_output_tile():
    m, n, k = 8, 12, 5
    A = te.placeholder((m, k), name="A")
    W = te.placeholder((n, k), name="W")
    bias = te.placeholder((n,), name="bias")
    r = te.reduce_axis(k, "r")
    G = te.compute((m, n), lambda i, j: te.sum(A[i, r] * W[j, r], axis=r), name="G")
    Ad = te.compute((m, n), lambda i, j: G[i, j] + bias[j], name="Ad")
    Mx = te.compute((m, n), lambda i, j: te.maximum(Ad[i, j], 0.0), name="Mx")
    O = te.compute((m, n), lambda i, j: Mx[i, j] * 0.5, name="O")
    s = te.create_schedule(O)
    GL = s.cache_write(G, "local")
    s[G].compute_inline()  # Ad reads G.local through the inlined copy
    _, jo, _, _ = s[O].tile(*s[O].op.axis, 4, 6)
    for st in (Mx, Ad, GL):
        s[st].compute_at(s[O], jo)
    text = str(lower_checked(s, [A, W, bias, O]))
    assert "    for j.outer in range(2):  # serial\n" \
           "      G.local = allocate(float32, [24], scope='local')" in text
    rng = np.random.default_rng(0)
    a, w = (rng.standard_normal(x.shape).astype(np.float32) for x in (A, W))
    b = rng.standard_normal(n).astype(np.float32)
    np.testing.assert_allclose(run(s, [A, W, bias, O], [a, w, b]),
                               np.maximum(a @ w.T + b, 0) * 0.5, rtol=1e-5, atol=1e-6)


def test_set_scope_allocates_an_attached_stage_in_the_scope_and_replays():
    X = te.placeholder((8,), name="X")
    Y = te.compute((8,), lambda i: X[i] + 1.0, name="Y")
    Z = te.compute((8,), lambda i: Y[i] * 2.0, name="Z")
    s = te.create_schedule(Z)
    o, _ = s[Z].split(s[Z].op.axis[0], factor=4)
    s[Y].compute_at(s[Z], o)
    s[Y].set_scope("acc_buffer")
    assert "Y = allocate(float32, [4], scope='acc_buffer')" in str(lower_checked(s, [X, Z]))
    assert s.trace_text().endswith("s['Y'].set_scope('acc_buffer')")
    s2 = te.replay(s.trace, te.compute((8,), lambda i: te.compute(
        (8,), lambda j: te.placeholder((8,), name="X")[j] + 1.0, name="Y")[i] * 2.0, name="Z"))
    assert s2["Y"].scope == "acc_buffer"
    x = np.arange(8, dtype=np.float32)
    np.testing.assert_array_equal(run(s, [X, Z], [x]), (x + 1) * 2)
    with pytest.raises(ScheduleError, match=r"^stage Z: set_scope\('local'\): the stage must "
                                             r"not be an output$"):
        s[Z].set_scope("local")
