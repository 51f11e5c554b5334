"""Property: random legal schedules of matmul and conv2d compute the same numbers as the
unscheduled program (splits, reorders, fuses, unrolls, vectorize, parallel, compute_at,
cache_write), with the verifier run after every lowering pass."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensor_testutil import run

from tessera.compiler import ops
from tessera.compiler import tensor as te
from tessera.compiler.tensor.schedule import Stage


def _extents(stage: Stage) -> dict[str, int]:
    ext = {iv.name: int(iv.dom.extent.value) for iv in stage.root_iter_vars}
    from tessera.compiler.tensor.schedule import Split

    for r in stage.relations:
        if isinstance(r, Split):
            e = ext[r.parent.name]
            f = r.factor if r.factor is not None else -(-e // r.nparts)
            ext[r.outer.name], ext[r.inner.name] = -(-e // f), f
        else:
            ext[r.fused.name] = ext[r.outer.name] * ext[r.inner.name]
    return ext


def random_steps(data: st.DataObject, stage: Stage, steps: int) -> None:
    for _ in range(steps):
        leaves = stage.leaf_iter_vars
        plain = [v for v in leaves if v not in stage.iter_attrs]
        prim = data.draw(st.sampled_from(["split", "reorder", "fuse", "unroll", "vectorize",
                                          "parallel"]))
        if prim == "split" and plain:
            v = data.draw(st.sampled_from(plain))
            if data.draw(st.booleans()):
                stage.split(v, factor=data.draw(st.integers(1, 9)))
            else:
                stage.split(v, nparts=data.draw(st.integers(1, 5)))
        elif prim == "reorder" and len(leaves) > 1:
            stage.reorder(*data.draw(st.permutations(leaves)))
        elif prim == "fuse":
            pairs = [(a, b) for a, b in zip(leaves, leaves[1:]) if a.kind == b.kind
                     and a in plain and b in plain]
            if pairs:
                stage.fuse(*data.draw(st.sampled_from(pairs)))
        elif prim == "unroll":
            ext = _extents(stage)
            small = [v for v in plain if ext[v.name] <= 8]
            if small:
                stage.unroll(data.draw(st.sampled_from(small)))
        elif prim in ("vectorize", "parallel"):
            cands = [v for v in plain if v.kind == "data_par"]
            if cands:
                getattr(stage, prim)(data.draw(st.sampled_from(cands)))


@settings(max_examples=12)
@given(data=st.data(), m=st.sampled_from([1, 5, 8, 13]), n=st.sampled_from([3, 8, 16]),
       k=st.sampled_from([1, 4, 7]))
def test_random_matmul_schedules_match_numpy(data, m, n, k):
    A = te.placeholder((m, k), name="A")
    B = te.placeholder((k, n), name="B")
    r = te.reduce_axis(k, "k")
    C = te.compute((m, n), lambda i, j: te.sum(A[i, r] * B[r, j], axis=r), name="C")
    s = te.create_schedule(C)
    if data.draw(st.booleans()):
        CL = s.cache_write(C, "local")
        io, jo, _, _ = s[C].tile(*s[C].op.axis, data.draw(st.integers(1, 6)),
                                 data.draw(st.integers(1, 8)))
        s[CL].compute_at(s[C], data.draw(st.sampled_from([io, jo])))
        random_steps(data, s[CL], data.draw(st.integers(0, 4)))
    else:
        random_steps(data, s[C], data.draw(st.integers(1, 6)))
    rng = np.random.default_rng(0)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    np.testing.assert_allclose(run(s, [A, B, C], [a, b]), a @ b, rtol=1e-4, atol=1e-4)


@settings(max_examples=12)
@given(data=st.data(), hw=st.sampled_from([4, 7]), pad=st.sampled_from([0, 1]))
def test_random_conv2d_schedules_match_unscheduled(data, hw, pad):
    D = te.placeholder((1, 3, hw, hw), name="D")
    W = te.placeholder((4, 3, 3, 3), name="W")
    out = ops.conv2d_nchw(D, W, 1, pad, oc_block=1)  # the plain direct compute
    rng = np.random.default_rng(1)
    x = rng.standard_normal(D.shape).astype(np.float32)
    w = rng.standard_normal(W.shape).astype(np.float32)
    ref = run(te.create_schedule(out), [D, W, out], [x, w])
    s = te.create_schedule(out)
    random_steps(data, s[out], data.draw(st.integers(1, 6)))
    padded = [st_ for st_ in s.stages if st_.op.tag == "pad"]
    if padded:
        choice = data.draw(st.sampled_from(["root", "inline", "at"]))
        if choice == "inline":
            padded[0].compute_inline()
        elif choice == "at":
            padded[0].compute_at(s[out], data.draw(st.sampled_from(s[out].leaf_iter_vars)))
    np.testing.assert_allclose(run(s, [D, W, out], [x, w]), ref, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
@settings(max_examples=150)
@given(data=st.data(), m=st.sampled_from([1, 5, 8, 13, 31]), n=st.sampled_from([3, 8, 16, 17]),
       k=st.sampled_from([1, 4, 7, 9]))
def test_many_random_matmul_schedules(data, m, n, k):
    test_random_matmul_schedules_match_numpy.hypothesis.inner_test(data, m, n, k)


@pytest.mark.slow
@settings(max_examples=100)
@given(data=st.data(), hw=st.sampled_from([4, 7, 9]), pad=st.sampled_from([0, 1, 2]))
def test_many_random_conv2d_schedules(data, hw, pad):
    test_random_conv2d_schedules_match_unscheduled.hypothesis.inner_test(data, hw, pad)
