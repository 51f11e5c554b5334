"""tessera.sim.fsim: the functional simulator, the executable specification of the ISA.

    from tessera.sim.fsim import FSim
    sim = FSim(cfg)                     # numpy DRAM and buffers: sim.state
    result = sim.run(insns)             # cycles, counters (regmap names), optional timeline

The normative semantics are the docstrings of ``dma`` (LOAD/STORE), ``loops``, ``gemm``,
``alu``, ``validate`` and ``scheduler``; ``cycles`` is the (approximate) cycle model.
``gemm_blas`` is GEMM's fast path (bit-identical), ``state`` the numpy state.
``random_program`` generates random legal programs for differential tests (and
``run_on_fsim`` is their scoreboard); ``gemm_program`` builds blocked GEMM programs.
"""

from tessera.sim.fsim.errors import (
    DeadlockError,
    DramBusError,
    IllegalInsnError,
    OutOfRangeError,
    SimError,
)
from tessera.sim.fsim.fsim import FSim, SimResult, decode_program
from tessera.sim.fsim.state import FSimState

__all__ = [
    "FSim", "FSimState", "SimResult", "decode_program",
    "SimError", "DeadlockError", "DramBusError", "IllegalInsnError", "OutOfRangeError",
]
