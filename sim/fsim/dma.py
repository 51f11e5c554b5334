"""LOAD and STORE: 2-D strided DMA between DRAM and the on-chip buffers (normative).

Addresses. ``dram_base`` and ``x_stride`` count *entries* of the instruction's memory type: the
DRAM byte address of entry ``e`` is ``e * cfg.entry_bytes(kind)`` (uop 4 bytes; inp
``batch*block_in``; wgt ``block_out*block_in``; acc ``4*batch*block_out``; out
``batch*block_out``). Entries are little-endian and row-major, exactly the numpy layout of the
buffer entry (see ``state``).

LOAD (mem_type UOP, INP, WGT or ACC). Row ``r`` of ``y_size`` rows reads the ``x_size``
entries from DRAM entry ``dram_base + r*x_stride``. The on-chip window is
``Y = y_pad_0 + y_size + y_pad_1`` rows of ``X = x_pad_0 + x_size + x_pad_1`` entries, written
densely from ``sram_base``: window cell ``(y, x)`` is buffer entry ``sram_base + y*X + x``;
cells in the pad frame are written with zeros. A LOAD of ACC writes only the accumulator (not
the output buffer). If ``x_size`` or ``y_size`` is 0 the instruction moves nothing and writes
nothing, not even its padding (a no-op that still honours its tokens).

STORE (mem_type OUT, no padding). Row ``r`` writes the ``x_size`` output-buffer entries from
``sram_base + r*x_size`` to DRAM entry ``dram_base + r*x_stride``. Rows are written in order,
so where ``x_stride < x_size`` makes rows overlap, the later row wins.

Range. ``sram_base + Y*X`` must be <= the buffer depth, and the last DRAM entry touched,
``dram_base + (y_size-1)*x_stride + x_size``, must be <= the number of whole entries in DRAM;
otherwise an ``OutOfRangeError`` names the instruction and the field.
"""

from __future__ import annotations

import numpy as np

from tessera.hw import isa as I
from tessera.sim.fsim.describe import where
from tessera.sim.fsim.errors import DramBusError, OutOfRangeError
from tessera.sim.fsim.state import FSimState, entry_dtype, entry_shape

KIND_OF = {
    I.MemType.UOP: "uop",
    I.MemType.WGT: "wgt",
    I.MemType.INP: "inp",
    I.MemType.ACC: "acc",
    I.MemType.OUT: "out",
}


def _dram_rows(state: FSimState, pc: int, insn: I.MemInsn, kind: str) -> np.ndarray:
    """Entry indices ``[y_size, x_size]`` of the DRAM window, range checked."""
    entries = len(state.dram) // state.cfg.entry_bytes(kind)
    last = insn.dram_base + (insn.y_size - 1) * insn.x_stride + insn.x_size
    if last > entries:
        raise DramBusError(
            f"{where(pc, insn)}: dram_base window end (dram_base + (y_size-1)*x_stride + "
            f"x_size) must be <= {entries} {kind} entries of DRAM, not {last}",
            pc,
        )
    rows = insn.dram_base + np.arange(insn.y_size, dtype=np.int64)[:, None] * insn.x_stride
    return rows + np.arange(insn.x_size, dtype=np.int64)[None, :]


def _check_sram(state: FSimState, pc: int, insn: I.MemInsn, kind: str, count: int) -> None:
    depth = state.cfg.depth(kind)
    if insn.sram_base + count > depth:
        raise OutOfRangeError(
            f"{where(pc, insn)}: sram_base window end (sram_base + {count} entries) must be "
            f"<= {depth} ({kind}_depth), not {insn.sram_base + count}",
            pc,
        )


def load(state: FSimState, pc: int, insn: I.MemInsn) -> None:
    """Execute a LOAD (already checked legal by ``validate``)."""
    if insn.x_size == 0 or insn.y_size == 0:
        return
    kind = KIND_OF[I.MemType(insn.mem_type)]
    cols = insn.x_pad_0 + insn.x_size + insn.x_pad_1
    rows = insn.y_pad_0 + insn.y_size + insn.y_pad_1
    _check_sram(state, pc, insn, kind, rows * cols)
    index = _dram_rows(state, pc, insn, kind)
    raw = state.dram_entries(kind)[index]  # [y_size, x_size, entry_bytes]
    shape = entry_shape(state.cfg, kind)
    data = raw.reshape(-1).view(entry_dtype(kind)).reshape(insn.y_size, insn.x_size, *shape)
    if rows * cols == insn.y_size * insn.x_size:
        window = data
    else:
        window = np.zeros((rows, cols, *shape), dtype=data.dtype)
        window[
            insn.y_pad_0 : insn.y_pad_0 + insn.y_size, insn.x_pad_0 : insn.x_pad_0 + insn.x_size
        ] = data
    state.write(kind, insn.sram_base, window.reshape(rows * cols, *shape))


def store(state: FSimState, pc: int, insn: I.MemInsn) -> None:
    """Execute a STORE of the output buffer (already checked legal by ``validate``)."""
    if insn.x_size == 0 or insn.y_size == 0:
        return
    count = insn.y_size * insn.x_size
    _check_sram(state, pc, insn, "out", count)
    index = _dram_rows(state, pc, insn, "out")
    data = state.out[insn.sram_base : insn.sram_base + count]
    raw = np.ascontiguousarray(data).view(np.uint8).reshape(insn.y_size, insn.x_size, -1)
    view = state.dram_entries("out")
    if insn.x_stride >= insn.x_size or insn.y_size == 1:
        view[index] = raw
    else:
        for r in range(insn.y_size):  # overlapping rows: the later row wins
            view[index[r]] = raw[r]
