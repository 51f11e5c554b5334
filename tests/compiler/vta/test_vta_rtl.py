"""A subset of layers on the cycle-accurate RTL (``rtl-fast``, small configuration): the
same bits as the numpy reference and fsim, for one and two virtual threads."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from vta_helpers import check_conv, check_dense

import tessera.runtime as rt
from tessera.compiler.vta import Conv2dWorkload, DenseWorkload, default_schedule
from tessera.hw import HwConfig

pytestmark = pytest.mark.verilator
SMALL = HwConfig.small()


def _rtl_fast() -> rt.Device:
    try:
        return rt.device("rtl-fast", cfg=SMALL)
    except Exception as err:  # noqa: BLE001 - any build failure means: cannot test here
        pytest.skip(f"rtl-fast device unavailable: {err}")


LAYERS = [
    Conv2dWorkload(1, 8, 8, 8, 8, 3, 3, 1, 1, 1, 1),
    Conv2dWorkload(1, 9, 7, 6, 10, 3, 3, 1, 1, 2, 2),
    Conv2dWorkload(1, 8, 8, 8, 16, 1, 1, 0, 0, 2, 2),
    Conv2dWorkload(2, 5, 5, 4, 4, 2, 2, 1, 1, 1, 1),
]


@pytest.mark.parametrize("index", range(len(LAYERS)))
def test_conv2d_on_rtl_matches_reference_and_fsim(index: int) -> None:
    wkl = LAYERS[index]
    rtl = _rtl_fast()
    fsim = rt.device("fsim", cfg=SMALL)
    outs = []
    for v in (1, 2):
        sched = default_schedule(wkl, SMALL, vthreads=v)
        y_rtl, res, _ = check_conv(wkl, SMALL, rtl, seed=index, schedule=sched, relu=True)
        y_fsim, _, _ = check_conv(wkl, SMALL, fsim, seed=index, schedule=sched, relu=True)
        np.testing.assert_array_equal(y_rtl, y_fsim)
        assert res.cycles > 0
        outs.append(y_rtl)
    np.testing.assert_array_equal(outs[0], outs[1])


def test_dense_on_rtl_matches_reference() -> None:
    rtl = _rtl_fast()
    for v in (1, 2):
        sched = default_schedule(DenseWorkload(4, 24, 12), SMALL, vthreads=v)
        check_dense(DenseWorkload(4, 24, 12), SMALL, rtl, seed=v, schedule=sched, relu=v == 2)


@pytest.mark.slow
def test_resnet18_layers_on_rtl_default_config() -> None:
    """C2-C11 on the cycle-accurate RTL (default configuration): exact with one and two
    virtual threads, two threads faster on every layer, and MAC-weighted utilization with
    latency hiding at or above 88% of peak (the issue's bar; deterministic cycle counts)."""
    from vta_helpers import RESNET18

    cfg = HwConfig.default()
    try:
        rtl = rt.device("rtl-fast", cfg=cfg)
    except Exception as err:  # noqa: BLE001
        pytest.skip(f"rtl-fast device unavailable: {err}")
    macs = busy = 0.0
    for name, wkl in RESNET18.items():
        on = default_schedule(wkl, cfg, vthreads=2)
        y2, r2, _ = check_conv(wkl, cfg, rtl, seed=len(name), schedule=on, relu=True)
        y1, r1, _ = check_conv(wkl, cfg, rtl, seed=len(name), schedule=dict(on, vthreads=1),
                               relu=True)
        np.testing.assert_array_equal(y1, y2)
        assert r2.cycles < r1.cycles, name
        macs += wkl.macs
        busy += r2.cycles * cfg.macs_per_cycle
    assert macs / busy >= 0.88


@pytest.mark.slow
@settings(max_examples=25)
@given(
    h=st.integers(1, 8), w=st.integers(1, 8), ci=st.integers(1, 9), co=st.integers(1, 9),
    k=st.sampled_from([(1, 1), (3, 3), (2, 3)]), stride=st.sampled_from([(1, 1), (2, 2), (2, 1)]),
    pad=st.integers(0, 2), pad_end=st.integers(0, 2), vthreads=st.sampled_from([1, 2]),
    seed=st.integers(0, 99),
)
def test_random_conv2d_rtl_equals_fsim(h: int, w: int, ci: int, co: int, k: tuple[int, int],
                                       stride: tuple[int, int], pad: int, pad_end: int,
                                       vthreads: int, seed: int) -> None:
    """Random layers (asymmetric padding, strides, row-skipping 1x1) on the small RTL: the
    reference's bits, as on fsim."""
    pad_h, pad_w = min(pad, k[0] - 1), min(pad, k[1] - 1)
    pad_b, pad_r = min(pad_end, k[0] - 1), min(pad_end, k[1] - 1)
    assume(h + pad_h + pad_b >= k[0] and w + pad_w + pad_r >= k[1])
    wkl = Conv2dWorkload(1, h, w, ci, co, k[0], k[1], pad_h, pad_w, stride[0], stride[1],
                         pad_bottom=pad_b, pad_right=pad_r)
    sched = default_schedule(wkl, SMALL, vthreads=vthreads)
    check_conv(wkl, SMALL, _rtl_fast(), seed=seed, schedule=sched, relu=bool(seed % 2))
