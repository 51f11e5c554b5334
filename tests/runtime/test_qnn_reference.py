"""The quantized-math reference against a literal float computation of the same integers."""

from __future__ import annotations

import numpy as np
import pytest

from tessera.runtime.reference import qnn


def test_qconv2d_matches_literal_loops() -> None:
    rng = np.random.default_rng(1)
    x = rng.integers(-128, 128, (1, 3, 7, 6)).astype(np.int8)
    w = rng.integers(-128, 128, (5, 3, 3, 3)).astype(np.int8)
    bias = rng.integers(-5000, 5000, 5).astype(np.int32)
    got = qnn.qconv2d(x, w, bias, shift=9, relu=False, stride=(2, 1), pad=(1, 0, 1, 2))
    xp = np.pad(x.astype(np.int64), ((0, 0), (0, 0), (1, 1), (0, 2)))
    oh, ow = (7 + 2 - 3) // 2 + 1, (6 + 2 - 3) // 1 + 1
    assert got.shape == (1, 5, oh, ow)
    for o in range(5):
        for y in range(oh):
            for z in range(ow):
                acc = int((xp[0, :, 2 * y : 2 * y + 3, z : z + 3] * w[o]).sum()) + int(bias[o])
                assert got[0, o, y, z] == min(max(acc >> 9, -128), 127)


def test_qdense_relu_and_shift_bounds() -> None:
    x = np.array([[100, -100]], np.int8)
    w = np.array([[1, 0], [0, 1], [127, 127]], np.int8)
    out = qnn.qdense(x, w, np.array([0, 0, 4], np.int32), shift=2, relu=True)
    np.testing.assert_array_equal(out, [[25, 0, 1]])
    with pytest.raises(ValueError, match=r"shift must be in \[0, 31\], not 32"):
        qnn.requantize(np.zeros((1, 1), np.int32), None, 32, False)
