"""fsim's cycle model: what each instruction costs on its unit (approximate; the RTL is exact).

All costs are in accelerator clock cycles and depend only on the instruction and the
configuration, so they are computed without executing anything:

- Fetch reads the instruction stream (16 bytes each) in bursts of at most ``max_burst`` bus
  beats; a burst costs ``dram_read_latency + beats``. An instruction can be dispatched when its
  burst has arrived.
- LOAD and STORE move ``y_size`` rows of ``x_size * entry_bytes`` bytes. Each row is split into
  bursts of at most ``max_burst`` beats of ``bus_bytes``; a row costs
  ``bursts * latency + beats`` (``dram_read_latency`` for LOAD, ``dram_write_latency`` for
  STORE). Each zero entry of the padding frame costs one cycle to write on chip. At least one
  cycle per instruction.
- GEMM issues one (o, i, u) iteration per cycle, plus ``GEMM_FILL`` cycles of pipeline fill
  (micro-op read, operand read, multiply, accumulate); a reset iteration also takes a cycle.
- ALU issues one iteration per cycle with an immediate (or reset) and one every two cycles
  with a tensor operand (two accumulator reads through one read port), plus ``ALU_FILL``.
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

GEMM_FILL = 4
ALU_FILL = 4
INSN_BYTES = INSN_BITS // 8


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def dma_cycles(cfg: HwConfig, insn: I.MemInsn) -> int:
    """Cycles of a LOAD or STORE on its unit."""
    kind = KIND_OF[I.MemType(insn.mem_type)]
    if insn.x_size == 0 or insn.y_size == 0:
        return 1
    latency = cfg.dram_write_latency if insn.store else cfg.dram_read_latency
    beats = _ceil(insn.x_size * cfg.entry_bytes(kind), cfg.bus_bytes)
    row = _ceil(beats, cfg.max_burst) * latency + beats
    window = (insn.y_pad_0 + insn.y_size + insn.y_pad_1) * (
        insn.x_pad_0 + insn.x_size + insn.x_pad_1
    )
    return max(1, insn.y_size * row + window - insn.y_size * insn.x_size)


def alu_issue_cycles(insn: I.AluInsn) -> int:
    """Cycles the vector ALU issues operations for ``insn`` (the alu_cycles counter)."""
    per = 1 if (insn.use_imm or insn.reset) else 2
    return per * iterations(insn)


def gemm_issue_cycles(insn: I.GemmInsn) -> int:
    """Cycles the GEMM core issues block products for ``insn`` (the gemm_cycles counter)."""
    return 0 if insn.reset else iterations(insn)


@lru_cache(maxsize=1 << 14)
def insn_cycles(cfg: HwConfig, insn: I.Insn) -> int:
    """Cycles ``insn`` keeps its unit busy, token waits excluded."""
    if isinstance(insn, I.MemInsn):
        return dma_cycles(cfg, insn)
    if isinstance(insn, I.GemmInsn):
        n = iterations(insn)
        return n + GEMM_FILL if n else 1
    if isinstance(insn, I.AluInsn):
        n = iterations(insn)
        return alu_issue_cycles(insn) + ALU_FILL if n else 1
    return 1


def fetch_times(cfg: HwConfig, count: int) -> tuple[list[int], list[tuple[int, int]]]:
    """(cycle at which each of ``count`` instructions has been fetched, busy intervals of the
    fetch unit, one per burst)."""
    beats_per_insn = max(1, INSN_BYTES // cfg.bus_bytes)
    per_burst = max(1, cfg.max_burst // beats_per_insn)
    times: list[int] = []
    bursts: list[tuple[int, int]] = []
    t = 0
    for first in range(0, count, per_burst):
        n = min(per_burst, count - first)
        end = t + cfg.dram_read_latency + n * beats_per_insn
        bursts.append((t, end))
        times += [end] * n
        t = end
    return times, bursts
