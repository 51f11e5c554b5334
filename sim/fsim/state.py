"""The architectural state the functional simulator executes on.

All of it is plain numpy, so tests (and the RTL scoreboard) can read it directly:

- ``dram``: ``uint8[dram_bytes]``, the device's flat byte-addressed DRAM (little-endian).
- ``uop``: ``uint32[uop_depth]``, the micro-op cache.
- ``inp``: ``int8[inp_depth, batch, block_in]``.
- ``wgt``: ``int8[wgt_depth, block_out, block_in]``.
- ``acc``: ``int32[acc_depth, batch, block_out]``.
- ``out``: ``int8[acc_depth, batch, block_out]``.

The GEMM path keeps float32 mirrors of ``inp`` and ``wgt`` (exact: every int8 value is a
float32 value), and GEMM/ALU cache their index plans per micro-op cache version: write
``inp``, ``wgt`` and ``uop`` through ``write`` (or call ``touch`` after writing them directly)
so that both stay in step.
"""

from __future__ import annotations

import numpy as np

from tessera.hw.config import HwConfig
from tessera.hw.errors import ConfigError

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
            raise ConfigError(f"dram_bytes must be positive, not {dram_bytes}")
        self.cfg = cfg
        self.dram = np.zeros(dram_bytes, dtype=np.uint8)
        self.buffers: dict[str, np.ndarray] = {
            kind: np.zeros((cfg.depth(kind), *entry_shape(cfg, kind)), dtype=entry_dtype(kind))
            for kind in KINDS
        }
        self.inp_f = np.zeros(self.buffers["inp"].shape, dtype=np.float32)
        self.wgt_f = np.zeros(self.buffers["wgt"].shape, dtype=np.float32)
        # The same, entry axis second: [batch, inp_depth, block_in], [block_out, wgt_depth,
        # block_in], so a gathered operand block is already a contiguous matrix (gemm_blas).
        self.inp_t = np.zeros((cfg.batch, cfg.inp_depth, cfg.block_in), dtype=np.float32)
        self.wgt_t = np.zeros((cfg.block_out, cfg.wgt_depth, cfg.block_in), dtype=np.float32)
        # Bumped whenever the micro-op cache changes; GEMM/ALU index plans are cached per
        # (instruction, uop_version) in ``plans``.
        self.uop_version = 0
        self.plans: dict[object, tuple[int, object]] = {}

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
            self.inp_t[:, start:end] = self.inp_f[start:end].transpose(1, 0, 2)
        elif kind == "wgt":
            self.wgt_f[start:end] = data
            self.wgt_t[:, start:end] = self.wgt_f[start:end].transpose(1, 0, 2)
        elif kind == "uop":
            self.uop_version += 1

    def touch(self) -> None:
        """Resynchronize after writing ``inp``, ``wgt`` or ``uop`` directly."""
        self.write("inp", 0, self.inp.copy())
        self.write("wgt", 0, self.wgt.copy())
        self.uop_version += 1

    def dram_entries(self, kind: str) -> np.ndarray:
        """DRAM viewed as whole entries of ``kind``: shape (n, entry_bytes), uint8."""
        size = self.cfg.entry_bytes(kind)
        n = len(self.dram) // size
        return self.dram[: n * size].reshape(n, size)

    def reset_buffers(self) -> None:
        """Zero the on-chip buffers (DRAM is kept)."""
        for buf in self.buffers.values():
            buf[...] = 0
        for mirror in (self.inp_f, self.wgt_f, self.inp_t, self.wgt_t):
            mirror[...] = 0
        self.uop_version += 1
