"""Tokens, deadlock, FINISH, malformed programs, the cycle model and random programs."""

from __future__ import annotations

import numpy as np
import pytest
from fsim_helpers import DEFAULT, SMALL
from fsim_reference import Reference
from hypothesis import given, settings
from hypothesis import strategies as st

from tessera.hw import isa as I
from tessera.hw.regmap import COUNTERS
from tessera.sim.fsim import DeadlockError, FSim, IllegalInsnError, random_program

INP = I.MemType.INP
FIN = I.FinishInsn()


def test_cycle_model_of_a_small_program() -> None:
    sim = FSim(SMALL, 1 << 14)
    load = I.MemInsn(mem_type=INP, x_size=4, x_stride=4, push_next=True)
    res = sim.run([load, I.GemmInsn(uop_end=0, pop_prev=True), FIN], timeline=True)
    # fetch: the latency, then 4 beats per instruction: read at 36, 40 and 44 cycles.
    # LOAD: 16 bytes = 4 beats: 32 + 4 = 36 cycles, from 36 to 72.
    # GEMM (empty loop, 1 cycle), dispatched at 40, waits for the token: 72 to 73.
    # FINISH: 73 to 74.
    assert res.cycles == 74
    assert res.counters == {
        "cycles": 74, "fetch_busy": 44, "fetch_stall": 0, "load_busy": 36, "load_stall": 0,
        "compute_busy": 2, "compute_stall": 32, "store_busy": 0, "store_stall": 0,
        "gemm_cycles": 0, "alu_cycles": 0, "insn_done": 3,
    }
    assert set(res.counters) == set(COUNTERS)
    assert res.timeline is not None
    assert ("compute", "stall", 40, 72) in res.timeline
    assert ("load", "busy", 36, 72) in res.timeline
    assert res.insn_spans == [(0, "load", 36, 72), (1, "compute", 72, 73),
                              (2, "compute", 73, 74)]


def test_gemm_and_alu_issue_counters() -> None:
    sim = FSim(SMALL, 1 << 14)
    res = sim.run([I.GemmInsn(uop_end=2, iter_out=3, iter_in=5),
                   I.AluInsn(uop_end=1, iter_out=4), I.AluInsn(uop_end=1, use_imm=True), FIN])
    assert res.counters["gemm_cycles"] == 30
    assert res.counters["alu_cycles"] == 4 + 1
    assert res.counters["compute_busy"] == (30 + 2) + (4 + 2) + (1 + 2) + 1


def test_single_deadlock_message() -> None:
    with pytest.raises(DeadlockError) as err:
        FSim(SMALL, 1 << 14).run([I.GemmInsn(pop_prev=True), FIN])
    assert str(err.value) == ("deadlock: instruction 0 (GEMM on compute) waits on an empty l2c "
                              "queue that no pending instruction will fill")
    assert err.value.pc == 0


def test_deadlock_names_every_blocked_unit() -> None:
    prog = [I.MemInsn(mem_type=INP, pop_next=True), I.GemmInsn(pop_prev=True),
            I.MemInsn(store=True, mem_type=I.MemType.OUT, pop_prev=True), FIN]
    with pytest.raises(DeadlockError) as err:
        FSim(SMALL, 1 << 14).run(prog)
    assert str(err.value) == (
        "deadlock: instruction 0 (LOAD INP on load) waits on an empty c2l queue that no "
        "pending instruction will fill; instruction 1 (GEMM on compute) waits on an empty l2c "
        "queue that no pending instruction will fill; instruction 2 (STORE OUT on store) waits "
        "on an empty c2s queue that no pending instruction will fill"
    )


def test_push_to_a_full_queue_blocks_and_deadlocks() -> None:
    loads = [I.MemInsn(mem_type=INP, push_next=True) for _ in range(SMALL.token_depth + 1)]
    with pytest.raises(DeadlockError) as err:
        FSim(SMALL, 1 << 14).run(loads + [FIN])
    assert str(err.value) == (
        f"deadlock: instruction {SMALL.token_depth} (LOAD INP on load) waits for room in a "
        "full l2c queue that no pending instruction will drain"
    )


def test_full_queue_drains_when_the_consumer_pops() -> None:
    n = SMALL.token_depth + 5
    prog = [I.MemInsn(mem_type=INP, push_next=True) for _ in range(n)]
    prog += [I.GemmInsn(uop_end=0, pop_prev=True) for _ in range(n)] + [FIN]
    res = FSim(SMALL, 1 << 14).run(prog)
    assert res.counters["insn_done"] == 2 * n + 1
    assert res.counters["load_stall"] == 0  # compute keeps up with 1-cycle GEMMs


