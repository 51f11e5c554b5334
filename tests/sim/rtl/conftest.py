"""Shared fixtures of the RTL simulation tests: cached builds (one per session and key, shared
with later runs through the build cache) and a cycle report printed at the end."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tessera.hw.config import HwConfig

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # echo_fixture, rtl_helpers

@pytest.fixture(scope="session")
def small() -> HwConfig:
    return HwConfig.small()


@pytest.fixture(scope="session")
def echo_lib(small: HwConfig) -> Iterator[Path]:
    """The native harness around the echo fixture (built once; cached across runs)."""
    from echo_fixture import echo_design

    from tessera.sim.verilator import build_native

    yield build_native(echo_design(small), small.dram_bus_bits)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    helpers = sys.modules.get("rtl_helpers")
    report = getattr(helpers, "REPORT", None)  # (case, rtl cycles, fsim model cycles)
    if not report:
        return
    tr = terminalreporter
    tr.section("RTL cycle counts (rtl-fast vs the fsim cycle model)")
    total_rtl = sum(r for _, r, _ in report)
    total_fsim = sum(f for _, _, f in report)
    for case, rtl, fsim in report[:40]:
        tr.write_line(f"{case:60s} rtl {rtl:8d}  fsim {fsim:8d}")
    if len(report) > 40:
        tr.write_line(f"... {len(report) - 40} more")
    tr.write_line(f"{len(report)} runs: rtl {total_rtl} cycles, fsim model {total_fsim}")
