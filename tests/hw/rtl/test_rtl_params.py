"""Property tests of the generated parameter file: for any valid configuration it carries every
field of every instruction layout and of the micro-op, the buffer geometry, and nothing twice."""

from __future__ import annotations

import re

from hypothesis import assume, given
from hypothesis import strategies as st

from tessera.hw.config import HwConfig
from tessera.hw.errors import ConfigError
from tessera.hw.isa import Opcode, insn_layout, uop_layout
from tessera.hw.rtl_params import render

LINE = re.compile(r"^localparam integer (\w+) = (-?\d+);")
PREFIX = {Opcode.LOAD: "MEM", Opcode.GEMM: "GEMM", Opcode.ALU: "ALU"}


@st.composite
def configs(draw: st.DrawFn) -> HwConfig:
    pow2 = lambda lo, hi: st.integers(lo, hi).map(lambda e: 1 << e)  # noqa: E731
    try:
        return HwConfig(
            batch=draw(pow2(0, 2)), block_in=draw(pow2(2, 5)), block_out=draw(pow2(2, 5)),
            uop_depth=draw(pow2(6, 13)), inp_depth=draw(pow2(6, 12)),
            wgt_depth=draw(pow2(5, 11)), acc_depth=draw(pow2(6, 12)),
            token_depth=draw(pow2(1, 7)), dram_bus_bits=draw(pow2(5, 7)),
            max_burst=draw(pow2(0, 8)), name="prop",
        )
    except ConfigError:
        assume(False)
        raise


def _params(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for line in text.splitlines():
        m = LINE.match(line)
        if m:
            assert m.group(1) not in out, f"{m.group(1)} must be declared once"
            out[m.group(1)] = int(m.group(2))
    return out


@given(configs())
def test_parameter_file_matches_the_isa(cfg: HwConfig) -> None:
    p = _params(render(cfg))
    header = insn_layout(cfg, Opcode.FINISH)
    for f in header:
        assert (p[f"F_{f.name.upper()}_LSB"], p[f"F_{f.name.upper()}_W"]) == (f.lsb, f.width)
    for op, prefix in PREFIX.items():
        for f in insn_layout(cfg, op)[len(header):]:
            key = f"F_{prefix}_{f.name.upper()}"
            assert (p[f"{key}_LSB"], p[f"{key}_W"]) == (f.lsb, f.width)
    for f in uop_layout(cfg):
        assert (p[f"UOP_{f.name.upper()}_LSB"], p[f"UOP_{f.name.upper()}_W"]) == (f.lsb, f.width)
    for kind in ("uop", "inp", "wgt", "acc", "out"):
        assert p[f"{kind.upper()}_DEPTH"] == cfg.depth(kind)
        assert p[f"{kind.upper()}_BITS"] == 8 * cfg.entry_bytes(kind)
        assert 1 << p[f"LOG_{kind.upper()}_BYTES"] == cfg.entry_bytes(kind)
    assert p["BUS_BITS"] == cfg.dram_bus_bits and p["MAX_BURST"] == cfg.max_burst
    assert 1 << p["LOG_TOKEN_DEPTH"] == cfg.token_depth