def test_finish_waits_for_the_other_units_to_drain() -> None:
    sim = FSim(SMALL, 1 << 14)
    sim.state.out[0] = 5
    res = sim.run([I.MemInsn(store=True, mem_type=I.MemType.OUT, dram_base=16, x_size=1), FIN])
    assert sim.state.dram[64:68].tolist() == [5, 5, 5, 5]
    assert res.counters["insn_done"] == 2


def test_instructions_after_finish_are_not_run() -> None:
    sim = FSim(SMALL, 1 << 14)
    res = sim.run([FIN, I.AluInsn(alu_op=I.AluOp.ADD, use_imm=True, imm=3, uop_end=1),
                   I.MemInsn(mem_type=I.MemType.OUT)])  # even an illegal one
    assert res.counters["insn_done"] == 1
    assert np.all(sim.state.acc == 0)


def test_program_without_finish() -> None:
    with pytest.raises(IllegalInsnError) as err:
        FSim(SMALL, 1 << 14).run([I.GemmInsn(), I.GemmInsn()])
    assert str(err.value) == ("program must end with FINISH, but none of its 2 instructions "
                              "is one")


def test_malformed_instruction_stream() -> None:
    sim = FSim(SMALL, 1 << 14)
    good = I.program_bytes([I.GemmInsn(), FIN], SMALL)
    with pytest.raises(IllegalInsnError) as err:
        sim.run(good[:16] + bytes([7]) + bytes(15))
    assert str(err.value) == "instruction 1: opcode must be one of 0..4, not 7"
    with pytest.raises(IllegalInsnError) as err:
        sim.run(good[:20])
    assert str(err.value) == "an instruction stream must be a multiple of 16 bytes, not 20"
    bad_alu = (3 | (7 << (7 + 1 + 10 + 11 + 28 + 36))).to_bytes(16, "little")
    with pytest.raises(IllegalInsnError) as err:
        sim.run(bad_alu + good[16:])
    assert str(err.value).startswith("instruction 0: ALU.alu_op must be one of 0..4")


def test_run_from_dram_like_the_hardware() -> None:
    sim = FSim(SMALL, 1 << 14)
    sim.write_dram(0x200, I.program_bytes(
        [I.AluInsn(alu_op=I.AluOp.ADD, use_imm=True, imm=-2, uop_end=1), FIN], SMALL))
    sim.run(insn_addr=0x200, insn_count=2)
    assert sim.state.acc[0, 0].tolist() == [-2] * 4


@settings(max_examples=25)
@given(seed=st.integers(0, 2**32 - 1))
def test_random_programs_equal_the_sequential_reference(seed: int) -> None:
    for cfg in (SMALL, DEFAULT):
        prog = random_program.random_program(cfg, seed, length=12)
        sim = random_program.run_on_fsim(prog, 1 << 18)
        ref = Reference(cfg, np.zeros(1 << 18, np.uint8))
        ref.dram[prog.dram_base : prog.dram_base + len(prog.image)] = np.frombuffer(
            prog.image, np.uint8)
        ref.run(list(prog.insns))
        for kind in ("acc", "out", "inp", "wgt", "uop"):
            assert np.array_equal(sim.state.buffers[kind], ref.buf[kind]), kind
        assert np.array_equal(sim.state.dram, ref.dram)


def test_a_full_command_queue_stalls_fetch() -> None:
    prog = [I.MemInsn(mem_type=INP, x_size=4, x_stride=4) for _ in range(40)] + [FIN]
    bounded = FSim(SMALL, 1 << 14).run(prog)
    free = FSim(SMALL, 1 << 14, cmd_depth=None).run(prog)
    assert free.counters["fetch_stall"] == 0
    assert bounded.counters["fetch_stall"] > 0
    assert bounded.cycles == free.cycles  # the load unit is the bottleneck either way


def test_a_full_command_queue_can_deadlock() -> None:
    """17 loads wait on tokens that compute instructions behind them in the stream would
    give; with 16-entry command queues fetch never reaches those (as in the RTL)."""
    n = 18
    prog = [I.MemInsn(mem_type=INP, pop_next=True) for _ in range(n)]
    prog += [I.GemmInsn(uop_end=0, push_prev=True) for _ in range(n)] + [FIN]
    res = FSim(SMALL, 1 << 14, cmd_depth=None).run(prog)
    assert res.counters["insn_done"] == 2 * n + 1
    with pytest.raises(DeadlockError) as err:
        FSim(SMALL, 1 << 14).run(prog)
    assert str(err.value) == (
        "deadlock: instruction 0 (LOAD INP on load) waits on an empty c2l queue that no "
        "pending instruction will fill; fetch cannot dispatch instruction 17 (LOAD INP): "
        "the load command queue is full (16 instructions)"
    )
