"""DRAM layouts: the blocked index maps, pack/unpack round trips, padding and errors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera.hw import HwConfig
from tessera.hw import layout as L
from tessera.hw.errors import ConfigError

CFG = HwConfig(batch=2, block_in=4, block_out=8, uop_depth=256, inp_depth=256, wgt_depth=64,
               acc_depth=256, dram_bus_bits=32, name="b2")
CONFIGS = [HwConfig.default(), HwConfig.small(), CFG]


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_activation_index_map(cfg: HwConfig) -> None:
    x = np.random.default_rng(0).integers(-128, 128, (2 * cfg.batch, 3 * cfg.block_in, 3, 5))
    p = L.pack_activation(x, cfg)
    assert p.dtype == np.int8 and p.flags.c_contiguous
    assert p.shape == L.packed_shape("inp", x.shape, cfg)
    for n, c, h, w in [(0, 0, 0, 0), (x.shape[0] - 1, x.shape[1] - 1, 2, 4), (1, 5, 1, 3)]:
        assert p[n // cfg.batch, c // cfg.block_in, h, w, n % cfg.batch, c % cfg.block_in] \
            == x[n, c, h, w]


def test_weight_index_map() -> None:
    cfg = CFG
    w = np.random.default_rng(1).integers(-128, 128, (16, 8, 3, 3))
    p = L.pack_weight(w, cfg)
    assert p.shape == (2, 2, 3, 3, 8, 4) == L.packed_shape("wgt", w.shape, cfg)
    for o, i, kh, kw in [(0, 0, 0, 0), (15, 7, 2, 2), (9, 6, 1, 0)]:
        assert p[o // 8, i // 4, kh, kw, o % 8, i % 4] == w[o, i, kh, kw]


@given(n=st.integers(1, 5), c=st.integers(1, 40), h=st.integers(1, 4), w=st.integers(1, 4),
       kind=st.sampled_from(["inp", "out", "acc"]))
def test_activation_round_trip_with_padding(n: int, c: int, h: int, w: int, kind: str) -> None:
    cfg = CFG
    lo, hi = (-(1 << 31), 1 << 31) if kind == "acc" else (-128, 128)
    x = np.random.default_rng(n * c).integers(lo, hi, (n, c, h, w))
    p = L.pack_activation(x, cfg, kind)
    block = cfg.block_in if kind == "inp" else cfg.block_out
    assert p.shape == (-(-n // cfg.batch), -(-c // block), h, w, cfg.batch, block)
    assert np.count_nonzero(p) == np.count_nonzero(x)  # the padding is zeros
    back = L.unpack_activation(p, (n, c, h, w), cfg, "inp" if kind == "inp" else kind)
    assert np.array_equal(back, x)


@given(o=st.integers(1, 20), i=st.integers(1, 20), k=st.integers(1, 3))
def test_weight_round_trip_with_padding(o: int, i: int, k: int) -> None:
    w = np.random.default_rng(o * i).integers(-128, 128, (o, i, k, k))
    p = L.pack_weight(w, CFG)
    assert np.array_equal(L.unpack_weight(p, (o, i, k, k), CFG), w)


def test_matrix_layouts_and_bias() -> None:
    cfg = CFG
    rng = np.random.default_rng(2)
    a = rng.integers(-128, 128, (6, 8))
    pa = L.pack_matrix_inp(a, cfg)
    assert pa.shape == (3, 2, 2, 4)
    assert pa[1, 1, 0, 2] == a[2, 6]
    b = rng.integers(-128, 128, (16, 8))
    assert L.pack_matrix_wgt(b, cfg)[1, 0, 3, 1] == b[11, 1]
    c = rng.integers(-1000, 1000, (6, 16))
    pc = L.pack_matrix_acc(c, cfg)
    assert pc.dtype == np.int32 and pc[2, 1, 1, 7] == c[5, 15]
    assert np.array_equal(L.unpack_matrix(pc, (5, 13), cfg), c[:5, :13])
    bias = np.arange(10)
    pb = L.pack_bias(bias, cfg)
    assert pb.shape == (2, 2, 8) and pb.dtype == np.int32
    assert pb[1, 1].tolist() == [8, 9, 0, 0, 0, 0, 0, 0] and pb[0, 0].tolist() == list(range(8))


def test_layout_errors() -> None:
    with pytest.raises(ConfigError) as err:
        L.pack_activation(np.zeros((2, 3)), CFG)
    assert str(err.value) == "activation must be a 4-D NCHW array, not 2-D (2, 3)"
    with pytest.raises(ConfigError) as err:
        L.pack_activation(np.zeros((1, 1, 1, 1)), CFG, "wgt")
    assert str(err.value) == "activation kind must be one of inp, out, acc, not 'wgt'"
    with pytest.raises(ConfigError) as err:
        L.unpack_activation(np.zeros((1, 1, 1, 1, 2, 4)), (1, 1, 1, 1), CFG, "out")
    assert str(err.value) == "blocked activation's inner block must be (2, 8), not (2, 4)"
    with pytest.raises(ConfigError) as err:
        L.unpack_matrix(np.zeros((1, 1, 2, 8)), (3, 8), CFG)
    assert str(err.value) == "matrix shape (3, 8) does not fit blocked array (1, 1, 2, 8)"
