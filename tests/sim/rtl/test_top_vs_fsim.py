"""The accelerator's RTL (tessera_top) against the functional simulator: random valid programs
(hypothesis; blocked GEMMs run with the fsim unit cases), the cocotb bench with its fsim
scoreboard, rtl == rtl-fast to the cycle, and the error states (illegal instruction,
deadlock -> watchdog) with their exact messages."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rtl_helpers import REPORT, DifferentialFSim, requires_top

from tessera.hw import isa as I
from tessera.hw.config import HwConfig
from tessera.runtime.device import DeviceError, Program
from tessera.runtime.rtl_device import RtlDevice, RtlRunError
from tessera.runtime.rtl_fast_device import RtlFastDevice
from tessera.sim.fsim import FSim
from tessera.sim.fsim.random_program import random_program

pytestmark = [pytest.mark.verilator, requires_top]
DRAM = 4 << 20
SCOREBOARD = "tessera.sim.cocotb_tests.top.scoreboard:fsim_reference"


def on_both(cfg: HwConfig, seed: int, length: int) -> None:
    rp = random_program(cfg, seed, length=length)
    sim = DifferentialFSim(cfg, DRAM)
    sim.write_dram(rp.dram_base, rp.image)
    sim.run(list(rp.insns))  # raises on any difference


@given(seed=st.integers(0, 1 << 31), length=st.integers(1, 40))
def test_random_programs_agree_with_fsim_small(seed: int, length: int) -> None:
    on_both(HwConfig.small(), seed, length)


@pytest.mark.slow
@settings(max_examples=300)
@given(seed=st.integers(0, 1 << 31), length=st.integers(1, 120))
def test_random_programs_agree_with_fsim_small_many(seed: int, length: int) -> None:
    on_both(HwConfig.small(), seed, length)


@pytest.mark.slow
@settings(max_examples=60)
@given(seed=st.integers(0, 1 << 31), length=st.integers(1, 40))
def test_random_programs_agree_with_fsim_default(seed: int, length: int) -> None:
    on_both(HwConfig.default(), seed, length)


def test_the_differential_check_catches_a_wrong_byte() -> None:
    class Broken(DifferentialFSim):
        def execute(self, pc: int, insn: I.Insn) -> None:
            super().execute(pc, insn)
            if isinstance(insn, I.MemInsn) and insn.store:
                self.state.dram[1 << 12] ^= 1  # fsim goes wrong on every STORE

    cfg = HwConfig.small()
    rp = random_program(cfg, 3, length=10)
    sim = Broken(cfg, DRAM)
    sim.write_dram(rp.dram_base, rp.image)
    with pytest.raises(AssertionError, match="RTL and fsim DRAM differ first at 0x1000"):
        sim.run(list(rp.insns))


def test_rtl_bench_with_fsim_scoreboard_equals_rtl_fast(tmp_path: Path) -> None:
    cfg = HwConfig.small()
    for seed in (11, 12):
        rp = random_program(cfg, seed, length=12)
        prog = Program(rp.insns, cfg, name=f"random{seed}")
        slow = RtlDevice(cfg, dram_bytes=DRAM, scoreboard=SCOREBOARD, workdir=tmp_path,
                         timeout_s=300)
        fast = RtlFastDevice(cfg, dram_bytes=DRAM)
        for dev in (slow, fast):
            dev.write_dram(rp.dram_base, rp.image)
        a, b = slow.run(prog), fast.run(prog)
        assert (a.cycles, a.counters) == (b.cycles, b.counters)
        assert slow.read_dram(0, DRAM) == fast.read_dram(0, DRAM)
        REPORT.append((f"cocotb bench random{seed}", a.cycles, FSim(cfg).run(
            list(rp.insns)).cycles))


def illegal_program(cfg: HwConfig) -> Program:
    """Two good instructions, then a word with opcode 6 (no such opcode)."""
    good = [I.MemInsn(mem_type=I.MemType.INP, x_size=1, x_stride=1),
            I.GemmInsn(reset=True, uop_end=1)]

    class Raw(Program):
        def to_bytes(self) -> bytes:
            return I.program_bytes(good, cfg) + (6).to_bytes(16, "little") + I.program_bytes(
                [I.FinishInsn()], cfg)

    return Raw(tuple([*good, I.FinishInsn(), I.FinishInsn()]), cfg, name="illegal")


def deadlock_program(cfg: HwConfig) -> Program:
    """A GEMM waits for a token from the load unit that no instruction ever pushes."""
    return Program((I.GemmInsn(uop_end=1, pop_prev=True), I.FinishInsn()), cfg,
                   name="deadlock")


@pytest.mark.parametrize("kind", ["rtl-fast", "rtl"])
def test_illegal_instruction_ends_in_the_error_state(kind: str, tmp_path: Path) -> None:
    cfg = HwConfig.small()
    dev = (RtlFastDevice(cfg, dram_bytes=DRAM) if kind == "rtl-fast"
           else RtlDevice(cfg, dram_bytes=DRAM, workdir=tmp_path, timeout_s=300))
    with pytest.raises(RtlRunError) as info:
        dev.run(illegal_program(cfg))
    err = info.value
    assert str(err) == (
        f"{kind}: program 'illegal' stopped with ILLEGAL_INSN at instruction 2 after "
        f"{err.cycles} cycles"
    )
    assert err.cycles < 1000


@pytest.mark.parametrize("kind", ["rtl-fast", "rtl"])
def test_deadlock_ends_in_the_watchdog_state(kind: str, tmp_path: Path) -> None:
    cfg = HwConfig.small()
    dev = (RtlFastDevice(cfg, dram_bytes=DRAM) if kind == "rtl-fast"
           else RtlDevice(cfg, dram_bytes=DRAM, workdir=tmp_path, timeout_s=300))
    with pytest.raises(RtlRunError) as info:
        dev.run(deadlock_program(cfg), watchdog=2000)
    err = info.value
    assert str(err).startswith(f"{kind}: program 'deadlock' stopped with WATCHDOG at instruction")
    assert 2000 <= err.cycles < 2000 + 500  # within the watchdog window


def test_cycle_limit_on_the_real_design() -> None:
    cfg = HwConfig.small()
    with pytest.raises(DeviceError) as info:
        RtlFastDevice(cfg, dram_bytes=DRAM).run(deadlock_program(cfg), max_cycles=300)
    assert str(info.value) == (
        "rtl-fast: program 'deadlock' must finish within 300 cycles, but was still running"
    )


@pytest.mark.slow
def test_rtl_bench_equals_rtl_fast_on_the_default_configuration(tmp_path: Path) -> None:
    cfg = HwConfig.default()
    rp = random_program(cfg, 21, length=10)
    prog = Program(rp.insns, cfg, name="random21")
    slow = RtlDevice(cfg, dram_bytes=DRAM, scoreboard=SCOREBOARD, workdir=tmp_path,
                     timeout_s=1200)
    fast = RtlFastDevice(cfg, dram_bytes=DRAM)
    for dev in (slow, fast):
        dev.write_dram(rp.dram_base, rp.image)
    a, b = slow.run(prog), fast.run(prog)
    assert (a.cycles, a.counters) == (b.cycles, b.counters)
    assert slow.read_dram(0, DRAM) == fast.read_dram(0, DRAM)


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_rtl_fast_timeline_adds_up_to_the_counters(seed: int) -> None:
    """The rtl-fast timeline (the design's events_o at every change) gives each unit's busy
    and stall time exactly as its counter does, the intervals of one unit and kind do not
    overlap, and a run without the option has no timeline and the same cycles."""
    cfg = HwConfig.small()
    rp = random_program(cfg, seed, length=30)
    prog = Program(rp.insns, cfg, name=f"random{seed}")
    dev = RtlFastDevice(cfg, dram_bytes=DRAM)
    dev.write_dram(rp.dram_base, rp.image)
    plain = dev.run(prog)
    dev.write_dram(rp.dram_base, rp.image)
    res = dev.run(prog, timeline=True)
    assert plain.timeline is None and res.timeline
    assert (res.cycles, res.counters) == (plain.cycles, plain.counters)
    for unit in ("fetch", "load", "compute", "store"):
        for kind in ("busy", "stall"):
            spans = sorted((a, b) for u, k, a, b in res.timeline if (u, k) == (unit, kind))
            assert all(a < b for a, b in spans)
            assert all(b0 <= a1 for (_, b0), (a1, _) in zip(spans, spans[1:]))
            assert sum(b - a for a, b in spans) == res.counters[f"{unit}_{kind}"], (unit, kind)
    assert max(b for *_, b in res.timeline) <= res.cycles + 16  # ends with the run
