"""dense on the accelerator equals qnn.qdense exactly (fsim)."""

from __future__ import annotations

import numpy as np
import pytest
from vta_helpers import check_dense

import tessera.runtime as rt
from tessera.compiler.vta import DenseWorkload, default_schedule
from tessera.hw import HwConfig


@pytest.mark.parametrize("m,k,n", [(1, 512, 1000), (16, 256, 64), (3, 100, 10)])
def test_dense_default_config(m: int, k: int, n: int) -> None:
    cfg = HwConfig.default()
    wkl = DenseWorkload(m, k, n)
    dev = rt.device("fsim", cfg=cfg)
    on = default_schedule(wkl, cfg, vthreads=2)
    y2, _, kernel = check_dense(wkl, cfg, dev, schedule=on, relu=m % 2 == 1)
    y1, _, _ = check_dense(wkl, cfg, dev, schedule=dict(on, vthreads=1), relu=m % 2 == 1)
    np.testing.assert_array_equal(y1, y2)
    assert kernel.tensor("data").shape == (m, -(-k // 16), 1, 16)
    assert kernel.tensor("out").shape == (m, -(-n // 16), 1, 16)


@pytest.mark.parametrize("tile_n,tile_ic", [(1, 1), (4, 2), (8, 4)])
def test_dense_tilings_small_config(tile_n: int, tile_ic: int) -> None:
    cfg = HwConfig.small()
    wkl = DenseWorkload(8, 16, 12)
    sched = {"tile_n": tile_n, "tile_oc": 3, "tile_h": 1, "tile_w": 1, "tile_ic": tile_ic,
             "vthreads": 2}
    check_dense(wkl, cfg, rt.device("fsim", cfg=cfg), schedule=sched, bias=tile_n != 4)
