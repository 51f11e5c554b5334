"""Errors of the functional simulator.

``tessera.sim`` sits below ``tessera.runtime``, so these derive from ``TesseraError`` and
``RuntimeError`` directly; the fsim device re-raises them as ``runtime.DeviceError`` with the
same text. Each carries the index of the offending instruction (``pc``) and the register-map
error code the RTL reports for the same fault.
"""

from __future__ import annotations

from tessera.hw.errors import TesseraError
from tessera.hw.regmap import ErrorCode


class SimError(TesseraError, RuntimeError):
    """The simulated accelerator stopped with an error."""

    code: ErrorCode = ErrorCode.NONE

    def __init__(self, message: str, pc: int | None = None) -> None:
        super().__init__(message)
        self.pc = pc


class IllegalInsnError(SimError):
    """An instruction the hardware cannot execute: bad opcode, memory type, flag or padding."""

    code = ErrorCode.ILLEGAL_INSN


class OutOfRangeError(SimError):
    """A buffer, micro-op or DRAM index past the end of its memory."""

    code = ErrorCode.OUT_OF_RANGE


class DramBusError(OutOfRangeError):
    """A DMA window past the end of DRAM. The RTL's AXI master gets an error response from the
    memory for it and stops with BUS_ERROR, so fsim reports the same code; it stays an
    ``OutOfRangeError`` for callers that catch every range fault."""

    code = ErrorCode.BUS_ERROR


class DeadlockError(SimError):
    """No unit can make progress and the program has not finished."""

    code = ErrorCode.WATCHDOG
