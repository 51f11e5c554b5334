"""conv2d on the accelerator equals the numpy reference of the quantized math, exactly (fsim)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from vta_helpers import RESNET18, check_conv

import tessera.runtime as rt
from tessera.compiler.vta import Conv2dWorkload, default_schedule
from tessera.hw import HwConfig

SMALL = HwConfig.small()
DEFAULT = HwConfig.default()


@pytest.mark.parametrize("name", list(RESNET18))
def test_resnet18_layer_exact_with_one_and_two_vthreads(name: str) -> None:
    """Every ResNet-18 conv layer, default configuration: vthreads 1 and 2 both exact and
    identical; two threads take fewer cycles (latency hiding)."""
    wkl = RESNET18[name]
    dev = rt.device("fsim", cfg=DEFAULT)
    on = default_schedule(wkl, DEFAULT, vthreads=2)
    y2, res2, k2 = check_conv(wkl, DEFAULT, dev, seed=2, schedule=on, relu=True)
    off = dict(on, vthreads=1)
    y1, res1, _ = check_conv(wkl, DEFAULT, dev, seed=2, schedule=off, relu=True)
    np.testing.assert_array_equal(y1, y2)
    assert res2.cycles < res1.cycles
    assert k2.meta["schedule"] == on and k2.macs == wkl.macs


@pytest.mark.parametrize("shift,relu,bias", [(0, False, False), (5, True, True),
                                             (12, False, True), (31, True, False)])
def test_epilogues(shift: int, relu: bool, bias: bool) -> None:
    wkl = Conv2dWorkload(1, 6, 6, 8, 8, 3, 3, 1, 1, 1, 1)
    check_conv(wkl, SMALL, rt.device("fsim", cfg=SMALL), seed=shift, bias=bias, shift=shift,
               relu=relu)


def test_channels_and_batch_padded_to_the_block() -> None:
    wkl = Conv2dWorkload(3, 7, 5, 5, 7, 3, 2, 1, 1, 2, 1)
    check_conv(wkl, SMALL, rt.device("fsim", cfg=SMALL), seed=4)


@given(
    n=st.integers(1, 2), h=st.integers(1, 9), w=st.integers(1, 9), ci=st.integers(1, 12),
    co=st.integers(1, 12), k=st.sampled_from([(1, 1), (3, 3), (2, 3), (5, 5)]),
    stride=st.sampled_from([(1, 1), (2, 2), (1, 2), (3, 3)]), pad=st.integers(0, 2),
    pad_end=st.integers(0, 2), vthreads=st.sampled_from([1, 2]), seed=st.integers(0, 99),
)
def test_random_conv2d_exact(n: int, h: int, w: int, ci: int, co: int, k: tuple[int, int],
                             stride: tuple[int, int], pad: int, pad_end: int, vthreads: int,
                             seed: int) -> None:
    """Any stride, padding (asymmetric too) and kernel size (pad below the kernel), any
    channel counts."""
    pad_h, pad_w = min(pad, k[0] - 1), min(pad, k[1] - 1)
    pad_b, pad_r = min(pad_end, k[0] - 1), min(pad_end, k[1] - 1)
    assume(h + pad_h + pad_b >= k[0] and w + pad_w + pad_r >= k[1])
    wkl = Conv2dWorkload(n, h, w, ci, co, k[0], k[1], pad_h, pad_w, stride[0], stride[1],
                         pad_bottom=pad_b, pad_right=pad_r)
    sched = default_schedule(wkl, SMALL, vthreads=vthreads)
    check_conv(wkl, SMALL, rt.device("fsim", cfg=SMALL), seed=seed, schedule=sched,
               relu=bool(seed % 2))


def test_every_legal_tiling_of_a_small_layer_is_exact() -> None:
    """Sweep tile sizes (edges, single rows, whole planes, batch tiles) on one layer."""
    from tessera.compiler.errors import ScheduleError
    from tessera.compiler.vta import knob_space

    wkl = Conv2dWorkload(2, 6, 4, 8, 8, 3, 3, 1, 1, 1, 1)
    dev = rt.device("fsim", cfg=SMALL)
    space = knob_space(wkl, SMALL)
    ran = 0
    for tn in space["tile_n"]:
        for th in space["tile_h"]:
            for tw in (1, 4):
                for tic in space["tile_ic"]:
                    sched = {"tile_n": tn, "tile_oc": 1, "tile_h": th, "tile_w": tw,
                             "tile_ic": tic, "vthreads": 2}
                    try:
                        check_conv(wkl, SMALL, dev, seed=ran, schedule=sched)
                    except ScheduleError:
                        assert tn > 1 and th > 1
                        continue
                    ran += 1
    assert ran >= 20
