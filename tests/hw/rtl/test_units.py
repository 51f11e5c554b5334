"""pytest wrappers of the per-module cocotb testbenches (sim/cocotb_tests/units), small config.

Each builds its toplevel with Verilator once per source digest (cached under .tessera-cache)
and fails when any cocotb test fails.
"""

from __future__ import annotations

import pytest
from cocotb_run import run_testbench

from tessera.hw.config import HwConfig

pytestmark = pytest.mark.verilator

SMALL = HwConfig.small()


@pytest.mark.parametrize(("toplevel", "testcase"), [
    ("tessera_token_queue", "token_queue_counts_tokens"),
    ("tessera_fifo", "fifo_keeps_order"),
])
def test_queue(toplevel: str, testcase: str) -> None:
    run_testbench(SMALL, toplevel, "test_queue", modules=(toplevel,), testcase=testcase)


def test_axil_slave() -> None:
    run_testbench(SMALL, "tessera_axil_slave", "test_axil_slave",
                  modules=("tessera_axil_slave",))


def test_axi_master() -> None:
    run_testbench(SMALL, "tb_axi_master", "test_axi_master",
                  modules=("tessera_fifo", "tessera_dma_reader", "tessera_axi_rd_arbiter"),
                  wrappers=("tb_axi_master",))


def test_compute() -> None:
    run_testbench(SMALL, "tessera_top", "test_compute")


def test_random_programs_match_fsim() -> None:
    run_testbench(SMALL, "tessera_top", "test_programs")


@pytest.mark.slow
@pytest.mark.parametrize("module", ["test_compute", "test_programs", "test_load"])
def test_default_config(module: str) -> None:
    run_testbench(HwConfig.default(), "tessera_top", module)


def test_control() -> None:
    run_testbench(SMALL, "tessera_top", "test_control")


def test_load() -> None:
    run_testbench(SMALL, "tessera_top", "test_load")


@pytest.mark.parametrize("module", ["test_store", "test_fetch"])
def test_store_and_fetch(module: str) -> None:
    run_testbench(SMALL, "tessera_top", module)


OTHER_CONFIGS = {
    # batch 2 with 8x8 blocks: every GEMM lane and ALU lane index is exercised off the square
    "batch2": HwConfig(batch=2, block_in=8, block_out=8, uop_depth=1024, inp_depth=256,
                       wgt_depth=64, acc_depth=256, token_depth=8, dram_bus_bits=64,
                       name="batch2"),
    # a 128-bit bus: four micro-ops per beat, an instruction per beat
    "wide": HwConfig(uop_depth=1024, inp_depth=512, wgt_depth=64, acc_depth=512,
                     token_depth=4, dram_bus_bits=128, max_burst=4, name="wide"),
}


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(OTHER_CONFIGS))
def test_other_configs_match_fsim(name: str) -> None:
    run_testbench(OTHER_CONFIGS[name], "tessera_top", "test_programs")
