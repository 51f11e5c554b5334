"""Static checks of the RTL: fresh parameter files, Verilator -Wall lint, pyverilog parse."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from tessera.hw.config import HwConfig
from tessera.hw.errors import ConfigError
from tessera.hw.isa import Opcode, insn_layout
from tessera.hw.rtl_params import PARAMS_FILE, render
from tessera.hw.rtl_sources import MODULES, RTL_DIR, rtl_sources

CONFIGS = ["default", "small"]
INCLUDE = re.compile(r'^\s*`include\s+"([^"]+)"\s*$', re.M)


@pytest.mark.parametrize("name", CONFIGS)
def test_checked_in_parameter_file_is_fresh(name: str) -> None:
    cfg = HwConfig.named(name)
    path = RTL_DIR / "gen" / name / PARAMS_FILE
    assert path.read_text() == render(cfg), (
        f"{path} is stale: run `python -m tessera.hw.rtl_params`"
    )


def test_parameter_file_carries_isa_layout() -> None:
    cfg = HwConfig.small()
    text = render(cfg)
    for f in insn_layout(cfg, Opcode.GEMM)[7:]:
        assert f"localparam integer F_GEMM_{f.name.upper()}_LSB = {f.lsb};" in text
        assert f"localparam integer F_GEMM_{f.name.upper()}_W = {f.width};" in text


def test_modified_config_gets_its_own_folder() -> None:
    cfg = HwConfig(block_in=8, block_out=8, name="default")
    src = rtl_sources(cfg)
    assert src.include_dirs[0].name == cfg.key()
    assert src.digest() != rtl_sources(HwConfig.default()).digest()


def test_rtl_refuses_a_bus_wider_than_an_instruction() -> None:
    cfg = HwConfig(dram_bus_bits=256, block_in=32, block_out=32, batch=1, wgt_depth=256,
                   inp_depth=1024, acc_depth=1024, name="wide")
    with pytest.raises(ConfigError, match="dram_bus_bits must be at most 128 for the RTL, not 256"):
        render(cfg)


def test_sources_are_every_module_once() -> None:
    src = rtl_sources(HwConfig.small())
    assert [f.stem for f in src.files] == list(MODULES)
    assert sorted(p.stem for p in RTL_DIR.glob("*.v")) == sorted(MODULES)
    for f in src.files:
        text = f.read_text()
        assert re.search(rf"^module {f.stem}\b", text, re.M), f"{f.name} must define {f.stem}"
        assert "`default_nettype none" in text
        assert "initial" not in re.sub(r"//.*", "", text), f"{f.name} must not use initial"


def _lint(cfg: HwConfig) -> subprocess.CompletedProcess[str]:
    from tessera.sim.verilator import setup_environment

    root = setup_environment()
    src = rtl_sources(cfg)
    cmd = [str(root / "bin" / "verilator"), "--lint-only", "-Wall", "--quiet",
           "--top-module", src.top, *[f"-I{d}" for d in src.include_dirs],
           *[str(f) for f in src.files]]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@pytest.mark.verilator
@pytest.mark.parametrize("name", CONFIGS)
def test_verilator_lint_wall_is_silent(name: str) -> None:
    proc = _lint(HwConfig.named(name))
    assert proc.returncode == 0 and proc.stdout + proc.stderr == "", proc.stdout + proc.stderr


def _inline(path: Path, include_dir: Path) -> str:
    """The file with its `include lines replaced by the included text (pyverilog has no
    preprocessor without iverilog)."""
    return INCLUDE.sub(lambda m: (include_dir / m.group(1)).read_text(), path.read_text())


@pytest.mark.parametrize("name", CONFIGS)
def test_pyverilog_parses_every_module(name: str, tmp_path: Path) -> None:
    from pyverilog.vparser.parser import VerilogParser

    src = rtl_sources(HwConfig.named(name))
    parser = VerilogParser(outputdir=str(tmp_path), debug=False)
    found = []
    for f in src.files:
        ast = parser.parse(_inline(f, src.include_dirs[0]), debug=False)
        found += [d.name for d in ast.description.definitions]
    assert found == list(MODULES)
