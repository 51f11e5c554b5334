"""fsim's cycle model: what each instruction costs on its unit (approximate; the RTL is exact).

All costs are in accelerator clock cycles and depend only on the instruction and the
configuration, so they are computed without executing anything:

- Fetch reads the instruction stream (16 bytes each) with requests running ahead: the read
  latency once, then one bus beat per cycle. An instruction can be dispatched once read.
- LOAD and STORE move ``y_size`` rows of ``x_size * entry_bytes`` bytes, as bus beats of
  ``bus_bytes``. The DMA engines keep requests running ahead (the RTL allows several bursts
  outstanding), so the DRAM latency (``dram_read_latency`` for LOAD, ``dram_write_latency``
  for STORE) is paid once per instruction: ``latency + beats``, plus one cycle per zero entry
  of the padding frame written on chip. At least one cycle per instruction.
- GEMM and ALU run a three-stage pipeline (micro-op read; indices and buffer reads; product
  or ALU op and write-back) at one (o, i, u) iteration per cycle, ALU tensor-tensor ops
  included (the RTL keeps two accumulator copies): ``iterations + PIPELINE_FILL`` cycles; a
  reset iteration also takes a cycle.
- FINISH takes one cycle.
- DRAM contention between fetch, load and store is not modelled (each has the bus to itself).

Token waits (an empty queue to pop, a full queue to push) are stalls, counted by the scheduler.
"""

from __future__ import annotations

from functools import lru_cache

from tessera.hw import isa as I
from tessera.hw.config import INSN_BITS, HwConfig
from tessera.sim.fsim.dma import KIND_OF
from tessera.sim.fsim.loops import iterations

PIPELINE_FILL = 2  # stages after the first: the last iteration's result lands 2 cycles later
INSN_BYTES = INSN_BITS // 8


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def dma_cycles(cfg: HwConfig, insn: I.MemInsn) -> int:
    """Cycles of a LOAD or STORE on its unit."""
    kind = KIND_OF[I.MemType(insn.mem_type)]
    if insn.x_size == 0 or insn.y_size == 0:
        return 1
    latency = cfg.dram_write_latency if insn.store else cfg.dram_read_latency
    beats = insn.y_size * _ceil(insn.x_size * cfg.entry_bytes(kind), cfg.bus_bytes)
    window = (insn.y_pad_0 + insn.y_size + insn.y_pad_1) * (
        insn.x_pad_0 + insn.x_size + insn.x_pad_1
    )
    return max(1, latency + beats + window - insn.y_size * insn.x_size)


def alu_issue_cycles(insn: I.AluInsn) -> int:
    """Cycles the vector ALU issues operations for ``insn`` (the alu_cycles counter)."""
    return iterations(insn)


def gemm_issue_cycles(insn: I.GemmInsn) -> int:
    """Cycles the GEMM core issues block products for ``insn`` (the gemm_cycles counter)."""
    return 0 if insn.reset else iterations(insn)


@lru_cache(maxsize=1 << 14)
def insn_cycles(cfg: HwConfig, insn: I.Insn) -> int:
    """Cycles ``insn`` keeps its unit busy, token waits excluded."""
    if isinstance(insn, I.MemInsn):
        return dma_cycles(cfg, insn)
    if isinstance(insn, (I.GemmInsn, I.AluInsn)):
        n = iterations(insn)
        return n + PIPELINE_FILL if n else 1
    return 1


def fetch_times(cfg: HwConfig, count: int) -> tuple[list[int], list[tuple[int, int]]]:
    """(cycle at which each of ``count`` instructions has been read, busy intervals of the
    fetch unit). Fetch keeps burst requests running ahead like the DMA engines, so it pays
    the read latency once and then streams one bus beat per cycle."""
    beats_per_insn = max(1, INSN_BYTES // cfg.bus_bytes)
    times = [cfg.dram_read_latency + (k + 1) * beats_per_insn for k in range(count)]
    return times, ([(0, times[-1])] if times else [])
