"""The ``rtl`` and ``rtl-fast`` devices through the runtime's Device interface: registry,
DRAM, options and their errors. (Whole-program agreement with fsim: tests/sim/rtl.)"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

import tessera.runtime as rt
from tessera.hw import isa as I
from tessera.hw.config import HwConfig
from tessera.runtime.device import DeviceError, Program
from tessera.runtime.rtl_device import RtlDevice
from tessera.runtime.rtl_fast_device import RtlFastDevice

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sim" / "rtl"))
from echo_fixture import echo_design, raw_program  # noqa: E402

pytestmark = pytest.mark.verilator
SMALL = HwConfig.small()
DRAM = 1 << 20


@pytest.fixture(params=["rtl", "rtl-fast"])
def dev(request: pytest.FixtureRequest, tmp_path: Path) -> RtlDevice | RtlFastDevice:
    extra = {"workdir": tmp_path} if request.param == "rtl" else {}
    return rt.device(request.param, cfg=SMALL, dram_bytes=DRAM,  # type: ignore[return-value]
                     design=echo_design(SMALL), **extra)


def test_registry_gives_the_rtl_devices(dev: RtlDevice | RtlFastDevice) -> None:
    assert isinstance(dev, RtlDevice if dev.name == "rtl" else RtlFastDevice)
    assert dev.cfg == SMALL and dev.dram_bytes == DRAM


def test_buffers_round_trip_through_dram(dev: RtlDevice | RtlFastDevice) -> None:
    x = np.arange(-500, 500, dtype=np.int32)
    buf = dev.alloc(x.nbytes)
    dev.copy_in(buf, x)
    assert np.array_equal(dev.copy_out(buf, np.int32), x)
    assert dev.read_dram(0, 8) == bytes(8)
    dev.write_dram(DRAM - 4, b"\x01\x02\x03\x04")
    assert dev.read_dram(DRAM - 4, 4) == b"\x01\x02\x03\x04"


def test_dram_bounds_are_checked(dev: RtlDevice | RtlFastDevice) -> None:
    with pytest.raises(DeviceError) as info:
        dev.write_dram(DRAM - 2, b"1234")
    assert str(info.value) == (
        f"{dev.name}: DRAM access [0x{DRAM - 2:x}, 0x{DRAM + 2:x}) must lie within the "
        f"{DRAM}-byte DRAM"
    )
    with pytest.raises(DeviceError, match="must lie within"):
        dev.read_dram(DRAM, 1)


def test_a_run_leaves_the_result_in_dram_and_frees_the_stream(
        dev: RtlDevice | RtlFastDevice) -> None:
    prog = raw_program(SMALL, [0x10 * k for k in range(1, 9)], name="eight")
    result = dev.run(prog)
    assert result.counters["insn_done"] == 8
    assert result.cycles == result.counters["cycles"] > 0
    assert dev.read_dram(64 + 128, 128) == prog.to_bytes()
    assert dev.alloc(16).addr == 64  # the stream's buffer was freed


def test_unknown_option_and_wrong_configuration(dev: RtlDevice | RtlFastDevice) -> None:
    prog = Program((I.FinishInsn(),), SMALL, name="p")
    with pytest.raises(DeviceError) as info:
        dev.run(prog, speed="max")
    assert str(info.value) == f"{dev.name}: unknown run option(s) ['speed']"
    other = Program((I.FinishInsn(),), HwConfig.default(), name="q")
    with pytest.raises(DeviceError) as info:
        dev.run(other)
    assert str(info.value) == (
        f"{dev.name}: program 'q' must be built for configuration 'small', not 'default'"
    )


def test_rtl_fast_chooses_waves_at_creation() -> None:
    dev = RtlFastDevice(SMALL, dram_bytes=DRAM, design=echo_design(SMALL))
    with pytest.raises(DeviceError) as info:
        dev.run(raw_program(SMALL, [16]), waves="vcd")
    assert str(info.value) == (
        "rtl-fast: waves must be chosen when the device is created "
        "(RtlFastDevice(waves='vcd')), not per run ('vcd')"
    )
    with pytest.raises(DeviceError) as info:
        RtlFastDevice(SMALL, dram_bytes=DRAM, design=echo_design(SMALL), waves="fst")
    assert str(info.value) == "rtl-fast: waves must be None or 'vcd', not 'fst' (FST: use 'rtl')"


def test_closed_rtl_fast_device_says_so() -> None:
    with RtlFastDevice(SMALL, dram_bytes=DRAM, design=echo_design(SMALL)) as dev:
        pass
    with pytest.raises(DeviceError) as info:
        dev.read_dram(0, 4)
    assert str(info.value) == "rtl-fast: the device is closed"


def test_the_real_accelerator_is_the_default_design() -> None:
    pytest.importorskip("tessera.hw.rtl_sources")
    from tessera.hw.rtl_sources import rtl_sources

    if not all(Path(f).exists() for f in rtl_sources(SMALL).files):
        pytest.skip("tessera_top RTL not present yet")
    dev = rt.device("rtl-fast", cfg=SMALL, dram_bytes=DRAM)
    assert dev.design.top == "tessera_top"  # type: ignore[attr-defined]
    result = dev.run(Program((I.FinishInsn(),), SMALL, name="finish"))
    assert result.counters["insn_done"] >= 1
