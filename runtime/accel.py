"""Accelerator kernels as the runtime sees them: a relocatable program plus its DRAM tensors.

The compiler's accelerator back end (``tessera.compiler.codegen.vta``) produces an
``AccelKernel`` per fused group it offloads; artifacts store them and the graph executor runs
them on any ``Device`` (fsim, rtl, rtl-fast, a board) without importing the compiler.

A kernel owns one contiguous DRAM *region*. Every tensor it touches -- inputs, outputs,
constants (packed weights, biases, micro-op kernels) and scratch -- has a byte ``offset`` in
that region, and the program is compiled as if the region started at address 0: each
LOAD/STORE's ``dram_base`` counts entries from the region start. ``relocate`` rebases the
program onto wherever the device placed the region, so one compiled kernel runs at any
address (the region is aligned to ``REGION_ALIGN`` so every entry kind stays aligned).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from tessera.hw import isa as I
from tessera.hw.config import HwConfig
from tessera.runtime.device import Buffer, Device, DeviceError, Program, RunResult

REGION_ALIGN = 4096

Role = Literal["input", "output", "const", "scratch"]
_KIND = {
    I.MemType.UOP: "uop", I.MemType.WGT: "wgt", I.MemType.INP: "inp",
    I.MemType.ACC: "acc", I.MemType.OUT: "out",
}


@dataclass(frozen=True)
class DramTensor:
    """One tensor in a kernel's DRAM region, already in the accelerator's blocked layout."""

    name: str
    role: Role
    shape: tuple[int, ...]
    dtype: str
    offset: int

    @property
    def nbytes(self) -> int:
        return int(np.prod(self.shape, dtype=np.int64)) * np.dtype(self.dtype).itemsize


@dataclass(frozen=True)
class AccelKernel:
    """A compiled accelerator program with everything it needs in DRAM.

    ``consts`` holds the data of every ``const`` tensor (packed weights, biases, micro-ops);
    ``macs`` is the useful multiply-accumulates (for utilization); ``meta`` is free-form
    (layer name, schedule, tiling) for profiles.
    """

    name: str
    cfg: HwConfig
    insns: tuple[I.Insn, ...]
    tensors: tuple[DramTensor, ...]
    region_bytes: int
    consts: dict[str, np.ndarray] = field(default_factory=dict)
    macs: int = 0
    meta: dict[str, Any] = field(default_factory=dict)

    def tensor(self, name: str) -> DramTensor:
        for t in self.tensors:
            if t.name == name:
                return t
        raise DeviceError(
            f"kernel {self.name!r} has no tensor {name!r}; it has "
            f"{[t.name for t in self.tensors]}"
        )

    def role(self, role: Role) -> list[DramTensor]:
        return [t for t in self.tensors if t.role == role]

    # ----------------------------------------------------------------- execution
    def relocate(self, base: int) -> Program:
        """The program with every ``dram_base`` rebased onto a region at byte ``base``."""
        if base % REGION_ALIGN:
            raise DeviceError(
                f"kernel {self.name!r}: region base 0x{base:x} must be aligned to "
                f"{REGION_ALIGN} bytes"
            )
        out: list[I.Insn] = []
        for insn in self.insns:
            if isinstance(insn, I.MemInsn):
                step = self.cfg.entry_bytes(_KIND[insn.mem_type])
                insn = dataclasses.replace(insn, dram_base=insn.dram_base + base // step)
            out.append(insn)
        return Program(tuple(out), self.cfg, name=self.name)

    def load(self, device: Device) -> Buffer:
        """Allocate the region on ``device`` and copy the constants in."""
        if device.cfg != self.cfg:
            raise DeviceError(
                f"kernel {self.name!r} was compiled for configuration {self.cfg.name!r}, "
                f"not the device's {device.cfg.name!r}"
            )
        region = device.alloc(self.region_bytes, align=REGION_ALIGN)
        for t in self.role("const"):
            data = np.ascontiguousarray(self.consts[t.name], dtype=t.dtype)
            device.copy_in(region, data, offset=t.offset)
        return region

    def run(
        self, device: Device, inputs: dict[str, np.ndarray], region: Buffer | None = None,
        **options: Any,
    ) -> tuple[dict[str, np.ndarray], RunResult]:
        """Copy ``inputs`` (blocked arrays by tensor name) in, run, and copy the outputs out.

        Pass a ``region`` from ``load`` to reuse the constants across runs (the graph executor
        does); without one the kernel is loaded first.
        """
        region = region or self.load(device)
        for t in self.role("input"):
            if t.name not in inputs:
                raise DeviceError(f"kernel {self.name!r}: input {t.name!r} is missing")
            arr = np.ascontiguousarray(inputs[t.name], dtype=t.dtype)
            if arr.shape != t.shape:
                raise DeviceError(
                    f"kernel {self.name!r}: input {t.name!r} must have shape {t.shape}, "
                    f"not {arr.shape}"
                )
            device.copy_in(region, arr, offset=t.offset)
        result = device.run(self.relocate(region.addr), **options)
        outputs = {
            t.name: np.frombuffer(device.read_dram(region.addr + t.offset, t.nbytes), t.dtype)
            .reshape(t.shape)
            .copy()
            for t in self.role("output")
        }
        return outputs, result
