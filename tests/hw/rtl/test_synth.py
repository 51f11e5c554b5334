"""Yosys synthesis of the accelerator: no latches, block RAM for the buffers, DSPs for the MACs.

The small configuration synthesizes in about half a minute; the default one takes many minutes
and runs with ``-m slow``.
"""

from __future__ import annotations

import pytest

from tessera.hw.config import HwConfig
from tessera.hw.synth import SynthError, synthesize


def _check(name: str) -> None:
    cfg = HwConfig.named(name)
    report = synthesize(cfg)
    assert report.latches == 0
    # every on-chip buffer maps to block RAM: at least the bytes of all buffers
    # (two accumulator copies) in 4.5 KiB RAMB36s, rounded down
    need = sum(cfg.buffer_bytes(k) for k in ("uop", "inp", "wgt", "acc", "acc", "out"))
    assert report.bram >= need // 4608, f"{report.bram} RAMB36 cannot hold {need} bytes"
    assert report.dsp > 0 and report.lut > 0 and report.ff > 0
    assert report.summary()["config"] == name


def test_small_config_synthesizes_without_latches() -> None:
    _check("small")


@pytest.mark.slow
def test_default_config_synthesizes_without_latches() -> None:
    _check("default")


def test_unknown_target_is_refused() -> None:
    with pytest.raises(SynthError, match=r"synthesis target must be one of \('xilinx', 'ecp5'\), "
                                         r"not 'asic'"):
        synthesize(HwConfig.small(), target="asic")


@pytest.mark.slow
def test_small_config_synthesizes_for_ecp5() -> None:
    report = synthesize(HwConfig.small(), target="ecp5")
    assert report.latches == 0
    assert report.bram > 0 and report.dsp > 0 and report.lut > 0
