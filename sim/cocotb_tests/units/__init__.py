"""Per-module cocotb testbenches of the accelerator's RTL (run from tests/hw/rtl via pytest).

Each ``test_<module>.py`` runs inside the simulator; ``program_bench`` drives whole programs
through ``tessera_top`` for the units that only make sense with DRAM behind them.
"""
