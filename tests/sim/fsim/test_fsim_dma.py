"""LOAD and STORE: 2-D windows, padding, micro-op and accumulator loads, range and legality."""

from __future__ import annotations

import numpy as np
import pytest
from fsim_helpers import SMALL, get, put, rand_i8, run

from tessera.hw import isa as I
from tessera.hw.regmap import ErrorCode
from tessera.sim.fsim import DramBusError, FSim, IllegalInsnError, OutOfRangeError

INP, WGT, ACC, OUT, UOP = (I.MemType.INP, I.MemType.WGT, I.MemType.ACC, I.MemType.OUT,
                           I.MemType.UOP)


def test_load_2d_window_then_store_round_trips_through_acc_and_alu() -> None:
    """VTA's 2-D load/store: a (y, x) window of a strided DRAM array goes on chip and back."""
    cfg = SMALL
    sim = FSim(cfg, 1 << 20)
    rng = np.random.default_rng(0)
    rows, cols = 6, 10  # DRAM array of 6 x 10 accumulator entries
    data = rng.integers(-1000, 1000, (rows, cols, cfg.batch, cfg.block_out), dtype=np.int32)
    put(sim, 0x1000, data)
    eb = cfg.entry_bytes("acc")
    y, x, r0, c0 = 3, 4, 2, 5
    load = I.MemInsn(mem_type=ACC, sram_base=7, dram_base=0x1000 // eb + r0 * cols + c0,
                     y_size=y, x_size=x, x_stride=cols)
    run(sim, [load])
    assert np.array_equal(sim.state.acc[7 : 7 + y * x].reshape(y, x, 1, 4),
                          data[r0 : r0 + y, c0 : c0 + x])
    # Copy acc to out through ALU ADD 0, then store the window into a different stride.
    uop_load = I.MemInsn(mem_type=UOP, sram_base=0, dram_base=0x8000 // 4, y_size=1, x_size=1,
                         x_stride=1)
    put(sim, 0x8000, np.array([I.encode_uop(I.Uop(7, 0, 0), cfg)], dtype="<u4"))
    alu = I.AluInsn(alu_op=I.AluOp.ADD, use_imm=True, imm=0, iter_out=y * x, dst_factor_out=1,
                    push_next=True)  # the store must wait for the ALU
    obase = 0x4000
    store = I.MemInsn(store=True, mem_type=OUT, sram_base=7, dram_base=obase // 4, y_size=y,
                      x_size=x, x_stride=x + 1, pop_prev=True)
    run(sim, [uop_load, alu, store])
    got = get(sim, obase, np.int8, (y, x + 1, 1, 4))[:, :x]
    want = (data[r0 : r0 + y, c0 : c0 + x].astype(np.int64) + 128) % 256 - 128
    assert np.array_equal(got, want.astype(np.int8))
    assert np.all(get(sim, obase, np.int8, (y, x + 1, 1, 4))[:, x] == 0)  # gaps untouched


@pytest.mark.parametrize("pads", [(1, 0, 0, 0), (0, 2, 0, 0), (0, 0, 1, 0), (0, 0, 0, 3),
                                  (1, 2, 3, 1)])
def test_padded_load_writes_a_zero_frame(pads: tuple[int, int, int, int]) -> None:
    cfg = SMALL
    sim = FSim(cfg, 1 << 20)
    rng = np.random.default_rng(1)
    img = rand_i8(rng, (5, 7, cfg.batch, cfg.block_in))  # H=5, W=7 input entries
    put(sim, 0x2000, img)
    sim.state.write("inp", 0, np.full((64, 1, 4), 99, np.int8))  # garbage to be overwritten
    y0, y1, x0, x1 = pads
    load = I.MemInsn(mem_type=INP, sram_base=3, dram_base=0x2000 // 4 + 7 + 1, y_size=3,
                     x_size=4, x_stride=7, y_pad_0=y0, y_pad_1=y1, x_pad_0=x0, x_pad_1=x1)
    run(sim, [load])
    rows, cols = y0 + 3 + y1, x0 + 4 + x1
    want = np.zeros((rows, cols, 1, 4), np.int8)
    want[y0 : y0 + 3, x0 : x0 + 4] = img[1:4, 1:5]
    got = sim.state.inp[3 : 3 + rows * cols].reshape(rows, cols, 1, 4)
    assert np.array_equal(got, want)
    assert np.all(sim.state.inp[3 + rows * cols : 64] == 99)
    assert np.array_equal(sim.state.inp_f[: 3 + rows * cols], sim.state.inp[: 3 + rows * cols])


