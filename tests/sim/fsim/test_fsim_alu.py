"""ALU: every operation bit-exact, immediates and tensors, in-order hazards, range errors."""

from __future__ import annotations

import numpy as np
import pytest
from fsim_helpers import SMALL, run
from fsim_reference import Reference, alu_scalar
from hypothesis import given
from hypothesis import strategies as st

from tessera.hw import isa as I
from tessera.sim.fsim import FSim, OutOfRangeError
from tessera.sim.fsim.alu import apply

INT32 = st.integers(-(1 << 31), (1 << 31) - 1)
EDGES = [0, 1, -1, 31, 32, 33, 63, 64, -32, -33, 127, -128, (1 << 31) - 1, -(1 << 31)]


@pytest.mark.parametrize("op", list(I.AluOp))
@given(pairs=st.lists(st.tuples(st.one_of(INT32, st.sampled_from(EDGES)),
                                st.one_of(INT32, st.sampled_from(EDGES))), min_size=1))
def test_apply_matches_the_scalar_definition(op: I.AluOp, pairs: list[tuple[int, int]]) -> None:
    a = np.array([p[0] for p in pairs], np.int32)
    b = np.array([p[1] for p in pairs], np.int32)
    want = [alu_scalar(op, int(x), int(y)) for x, y in pairs]
    assert apply(op, a, b).tolist() == want


@pytest.mark.parametrize("op", list(I.AluOp))
@given(a=st.lists(st.one_of(INT32, st.sampled_from(EDGES)), min_size=1),
       imm=st.one_of(st.integers(-(1 << 15), (1 << 15) - 1), st.sampled_from(EDGES[:11])))
def test_apply_with_an_immediate(op: I.AluOp, a: list[int], imm: int) -> None:
    got = apply(op, np.array(a, np.int32), np.int32(imm))
    assert got.tolist() == [alu_scalar(op, x, imm) for x in a]


@pytest.mark.parametrize(
    ("a", "b", "want"),
    [
        (-100, 2, -25),             # arithmetic shift right rounds toward -inf
        (-1, 31, -1),
        (0x40000000, 30, 1),
        (3, -1, 6),                 # negative amount: shift left
        (1, -31, -(1 << 31)),
        (1, -32, 0),                # a shift left by 32 gives 0
        (5, 32, 0),                 # 32 = 0b100000 reads as -32
        (5, 63, 10),                # 63 = 0b111111 reads as -1
        (5, 64, 5),                 # only the low 6 bits count
        (-8, -(2**16) + 1, -4),     # 0xffff0001: low bits 000001, so >> 1
    ],
)
def test_shift_amounts(a: int, b: int, want: int) -> None:
    assert int(apply(I.AluOp.SHR, np.array([a], np.int32), np.array([b], np.int32))[0]) == want


def _sim(seed: int) -> FSim:
    sim = FSim(SMALL, 1 << 14)
    rng = np.random.default_rng(seed)
    sim.state.acc[...] = rng.integers(-(1 << 20), 1 << 20, sim.state.acc.shape)
    return sim


def _vs_reference(sim: FSim, insns: list[I.Insn]) -> Reference:
    ref = Reference(sim.cfg, sim.state.dram)
    for kind, buf in sim.state.buffers.items():
        ref.buf[kind][...] = buf
    run(sim, insns)
    ref.run(insns)
    assert np.array_equal(sim.state.acc, ref.buf["acc"])
    assert np.array_equal(sim.state.out, ref.buf["out"])
    return ref


def _uops(sim: FSim, items: list[I.Uop]) -> None:
    sim.state.uop[: len(items)] = [I.encode_uop(u, sim.cfg) for u in items]


@pytest.mark.parametrize(
    ("op", "imm", "fn"),
    [
        (I.AluOp.SHR, 3, lambda a: a >> 3),                      # shift right
        (I.AluOp.SHR, -2, lambda a: a << 2),                     # shift left
        (I.AluOp.MAX, 0, lambda a: np.maximum(a, 0)),            # relu
        (I.AluOp.MIN, -7, lambda a: np.minimum(a, -7)),
        (I.AluOp.ADD, -300, lambda a: a - 300),
        (I.AluOp.MUL, 3, lambda a: a * 3),
    ],
)
def test_alu_with_immediates(op: I.AluOp, imm: int, fn: object) -> None:
    sim = _sim(1)
    before = sim.state.acc.copy().astype(np.int64)
    _uops(sim, [I.Uop(dst=10)])
    run(sim, [I.AluInsn(alu_op=op, use_imm=True, imm=imm, uop_end=1, iter_out=6, iter_in=4,
                        dst_factor_out=4, dst_factor_in=1)])
    want = fn(before[10:34])  # type: ignore[operator]
    assert np.array_equal(sim.state.acc[10:34], want)
    assert np.array_equal(sim.state.out[10:34], ((want + 128) % 256 - 128).astype(np.int8))
    assert np.array_equal(sim.state.acc[34:], before[34:])


