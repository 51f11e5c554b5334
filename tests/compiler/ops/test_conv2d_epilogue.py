"""Convs with a fused epilogue (bias, residual add, Relu, Clip) under their default schedules,
NCHW (blocked and direct) and NCHWc, on odd shapes, against numpy."""

from __future__ import annotations

import numpy as np
import pytest
from ops_testutil import run_op
from test_conv2d import conv_ref

from tessera.compiler import ops
from tessera.compiler import tensor as te
from tessera.compiler.errors import CompileError
from tessera.compiler.ops.epilogue import epilogue_of, reference, split_epilogue

EPILOGUES = [
    (("bias",),),
    (("relu",),),
    (("clip", -0.25, 0.5),),
    (("clip", None, 0.0),),
    (("add",), ("relu",)),
    (("bias",), ("add",), ("relu",)),
    (("bias",), ("clip", 0.0, 6.0)),
]


def _operands(epi, out_shape, bias_shape, rng):
    tensors, arrays = [], []
    for k, step in enumerate(epi):
        shape = {"bias": bias_shape, "add": out_shape}.get(step[0])
        if shape is not None:
            tensors.append(te.placeholder(shape, name=f"e{k}"))
            arrays.append(rng.standard_normal(shape).astype(np.float32))
    return tensors, arrays


@pytest.mark.parametrize("oc_block", [None, 1], ids=["blocked", "direct"])
@pytest.mark.parametrize("epi", EPILOGUES, ids=lambda e: "+".join(s[0] for s in e))
def test_conv2d_nchw_epilogue_matches_numpy(epi, oc_block):
    rng = np.random.default_rng(len(epi))
    n, c, h, w, o, k, stride, pad = 2, 3, 11, 9, 5, 3, 2, 1
    D = te.placeholder((n, c, h, w), name="D")
    W = te.placeholder((o, c, k, k), name="W")
    oshape = (n, o, (h + 2 * pad - k) // stride + 1, (w + 2 * pad - k) // stride + 1)
    extra, arrays = _operands(epi, oshape, (o,), rng)
    out = ops.conv2d_nchw(D, W, stride, pad, oc_block=oc_block, epilogue=epi, operands=extra)
    x = rng.standard_normal((n, c, h, w)).astype(np.float32)
    wt = rng.standard_normal((o, c, k, k)).astype(np.float32)
    got = run_op(out, [D, W, *extra], [x, wt, *arrays])
    want = reference(conv_ref(x, wt, stride, pad), epi, arrays)
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("epi", EPILOGUES, ids=lambda e: "+".join(s[0] for s in e))
def test_conv2d_nchwc_epilogue_matches_numpy(epi):
    rng = np.random.default_rng(7 + len(epi))
    blk, cb, ob, hw, pad = 4, 2, 3, 7, 1
    shape_in, shape_w = (1, cb, hw, hw, blk), (ob, cb, 3, 3, blk, blk)
    D, W = te.placeholder(shape_in, name="D"), te.placeholder(shape_w, name="W")
    oshape = (1, ob, hw, hw, blk)
    extra, arrays = _operands(epi, oshape, (ob, 1, 1, blk), rng)
    out = ops.conv2d_nchwc(D, W, 1, pad, epilogue=epi, operands=extra)
    x = rng.standard_normal(shape_in).astype(np.float32)
    wt = rng.standard_normal(shape_w).astype(np.float32)
    got = run_op(out, [D, W, *extra], [x, wt, *arrays])
    # the blocked conv from the plain one: unblock x and w, block the result
    xp = x.transpose(0, 1, 4, 2, 3).reshape(1, cb * blk, hw, hw)
    wp = wt.transpose(0, 5, 1, 4, 2, 3).reshape(ob * blk, cb * blk, 3, 3)
    conv = conv_ref(xp, wp, 1, pad).reshape(1, ob, blk, hw, hw).transpose(0, 1, 3, 4, 2)
    np.testing.assert_allclose(got, reference(conv, epi, arrays), rtol=1e-4, atol=1e-4)


def test_epilogue_is_inlined_and_the_output_written_once():
    D = te.placeholder((1, 8, 6, 6), name="D")
    W = te.placeholder((16, 8, 3, 3), name="W")
    b, r = te.placeholder((16,), name="b"), te.placeholder((1, 16, 6, 6), name="r")
    out = ops.conv2d_nchw(D, W, 1, 1, epilogue=(("bias",), ("add",), ("relu",)),
                          operands=[b, r])
    conv, chain = split_epilogue(out)
    assert conv.op.tag == "conv2d_nchw" and [t.op.attrs["step"] for t in chain] == [
        ("bias",), ("add",), ("relu",)]
    text = str(te.lower(ops.schedule(out), [D, W, b, r, out]))
    assert "allocate(float32, [576]" not in text  # no full-size intermediate
    assert text.count("conv2d_epi2_relu[") == text.count("= max(")


def test_epilogue_from_json_lists_and_bad_steps():
    assert epilogue_of([["bias"], ["clip", 0, None]]) == (("bias",), ("clip", 0.0, None))
    cases = [
        ([("gelu",)], "epilogue: step 0 must be one of ['add', 'bias', 'clip', 'relu'], "
                      "not 'gelu'"),
        ([("relu",), ("clip", 0.0)], "epilogue: step 1 (clip) must have 2 parameters, not 1"),
        (["relu"], "epilogue: step 0 must be a non-empty tuple like ('relu',), not 'relu'"),
        ([("clip", "0", 1)], "epilogue: step 0 clip min must be a number or None, not '0'"),
    ]
    for steps, msg in cases:
        with pytest.raises(CompileError) as e:
            epilogue_of(steps)
        assert str(e.value) == msg


def test_epilogue_operands_are_checked():
    D = te.placeholder((1, 2, 5, 5), name="D")
    W = te.placeholder((3, 2, 3, 3), name="W")
    with pytest.raises(CompileError) as e:
        ops.conv2d_nchw(D, W, epilogue=(("bias",), ("add",)), operands=[te.placeholder((3,))])
    assert str(e.value) == "epilogue: ['bias', 'add'] must have 2 operands, not 1"
    with pytest.raises(CompileError) as e:
        ops.conv2d_nchw(D, W, epilogue=(("add",),), operands=[te.placeholder((1, 3, 4, 4))])
    assert str(e.value) == ("epilogue: step 0 (add) operand (1, 3, 4, 4) must broadcast to the "
                            "output (1, 3, 3, 3)")
    with pytest.raises(CompileError) as e:
        ops.conv2d_nchw(D, W, epilogue=(("bias",),), operands=[te.placeholder((4,))])
    assert str(e.value) == "epilogue: step 0 (bias) must have 3 channels, not 4"
