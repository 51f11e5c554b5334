"""Small helpers shared by the fsim tests."""

from __future__ import annotations

import numpy as np

from tessera.hw import isa as I
from tessera.hw.config import HwConfig
from tessera.sim.fsim import FSim

SMALL = HwConfig.small()
DEFAULT = HwConfig.default()


def put(sim: FSim, addr: int, arr: np.ndarray) -> None:
    sim.write_dram(addr, np.ascontiguousarray(arr).tobytes())


def get(sim: FSim, addr: int, dtype: type, shape: tuple[int, ...]) -> np.ndarray:
    n = int(np.prod(shape)) * np.dtype(dtype).itemsize
    return np.frombuffer(sim.read_dram(addr, n), dtype=dtype).reshape(shape)


def uops(sim: FSim, addr: int, items: list[I.Uop], sram: int = 0) -> I.MemInsn:
    """Write micro-ops to DRAM at ``addr`` and return the LOAD that brings them on chip."""
    words = np.array([I.encode_uop(u, sim.cfg) for u in items], dtype="<u4")
    put(sim, addr, words)
    return I.MemInsn(mem_type=I.MemType.UOP, sram_base=sram, dram_base=addr // 4, y_size=1,
                     x_size=len(items), x_stride=len(items))


def run(sim: FSim, insns: list[I.Insn]) -> None:
    sim.run(insns + [I.FinishInsn()])


def rand_i8(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.integers(-128, 128, shape, dtype=np.int8)
