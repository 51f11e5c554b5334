"""The architectural state the functional simulator executes on.

All of it is plain numpy, so tests (and the RTL scoreboard) can read it directly:

- ``dram``: ``uint8[dram_bytes]``, the device's flat byte-addressed DRAM (little-endian).
- ``uop``: ``uint32[uop_depth]``, the micro-op cache.
- ``inp``: ``int8[inp_depth, batch, block_in]``.
- ``wgt``: ``int8[wgt_depth, block_out, block_in]``.
- ``acc``: ``int32[acc_depth, batch, block_out]``.
- ``out``: ``int8[acc_depth, batch, block_out]``.

The GEMM path keeps float32 mirrors of ``inp`` and ``wgt`` (exact: every int8 value is a
float32 value); write those two buffers through ``write`` so the mirrors stay in step.
"""

from __future__ import annotations

import numpy as np

from tessera.hw.config import HwConfig

KINDS = ("uop", "inp", "wgt", "acc", "out")


def entry_shape(cfg: HwConfig, kind: str) -> tuple[int, ...]:
    """The numpy shape of one buffer entry of ``kind``."""
    return {
        "uop": (),
        "inp": (cfg.batch, cfg.block_in),
        "wgt": (cfg.block_out, cfg.block_in),
        "acc": (cfg.batch, cfg.block_out),
        "out": (cfg.batch, cfg.block_out),
    }[kind]


def entry_dtype(kind: str) -> np.dtype:
    """The little-endian numpy dtype of one value of a buffer of ``kind``."""
    return np.dtype({"uop": "<u4", "inp": "i1", "wgt": "i1", "acc": "<i4", "out": "i1"}[kind])


class FSimState:
    """DRAM plus the on-chip buffers of one accelerator instance."""

    def __init__(self, cfg: HwConfig, dram_bytes: int) -> None:
        if dram_bytes <= 0:
            raise ValueError(f"dram_bytes must be positive, not {dram_bytes}")
        self.cfg = cfg
        self.dram = np.zeros(dram_bytes, dtype=np.uint8)
        self.buffers: dict[str, np.ndarray] = {
            kind: np.zeros((cfg.depth(kind), *entry_shape(cfg, kind)), dtype=entry_dtype(kind))
            for kind in KINDS
        }
        self.inp_f = np.zeros(self.buffers["inp"].shape, dtype=np.float32)
        self.wgt_f = np.zeros(self.buffers["wgt"].shape, dtype=np.float32)

    @property
    def uop(self) -> np.ndarray:
        return self.buffers["uop"]

    @property
    def inp(self) -> np.ndarray:
        return self.buffers["inp"]

    @property
    def wgt(self) -> np.ndarray:
        return self.buffers["wgt"]

    @property
    def acc(self) -> np.ndarray:
        return self.buffers["acc"]

    @property
    def out(self) -> np.ndarray:
        return self.buffers["out"]

    def write(self, kind: str, start: int, data: np.ndarray) -> None:
        """Write entries ``[start, start + len(data))`` of buffer ``kind`` (bounds checked by
        the caller)."""
        end = start + len(data)
        self.buffers[kind][start:end] = data
        if kind == "inp":
            self.inp_f[start:end] = data
        elif kind == "wgt":
            self.wgt_f[start:end] = data

    def dram_entries(self, kind: str) -> np.ndarray:
        """DRAM viewed as whole entries of ``kind``: shape (n, entry_bytes), uint8."""
        size = self.cfg.entry_bytes(kind)
        n = len(self.dram) // size
        return self.dram[: n * size].reshape(n, size)

    def reset_buffers(self) -> None:
        """Zero the on-chip buffers (DRAM is kept)."""
        for buf in self.buffers.values():
            buf[...] = 0
        self.inp_f[...] = 0
        self.wgt_f[...] = 0
