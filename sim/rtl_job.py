"""A run of one program on the cocotb bench, as files in a job directory.

The host (``tessera.runtime.rtl_device``) writes a ``Job``; the testbench inside the simulator
process (``sim/cocotb_tests/top/test_top.py``) reads it, runs, and writes a ``JobResult``.
DRAM travels as 4 KiB pages: only the pages the host wrote go in, only the pages the design
wrote come back.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

PAGE = 4096


def _save_pages(path: Path, pages: dict[int, bytes]) -> None:
    index = np.array(sorted(pages), dtype=np.uint64)
    data = np.zeros((len(index), PAGE), dtype=np.uint8)
    for row, addr in enumerate(index):
        raw = pages[int(addr)]
        data[row, : len(raw)] = np.frombuffer(raw, dtype=np.uint8)
    np.savez(path, index=index, data=data)


def _load_pages(path: Path) -> Iterator[tuple[int, bytes]]:
    with np.load(path) as archive:
        index, data = archive["index"], archive["data"]
        for row in range(len(index)):
            yield int(index[row]), data[row].tobytes()


@dataclass
class Job:
    cfg: dict[str, Any]
    dram_bytes: int
    read_latency: int
    write_latency: int
    insn_addr: int
    insn_count: int
    max_cycles: int
    timeout_s: float
    watchdog: int | None = None
    poll: int = 64
    scoreboard: str = ""  # "module:function" computing the expected DRAM regions, or ""
    extra: dict[str, Any] = field(default_factory=dict)
    directory: Path | None = None

    def save(self, directory: Path, pages: dict[int, bytes]) -> None:
        directory.mkdir(parents=True, exist_ok=True)
        data = asdict(self)
        data.pop("directory")
        (directory / "job.json").write_text(json.dumps(data, indent=1))
        _save_pages(directory / "pages.npz", pages)

    @classmethod
    def load(cls, directory: Path) -> Job:
        data = json.loads((directory / "job.json").read_text())
        return cls(**data, directory=directory)

    def pages(self) -> Iterator[tuple[int, bytes]]:
        """(byte address, 4 KiB of data) of every page the host wrote."""
        assert self.directory is not None
        return _load_pages(self.directory / "pages.npz")


@dataclass
class JobResult:
    status: str  # done | error | cycle_limit | timeout
    registers: dict[str, int]
    sim_cycles: int
    wall_s: float
    written: dict[int, bytes] = field(default_factory=dict)

    def save(self, directory: Path) -> None:
        data = asdict(self)
        data.pop("written")
        (directory / "result.json").write_text(json.dumps(data, indent=1))
        _save_pages(directory / "written.npz", self.written)

    @classmethod
    def load(cls, directory: Path) -> JobResult:
        data = json.loads((directory / "result.json").read_text())
        written = dict(_load_pages(directory / "written.npz"))
        return cls(**data, written=written)
