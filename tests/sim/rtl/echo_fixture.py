"""The DMA-echo test fixture (``fixtures/echo_fixture_top.v``) as a design, and its reference.

Not the accelerator: a small design with the accelerator's ports and register map that
copies its instruction stream, for testing the harnesses themselves.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from tessera.hw.config import HwConfig
from tessera.hw.isa import FinishInsn
from tessera.runtime.device import Program
from tessera.sim.verilator import Design

FIXTURE = Path(__file__).resolve().parent / "fixtures" / "echo_fixture_top.v"
INSN_BYTES = 16


def echo_design(cfg: HwConfig) -> Design:
    return Design(
        files=(FIXTURE,), top="echo_fixture_top",
        parameters={"DATA_W": cfg.dram_bus_bits, "MAX_BURST": min(cfg.max_burst, 16)},
    )


@dataclass(frozen=True)
class RawProgram(Program):
    """A program given as raw 16-byte words (for words no ``Insn`` can encode)."""

    raw: bytes = b""

    def to_bytes(self) -> bytes:
        return self.raw


def raw_program(cfg: HwConfig, words: list[int], name: str = "raw") -> RawProgram:
    raw = b"".join(w.to_bytes(INSN_BYTES, "little") for w in words)
    return RawProgram(insns=tuple(FinishInsn() for _ in words), cfg=cfg, name=name, raw=raw)


def echo_reference(job: object) -> dict[int, bytes]:
    """The scoreboard for the fixture: the stream must appear again right after itself."""
    insn_addr, count = job.insn_addr, job.insn_count  # type: ignore[attr-defined]
    image = dict(job.pages())  # type: ignore[attr-defined]
    data = bytearray()
    for k in range(count * INSN_BYTES):
        addr = insn_addr + k
        page = image.get(addr & ~0xFFF, bytes(4096))
        data.append(page[addr & 0xFFF])
    return {insn_addr + count * INSN_BYTES: bytes(data)}


def wrong_reference(job: object) -> dict[int, bytes]:
    """A deliberately wrong scoreboard (one bit flipped), to show the bench fails on it."""
    expected = echo_reference(job)
    addr, data = next(iter(expected.items()))
    return {addr: bytes([data[0] ^ 1]) + data[1:]}
