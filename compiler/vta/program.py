"""The accelerator program IR between lowering and code generation.

Operations name DRAM tensors symbolically (codegen places them) and carry their micro-op
kernels by content (codegen dedupes them into the micro-op cache). Each operation has the four
dependency flags of the instruction it becomes; lowering leaves them clear and
``inject_virtual_threads`` sets them.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.hw import isa as I

Kernel = tuple[tuple[int, int, int], ...]  # micro-ops: (dst, src, wgt) index triples


@dataclass(frozen=True)
class Flags:
    pop_prev: bool = False
    pop_next: bool = False
    push_prev: bool = False
    push_next: bool = False


@dataclass(frozen=True)
class Load:
    """DMA of a 2-D window of ``tensor`` (entries from ``dram_entry``) into a buffer."""

    mem: I.MemType
    tensor: str
    dram_entry: int
    sram_base: int
    y_size: int
    x_size: int
    x_stride: int
    pads: tuple[int, int, int, int] = (0, 0, 0, 0)  # y_pad_0, y_pad_1, x_pad_0, x_pad_1
    flags: Flags = Flags()

    @property
    def unit(self) -> str:
        return "load" if self.mem in (I.MemType.INP, I.MemType.WGT) else "compute"


@dataclass(frozen=True)
class Store:
    """DMA of output-buffer rows into ``tensor``."""

    tensor: str
    dram_entry: int
    sram_base: int
    y_size: int
    x_size: int
    x_stride: int
    flags: Flags = Flags()

    unit = "store"


@dataclass(frozen=True)
class Loop:
    """The two-level loop around a micro-op kernel: extents and per-operand factors."""

    iter_out: int = 1
    iter_in: int = 1
    dst: tuple[int, int] = (0, 0)
    src: tuple[int, int] = (0, 0)
    wgt: tuple[int, int] = (0, 0)


@dataclass(frozen=True)
class Gemm:
    """The tensorized block product over ``kernel`` (or a reset of its destinations)."""

    kernel: Kernel
    loop: Loop
    reset: bool = False
    flags: Flags = Flags()

    unit = "compute"


@dataclass(frozen=True)
class Alu:
    """An epilogue operation on accumulator entries: ``op`` with ``imm`` or ``acc[src]``."""

    kernel: Kernel
    loop: Loop
    op: I.AluOp
    imm: int | None = None
    flags: Flags = Flags()

    unit = "compute"


Op = Load | Store | Gemm | Alu
