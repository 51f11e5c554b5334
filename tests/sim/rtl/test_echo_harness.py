"""The harnesses themselves, on the DMA-echo fixture (not the accelerator): rtl and rtl-fast
agree on DRAM and cycles, the DRAM latency and bus width are honoured, errors, watchdog, cycle
limit and waveforms end as they should."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest
from echo_fixture import echo_design, raw_program
from hypothesis import given, settings
from hypothesis import strategies as st

from tessera.hw.config import HwConfig
from tessera.runtime.device import DeviceError
from tessera.runtime.rtl_device import RtlDevice, RtlRunError
from tessera.runtime.rtl_fast_device import RtlFastDevice
from tessera.sim.verilator import fst_available

pytestmark = pytest.mark.verilator
DRAM = 1 << 20
RTL_DIR = Path(__file__).resolve().parent


def words(seed: int, n: int) -> list[int]:
    rnd = random.Random(seed)
    return [(rnd.getrandbits(128) & ~0x7) | rnd.randrange(5) for _ in range(n)]


def fast(cfg: HwConfig, **kw: object) -> RtlFastDevice:
    return RtlFastDevice(cfg, dram_bytes=DRAM, design=echo_design(cfg), timeout_s=60, **kw)


def slow(cfg: HwConfig, tmp_path: Path) -> RtlDevice:
    return RtlDevice(cfg, dram_bytes=DRAM, design=echo_design(cfg), timeout_s=120,
                     workdir=tmp_path, scoreboard="echo_fixture:echo_reference",
                     pythonpath=(str(RTL_DIR),))


def bursts(cfg: HwConfig, n: int, addr: int = 64) -> int:
    """Bursts the fixture issues each way for ``n`` words at ``addr`` (4 KiB splits)."""
    beat = cfg.bus_bytes
    count, src, dst, left = 0, addr, addr + 16 * n, 16 * n
    while left:
        chunk = min(left, cfg.max_burst * beat, 4096 - src % 4096, 4096 - dst % 4096)
        src, dst, left, count = src + chunk, dst + chunk, left - chunk, count + 1
    return count


def test_rtl_and_rtl_fast_agree_on_dram_and_cycles(small: HwConfig, echo_lib: Path,
                                                   tmp_path: Path) -> None:
    prog = raw_program(small, words(1, 40), name="echo40")
    a, b = fast(small), slow(small, tmp_path)
    ra, rb = a.run(prog), b.run(prog)
    expect = prog.to_bytes()
    assert a.read_dram(64 + 640, 640) == expect
    assert b.read_dram(64 + 640, 640) == expect
    assert ra.cycles == rb.cycles
    assert ra.counters == rb.counters
    assert ra.counters["insn_done"] == 40


def test_each_cycle_of_read_and_write_latency_shows_in_the_count(small: HwConfig,
                                                                echo_lib: Path) -> None:
    prog = raw_program(small, words(2, 24))
    n = bursts(small, 24)
    base = fast(small).run(prog).cycles
    slower_reads = dataclasses.replace(small, dram_read_latency=small.dram_read_latency + 10)
    slower_writes = dataclasses.replace(small, dram_write_latency=small.dram_write_latency + 3)
    read_prog = dataclasses.replace(prog, cfg=slower_reads)
    write_prog = dataclasses.replace(prog, cfg=slower_writes)
    assert fast(slower_reads).run(read_prog).cycles == base + 10 * n
    assert fast(slower_writes).run(write_prog).cycles == base + 3 * n


def test_a_wider_bus_needs_fewer_beats() -> None:
    wide = HwConfig.default()  # 64-bit bus
    small = dataclasses.replace(wide, dram_bus_bits=32, name="default32")
    n = 32
    narrow_cycles = fast(small).run(raw_program(small, words(3, n))).cycles
    wide_cycles = fast(wide).run(raw_program(wide, words(3, n))).cycles
    # Every word is 4 beats on 32 bits and 2 on 64, read and written; fewer, equal bursts.
    assert bursts(wide, n) == bursts(small, n) // 2
    assert wide_cycles < narrow_cycles


@settings(max_examples=25)
@given(n=st.integers(1, 200), seed=st.integers(0, 1 << 30), skew=st.integers(0, 255))
def test_any_stream_comes_back_exactly(small: HwConfig, echo_lib: Path, n: int, seed: int,
                                       skew: int) -> None:
    dev = fast(small)
    dev.alloc(16 * skew + 16)  # move the stream across 4 KiB boundaries
    prog = raw_program(small, words(seed, n))
    dev.run(prog)
    addr = 64 + ((16 * skew + 16 + 63) // 64) * 64
    assert dev.read_dram(addr + 16 * n, 16 * n) == prog.to_bytes()


def test_illegal_word_ends_in_the_error_state_on_both(small: HwConfig, echo_lib: Path,
                                                      tmp_path: Path) -> None:
    ws = words(4, 10)
    ws[3] |= 0x7
    prog = raw_program(small, ws, name="bad")
    for dev in (fast(small), slow(small, tmp_path)):
        with pytest.raises(RtlRunError) as info:
            dev.run(prog)
        assert str(info.value) == (
            f"{dev.name}: program 'bad' stopped with ILLEGAL_INSN at instruction 3 after "
            f"{info.value.cycles} cycles"
        )
        assert (info.value.code.name, info.value.pc) == ("ILLEGAL_INSN", 3)
    assert 40 < info.value.cycles < 200


def test_stalled_design_hits_the_watchdog(small: HwConfig, echo_lib: Path) -> None:
    ws = words(5, 4)
    ws[0] = (ws[0] & ~0x7) | 0x6
    with pytest.raises(RtlRunError, match=r"^rtl-fast: program 'hang' stopped with WATCHDOG"):
        fast(small).run(raw_program(small, ws, name="hang"), watchdog=300)


def test_bus_error_from_the_dram_model(small: HwConfig, echo_lib: Path) -> None:
    dev = RtlFastDevice(small, dram_bytes=1 << 16, design=echo_design(small))
    dev.alloc((1 << 16) - 64 - 256 - 64)  # the copy would run past the end of DRAM
    with pytest.raises(RtlRunError, match="stopped with BUS_ERROR at instruction 0"):
        dev.run(raw_program(small, words(6, 16), name="edge"))


def test_cycle_limit_is_an_error_not_a_hang(small: HwConfig, echo_lib: Path) -> None:
    with pytest.raises(DeviceError) as info:
        fast(small).run(raw_program(small, words(7, 64), name="long"), max_cycles=100)
    assert str(info.value) == (
        "rtl-fast: program 'long' must finish within 100 cycles, but was still running"
    )


def test_vcd_waveforms_from_both_devices(small: HwConfig, tmp_path: Path) -> None:
    prog = raw_program(small, words(8, 4))
    slow_result = slow(small, tmp_path).run(prog, waves="vcd")
    fast_result = fast(small, waves="vcd", wave_path=tmp_path / "fast.vcd").run(prog)
    for result in (slow_result, fast_result):
        assert result.waveform is not None and result.waveform.exists()
        text = result.waveform.read_text(errors="replace")
        assert "$enddefinitions" in text and "m_axi_arvalid" in text
    assert slow_result.cycles == fast_result.cycles


@pytest.mark.skipif(fst_available(), reason="lz4 headers present: FST works here")
def test_fst_without_lz4_is_a_clear_error(small: HwConfig, tmp_path: Path) -> None:
    with pytest.raises(DeviceError) as info:
        slow(small, tmp_path).run(raw_program(small, words(9, 1)), waves="fst")
    assert str(info.value) == (
        "rtl: FST waveforms need the lz4 headers (system package liblz4-dev), which are not "
        "installed; use waves='vcd'"
    )


def test_scoreboard_catches_a_wrong_result(small: HwConfig, tmp_path: Path) -> None:
    dev = RtlDevice(small, dram_bytes=DRAM, design=echo_design(small), timeout_s=120,
                    workdir=tmp_path, scoreboard="echo_fixture:wrong_reference",
                    pythonpath=(str(RTL_DIR),))
    with pytest.raises(DeviceError, match="the cocotb testbench failed"):
        dev.run(raw_program(small, words(10, 2)))


@pytest.mark.parametrize("kind", ["rtl-fast", "rtl"])
def test_wall_clock_limit_is_an_error_not_a_hang(kind: str, small: HwConfig,
                                                 tmp_path: Path) -> None:
    ws = words(11, 2)
    ws[0] = (ws[0] & ~0x7) | 0x6  # the fixture stops; the watchdog is set out of reach
    dev = fast(small) if kind == "rtl-fast" else slow(small, tmp_path)
    with pytest.raises(DeviceError) as info:
        dev.run(raw_program(small, ws, name="stuck"), watchdog=(1 << 32) - 1, timeout_s=1.5)
    assert str(info.value) == (
        f"{kind}: program 'stuck' must finish within 1.5 s of wall-clock time, but was still "
        "running"
    )