def test_weight_and_uop_loads() -> None:
    cfg = SMALL
    sim = FSim(cfg, 1 << 20)
    w = rand_i8(np.random.default_rng(2), (3, 4, 4))
    put(sim, 0x100, w)
    put(sim, 0x400, np.array([1, 2, 0xFFFFFFFF], dtype="<u4"))
    run(sim, [I.MemInsn(mem_type=WGT, sram_base=5, dram_base=0x100 // 16, x_size=3, x_stride=3),
              I.MemInsn(mem_type=UOP, sram_base=9, dram_base=0x400 // 4, x_size=3, x_stride=3)])
    assert np.array_equal(sim.state.wgt[5:8], w)
    assert sim.state.uop[9:12].tolist() == [1, 2, 0xFFFFFFFF]


def test_zero_size_moves_nothing_not_even_padding() -> None:
    sim = FSim(SMALL, 1 << 16)
    sim.state.write("inp", 0, np.full((8, 1, 4), 5, np.int8))
    run(sim, [I.MemInsn(mem_type=INP, x_size=0, y_pad_0=1, x_pad_0=1),
              I.MemInsn(mem_type=INP, y_size=0, x_size=3, y_pad_1=2)])
    assert np.all(sim.state.inp[:8] == 5)


def test_overlapping_store_rows_later_row_wins() -> None:
    cfg = SMALL
    sim = FSim(cfg, 1 << 16)
    sim.state.out[:6] = np.arange(6, dtype=np.int8)[:, None, None]
    run(sim, [I.MemInsn(store=True, mem_type=OUT, dram_base=64, y_size=2, x_size=3,
                        x_stride=1)])
    assert get(sim, 64 * 4, np.int8, (4, 1, 4))[:, 0, 0].tolist() == [0, 3, 4, 5]


@pytest.mark.parametrize(
    ("insn", "message"),
    [
        (I.MemInsn(mem_type=INP, sram_base=510, x_size=3),
         "instruction 0 (LOAD INP): sram_base window end (sram_base + 3 entries) must be "
         "<= 512 (inp_depth), not 513"),
        (I.MemInsn(mem_type=WGT, sram_base=124, x_size=2, y_size=2, x_stride=2, x_pad_0=1),
         "instruction 0 (LOAD WGT): sram_base window end (sram_base + 6 entries) must be "
         "<= 128 (wgt_depth), not 130"),
        (I.MemInsn(mem_type=ACC, dram_base=1020, x_size=5),
         "instruction 0 (LOAD ACC): dram_base window end (dram_base + (y_size-1)*x_stride + "
         "x_size) must be <= 1024 acc entries of DRAM, not 1025"),
        (I.MemInsn(store=True, mem_type=OUT, sram_base=500, y_size=2, x_size=7),
         "instruction 0 (STORE OUT): sram_base window end (sram_base + 14 entries) must be "
         "<= 512 (out_depth), not 514"),
    ],
)
def test_out_of_range_names_instruction_and_field(insn: I.MemInsn, message: str) -> None:
    sim = FSim(SMALL, 1 << 14)
    with pytest.raises(OutOfRangeError) as err:
        run(sim, [insn])
    assert str(err.value) == message
    assert err.value.pc == 0
    # a window past DRAM is the bus's fault on the RTL (AXI error response): same code here
    want = ErrorCode.BUS_ERROR if "of DRAM" in message else ErrorCode.OUT_OF_RANGE
    assert err.value.code == want
    assert isinstance(err.value, DramBusError) == (want == ErrorCode.BUS_ERROR)


@pytest.mark.parametrize(
    ("insn", "message"),
    [
        (I.MemInsn(mem_type=OUT),
         "instruction 1 (LOAD OUT): LOAD mem_type must be one of UOP, WGT, INP, ACC, not OUT"),
        (I.MemInsn(store=True, mem_type=ACC),
         "instruction 1 (STORE ACC): STORE mem_type must be OUT, not ACC"),
        (I.MemInsn(store=True, mem_type=OUT, x_pad_1=2),
         "instruction 1 (STORE OUT): STORE x_pad_1 must be 0, not 2"),
        (I.MemInsn(mem_type=UOP, y_pad_0=1),
         "instruction 1 (LOAD UOP): LOAD UOP y_pad_0 must be 0, not 1"),
        (I.MemInsn(mem_type=INP, pop_prev=True),
         "instruction 1 (LOAD INP): LOAD runs on the load unit, which has no previous stage: "
         "pop_prev must be 0"),
        (I.MemInsn(store=True, mem_type=OUT, push_next=True),
         "instruction 1 (STORE OUT): STORE runs on the store unit, which has no next stage: "
         "push_next must be 0"),
    ],
)
def test_illegal_memory_instructions(insn: I.MemInsn, message: str) -> None:
    sim = FSim(SMALL, 1 << 14)
    sim.state.acc[0] = 7
    with pytest.raises(IllegalInsnError) as err:
        sim.run([I.AluInsn(alu_op=I.AluOp.ADD, use_imm=True, imm=1), insn, I.FinishInsn()])
    assert str(err.value) == message
    assert sim.state.acc[0, 0, 0] == 7  # checked before anything ran