@pytest.mark.parametrize("op", list(I.AluOp))
def test_alu_with_tensors(op: I.AluOp) -> None:
    sim = _sim(2)
    if op in (I.AluOp.SHR, I.AluOp.MUL):
        sim.state.acc[40:60] %= 40
        sim.state.acc[40:60] -= 20
    _uops(sim, [I.Uop(dst=0, src=40), I.Uop(dst=1, src=41)])
    _vs_reference(sim, [I.AluInsn(alu_op=op, uop_end=2, iter_out=8, dst_factor_out=2,
                                  src_factor_out=2)])


def test_shift_and_scale_requantization() -> None:
    """(acc + bias) >> s, clipped to int8: the quantized epilogue of a layer."""
    sim = _sim(3)
    x = sim.state.acc[:16].astype(np.int64)
    sim.state.acc[100:116] = 37  # a bias tensor
    _uops(sim, [I.Uop(dst=0, src=100)])
    loop = {"uop_end": 1, "iter_out": 16, "dst_factor_out": 1, "src_factor_out": 1}
    run(sim, [I.AluInsn(alu_op=I.AluOp.ADD, **loop),
              I.AluInsn(alu_op=I.AluOp.SHR, use_imm=True, imm=9, **loop),
              I.AluInsn(alu_op=I.AluOp.MAX, use_imm=True, imm=-128, **loop),
              I.AluInsn(alu_op=I.AluOp.MIN, use_imm=True, imm=127, **loop)])
    want = np.clip((x + 37) >> 9, -128, 127)
    assert np.array_equal(sim.state.out[:16], want.astype(np.int8))


def test_later_iterations_read_earlier_writes() -> None:
    """acc[k+1] += acc[k] in loop order is a prefix sum, not a shifted copy."""
    sim = _sim(4)
    col = sim.state.acc[:12].astype(np.int64)
    _uops(sim, [I.Uop(dst=1, src=0)])
    _vs_reference(sim, [I.AluInsn(alu_op=I.AluOp.ADD, uop_end=1, iter_out=11,
                                  dst_factor_out=1, src_factor_out=1)])
    assert np.array_equal(sim.state.acc[:12], np.cumsum(col, axis=0))


def test_max_pooling_pattern_repeats_its_destination() -> None:
    sim = _sim(5)
    _uops(sim, [I.Uop(dst=200, src=0)])
    _vs_reference(sim, [I.AluInsn(alu_op=I.AluOp.MAX, uop_end=1, iter_out=5, iter_in=4,
                                  dst_factor_out=1, src_factor_out=4, src_factor_in=1)])
    want = sim.state.acc[:20].reshape(5, 4, 1, 4).max(axis=1)
    assert np.array_equal(sim.state.acc[200:205], np.maximum(want, sim.state.acc[200:205]))


@st.composite
def alu_case(draw: st.DrawFn) -> tuple[list[I.Uop], I.AluInsn]:
    n = draw(st.integers(1, 4))
    uops = [I.Uop(draw(st.integers(0, 40)), draw(st.integers(0, 40))) for _ in range(n)]
    insn = I.AluInsn(
        reset=draw(st.booleans()) and draw(st.booleans()),
        uop_bgn=draw(st.integers(0, n)), uop_end=draw(st.integers(0, n)),
        iter_out=draw(st.integers(1, 5)), iter_in=draw(st.integers(1, 5)),
        alu_op=draw(st.sampled_from(list(I.AluOp))), use_imm=draw(st.booleans()),
        imm=draw(st.integers(-(1 << 15), (1 << 15) - 1)),
        **{f: draw(st.integers(0, 6)) for f in (
            "dst_factor_out", "dst_factor_in", "src_factor_out", "src_factor_in")},
    )
    return uops, insn


@given(case=alu_case(), seed=st.integers(0, 100))
def test_alu_equals_the_sequential_definition(
    case: tuple[list[I.Uop], I.AluInsn], seed: int
) -> None:
    uops, insn = case
    sim = _sim(seed)
    _uops(sim, uops)
    _vs_reference(sim, [insn])


def test_alu_src_range_checked_only_when_read() -> None:
    sim = _sim(6)
    _uops(sim, [I.Uop(dst=0, src=500)])
    run(sim, [I.AluInsn(alu_op=I.AluOp.ADD, use_imm=True, uop_end=1, iter_out=2,
                        src_factor_out=50)])
    with pytest.raises(OutOfRangeError) as err:
        run(sim, [I.AluInsn(alu_op=I.AluOp.ADD, uop_end=1, iter_out=2, src_factor_out=50)])
    assert str(err.value) == ("instruction 0 (ALU ADD): src index must be < 512 (acc_depth), "
                              "not 550 (micro-op 0, o=1, i=0)")
