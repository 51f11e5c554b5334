"""HwConfig presets, validation messages and JSON round trip."""

from __future__ import annotations

import pytest

from tessera.hw import HwConfig
from tessera.hw.errors import ConfigError


def test_default_matches_vta_buffer_sizes() -> None:
    cfg = HwConfig.default()
    assert cfg.macs_per_cycle == 256
    sizes = {k: cfg.buffer_bytes(k) for k in ("uop", "inp", "wgt", "acc", "out")}
    assert sizes == {"uop": 32768, "inp": 32768, "wgt": 262144, "acc": 131072, "out": 32768}
    assert round(cfg.peak_gops, 1) == 102.4


def test_json_round_trip(tmp_path) -> None:
    cfg = HwConfig.small()
    path = tmp_path / "cfg.json"
    cfg.save(path)
    assert HwConfig.load(path) == cfg


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"block_in": 12}, "HwConfig.block_in must be a power of two, not 12"),
        ({"acc_width": 16}, "HwConfig.acc_width must be one of (32,), not 16"),
        (
            {"acc_depth": 1 << 14, "inp_depth": 1 << 14},
            "must fit a 32-bit micro-op",
        ),
        ({"dram_bus_bits": 256, "block_in": 4, "block_out": 4}, "multiple of the 256-bit"),
    ],
)
def test_validation_messages(kwargs: dict, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        HwConfig(**kwargs)
    assert message in str(info.value)


def test_unknown_json_field() -> None:
    with pytest.raises(ConfigError, match=r"HwConfig has no field\(s\) \['blocks'\]"):
        HwConfig.from_dict({"blocks": 3})
