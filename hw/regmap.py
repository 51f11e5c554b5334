"""The AXI4-Lite control registers of the accelerator (byte offsets, 32-bit registers).

Software starts a run by writing the instruction stream's DRAM byte address and instruction
count, then 1 to ``CTRL.start``; it polls ``CTRL`` until ``done`` or ``error`` is set. Counters
reset when a run starts and stop when it ends.
"""

from __future__ import annotations

import enum

CTRL = 0x00          # W: bit0 start.  R: bit0 busy, bit1 done, bit2 error
STATUS = 0x04        # R: error code (ErrorCode), 0 while healthy
INSN_ADDR = 0x08     # RW: DRAM byte address of the first instruction (16-byte aligned)
INSN_COUNT = 0x0C    # RW: number of instructions
CYCLES = 0x10        # R: cycles since start (saturating at 2**32 - 1)
ERROR_PC = 0x14      # R: index of the instruction that caused the error (if any)
WATCHDOG = 0x18      # RW: cycles without progress of any unit before the error state
LOAD_BUSY = 0x20     # R: cycles the load unit moved data or waited on DRAM
LOAD_STALL = 0x24    # R: cycles the load unit waited for a dependency token
COMPUTE_BUSY = 0x28  # R: cycles the compute unit executed an instruction
COMPUTE_STALL = 0x2C
STORE_BUSY = 0x30
STORE_STALL = 0x34
FETCH_BUSY = 0x38    # R: cycles fetch read instructions or waited on DRAM
FETCH_STALL = 0x3C   # R: cycles fetch waited for room in a unit's command queue
GEMM_CYCLES = 0x40   # R: cycles the GEMM core issued a block product
ALU_CYCLES = 0x44    # R: cycles the vector ALU issued an operation
INSN_DONE = 0x48     # R: instructions retired

CTRL_START = 1 << 0
CTRL_BUSY = 1 << 0
CTRL_DONE = 1 << 1
CTRL_ERROR = 1 << 2

WATCHDOG_DEFAULT = 1 << 20

COUNTERS = {
    "cycles": CYCLES,
    "load_busy": LOAD_BUSY,
    "load_stall": LOAD_STALL,
    "compute_busy": COMPUTE_BUSY,
    "compute_stall": COMPUTE_STALL,
    "store_busy": STORE_BUSY,
    "store_stall": STORE_STALL,
    "fetch_busy": FETCH_BUSY,
    "fetch_stall": FETCH_STALL,
    "gemm_cycles": GEMM_CYCLES,
    "alu_cycles": ALU_CYCLES,
    "insn_done": INSN_DONE,
}


class ErrorCode(enum.IntEnum):
    NONE = 0
    ILLEGAL_INSN = 1  # unknown opcode, memory type or ALU op; a flag the unit cannot honour
    WATCHDOG = 2      # no unit made progress for WATCHDOG cycles (deadlock)
    OUT_OF_RANGE = 3  # a buffer index past the end of its buffer
    BUS_ERROR = 4     # DRAM answered with an AXI error response
