"""``FSim``: the functional simulator's front door.

    sim = FSim(cfg, dram_bytes=64 << 20)
    sim.state.dram[addr : addr + n] = data          # or sim.write_dram(addr, bytes)
    result = sim.run(insns)                          # a list of Insn, or the encoded bytes
    result = sim.run(insn_addr=0x1000, insn_count=12)  # fetch from DRAM like the hardware
    result.cycles, result.counters, result.timeline

Semantics: ``dma`` (LOAD/STORE), ``gemm``, ``alu``, ``loops`` (the micro-op loop),
``validate`` (illegal instructions), ``scheduler`` (tokens, deadlock, counters) and ``cycles``
(the cycle model). The buffers persist across runs, as on the hardware.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from threadpoolctl import ThreadpoolController

from tessera.hw import isa as I
from tessera.hw.config import INSN_BITS, HwConfig
from tessera.hw.errors import EncodingError
from tessera.sim.fsim import alu, dma, gemm
from tessera.sim.fsim.errors import IllegalInsnError, OutOfRangeError
from tessera.sim.fsim.scheduler import CMD_DEPTH, run_schedule
from tessera.sim.fsim.state import FSimState
from tessera.sim.fsim.validate import check_program

log = logging.getLogger(__name__)
INSN_BYTES = INSN_BITS // 8


@dataclass
class SimResult:
    """Cycles and counters (``tessera.hw.regmap.COUNTERS`` names) of one run."""

    cycles: int
    counters: dict[str, int]
    wall_s: float
    timeline: list[tuple[str, str, int, int]] | None = None
    insn_spans: list[tuple[int, str, int, int]] | None = None
    extra: dict[str, int] = field(default_factory=dict)


class FSim:
    """A functional simulator of one accelerator with its own DRAM."""

    def __init__(
        self,
        cfg: HwConfig | None = None,
        dram_bytes: int = 64 << 20,
        blas_threads: int = 1,
        cmd_depth: int | None = CMD_DEPTH,
    ) -> None:
        self.cfg = cfg or HwConfig.default()
        self.state = FSimState(self.cfg, dram_bytes)
        self.blas_threads = blas_threads
        self.cmd_depth = cmd_depth

    # ------------------------------------------------------------------ DRAM access
    def write_dram(self, addr: int, data: bytes) -> None:
        self._check_dram(addr, len(data))
        self.state.dram[addr : addr + len(data)] = memoryview(bytes(data))

    def read_dram(self, addr: int, nbytes: int) -> bytes:
        self._check_dram(addr, nbytes)
        return self.state.dram[addr : addr + nbytes].tobytes()

    def _check_dram(self, addr: int, nbytes: int) -> None:
        size = len(self.state.dram)
        if addr < 0 or nbytes < 0 or addr + nbytes > size:
            raise OutOfRangeError(
                f"DRAM access [0x{addr:x}, 0x{addr + nbytes:x}) must lie within the "
                f"{size}-byte DRAM"
            )

    # ------------------------------------------------------------------ running
    def fetch(self, insn_addr: int, insn_count: int) -> list[I.Insn]:
        """Decode ``insn_count`` instructions from DRAM at byte address ``insn_addr``."""
        if insn_addr % INSN_BYTES:
            raise OutOfRangeError(
                f"insn_addr must be {INSN_BYTES}-byte aligned, not 0x{insn_addr:x}"
            )
        raw = self.read_dram(insn_addr, insn_count * INSN_BYTES)
        return decode_program(raw, self.cfg)

    def run(
        self,
        program: Sequence[I.Insn] | bytes | None = None,
        *,
        insn_addr: int | None = None,
        insn_count: int | None = None,
        timeline: bool = False,
    ) -> SimResult:
        """Run a program to FINISH: a list of instructions, their encoded bytes, or
        ``insn_count`` instructions fetched from DRAM at ``insn_addr``."""
        start = time.perf_counter()
        if program is None:
            if insn_addr is None or insn_count is None:
                raise TypeError("run() needs a program or both insn_addr and insn_count")
            insns = self.fetch(insn_addr, insn_count)
        elif isinstance(program, (bytes, bytearray, memoryview)):
            insns = decode_program(bytes(program), self.cfg)
        else:
            insns = list(program)
        finish = check_program(insns)
        # One BLAS thread: the products are small, and a multi-threaded BLAS on a busy machine
        # spins (measured 17x slower with two threads under load).
        with _blas().limit(limits=self.blas_threads, user_api="blas"):
            sched = run_schedule(self.cfg, insns, finish, self.execute, timeline=timeline,
                                 cmd_depth=self.cmd_depth)
        wall = time.perf_counter() - start
        log.debug("fsim: %d instructions, %d cycles, %.3f s", finish + 1, sched.cycles, wall)
        return SimResult(sched.cycles, sched.counters, wall, sched.timeline, sched.insn_spans)

    def execute(self, pc: int, insn: I.Insn) -> None:
        """Execute one (legal) instruction on the state, ignoring tokens and timing."""
        if isinstance(insn, I.MemInsn):
            (dma.store if insn.store else dma.load)(self.state, pc, insn)
        elif isinstance(insn, I.GemmInsn):
            gemm.gemm(self.state, pc, insn)
        elif isinstance(insn, I.AluInsn):
            alu.alu(self.state, pc, insn)


@lru_cache(maxsize=1)
def _blas() -> ThreadpoolController:
    """The process's thread pools, inspected once (inspecting costs about a millisecond)."""
    return ThreadpoolController()


@lru_cache(maxsize=1 << 16)
def _decode(word: int, cfg: HwConfig) -> I.Insn:
    return I.decode(word, cfg)  # programs repeat words a lot: decode each once


def decode_program(raw: bytes, cfg: HwConfig) -> list[I.Insn]:
    """Decode an instruction stream; a word that does not decode is an illegal instruction
    naming its index."""
    if len(raw) % INSN_BYTES:
        raise IllegalInsnError(
            f"an instruction stream must be a multiple of {INSN_BYTES} bytes, not {len(raw)}"
        )
    out: list[I.Insn] = []
    for pc in range(len(raw) // INSN_BYTES):
        word = int.from_bytes(raw[pc * INSN_BYTES : (pc + 1) * INSN_BYTES], "little")
        try:
            out.append(_decode(word, cfg))
        except EncodingError as err:
            raise IllegalInsnError(f"instruction {pc}: {err}", pc) from None
    return out
