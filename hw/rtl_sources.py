"""Where the accelerator's Verilog lives, for simulators, linters and synthesis.

``rtl_sources(cfg)`` names every ``.v`` file of the design (in an order with no forward
references, so tools that want one are happy), the include directory holding ``cfg``'s
generated ``tessera_params.vh`` (see ``tessera.hw.rtl_params``), the top module and a digest of
all of it for build caching. The RTL is configured only through that include directory: there
are no ``-G`` parameter overrides and no macros, so ``parameters`` and ``defines`` are empty.

Top-level ports of ``tessera_top`` (the AXI names carry no ``_i``/``_o`` suffix so that
cocotbext-axi's ``from_prefix`` finds them): ``clk_i``, ``rst_ni`` (active-low, synchronous),
the AXI4-Lite slave ``s_axil_*`` (32-bit data, 8-bit address), the AXI4 master ``m_axi_*``
(32-bit address, ``cfg.dram_bus_bits`` data, 1-bit IDs) and ``irq_o``.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

from tessera.hw.config import HwConfig
from tessera.hw.rtl_params import PARAMS_FILE, gen_dir, render

RTL_DIR = Path(__file__).resolve().parent / "rtl"

# Leaf modules first, the top last.
MODULES = (
    "tessera_ram",
    "tessera_fifo",
    "tessera_token_queue",
    "tessera_axil_slave",
    "tessera_dma_reader",
    "tessera_axi_rd_arbiter",
    "tessera_loader",
    "tessera_fetch",
    "tessera_load",
    "tessera_store",
    "tessera_gemm_core",
    "tessera_alu_lanes",
    "tessera_compute",
    "tessera_control",
    "tessera_top",
)


@dataclass(frozen=True)
class RtlSources:
    """The design's files for one configuration."""

    files: tuple[Path, ...]
    include_dirs: tuple[Path, ...]
    config: HwConfig
    top: str = "tessera_top"
    defines: dict[str, int] = field(default_factory=dict)
    parameters: dict[str, int] = field(default_factory=dict)

    def digest(self) -> str:
        """sha256 over every source, the parameter file and the configuration."""
        h = hashlib.sha256()
        h.update(self.config.to_json().encode())
        h.update(self.top.encode())
        for path in (*self.files, *(d / PARAMS_FILE for d in self.include_dirs)):
            h.update(path.name.encode())
            h.update(path.read_bytes() if path.exists() else b"<missing>")
        return h.hexdigest()

    def module_file(self, module: str) -> Path:
        """The file that holds ``module``."""
        for path in self.files:
            if path.stem == module:
                return path
        raise KeyError(f"module must be one of {[p.stem for p in self.files]}, not {module!r}")


def ensure_params(cfg: HwConfig) -> Path:
    """The include directory of ``cfg``, writing its parameter file when missing or stale."""
    folder = gen_dir(cfg)
    path = folder / PARAMS_FILE
    text = render(cfg)
    if not path.exists() or path.read_text() != text:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return folder


def rtl_sources(cfg: HwConfig) -> RtlSources:
    """The RTL of the accelerator configured by ``cfg``."""
    files = tuple(RTL_DIR / f"{m}.v" for m in MODULES)
    return RtlSources(files=files, include_dirs=(ensure_params(cfg),), config=cfg)
