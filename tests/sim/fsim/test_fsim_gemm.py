"""GEMM: blocked matrix products against numpy, wrap-around, reset, loops and range errors."""

from __future__ import annotations

import numpy as np
import pytest
from fsim_helpers import DEFAULT, SMALL, get, put, rand_i8, run
from fsim_reference import Reference
from hypothesis import given
from hypothesis import strategies as st

from tessera.hw import isa as I
from tessera.hw import layout as L
from tessera.hw.config import HwConfig
from tessera.sim.fsim import FSim, OutOfRangeError, gemm_blas, gemm_program, loops


def _blocked(cfg: HwConfig, m: int, k: int, n: int, vthreads: int, seed: int = 0,
             **tiles: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    a, b = rand_i8(rng, (m, k)), rand_i8(rng, (n, k))
    sim = FSim(cfg, 8 << 20)
    pa, pb = L.pack_matrix_inp(a, cfg), L.pack_matrix_wgt(b, cfg)
    aa, ba = 0x1000, 0x1000 + pa.nbytes
    ca = ba + pb.nbytes
    ua = ca + m * n
    prog = gemm_program.blocked_gemm(cfg, m, k, n, a_addr=aa, b_addr=ba, c_addr=ca,
                                     uop_addr=ua, shift=7, vthreads=vthreads, **tiles)
    put(sim, aa, pa)
    put(sim, ba, pb)
    put(sim, ua, prog.uops)
    res = sim.run(list(prog.insns))
    blocked = get(sim, ca, np.int8, (m // cfg.batch, n // cfg.block_out, cfg.batch,
                                     cfg.block_out))
    got = L.unpack_matrix(blocked, (m, n), cfg)
    want = np.clip((a.astype(np.int32) @ b.astype(np.int32).T) >> 7, -128, 127)
    assert np.array_equal(got, want.astype(np.int8))
    return got, want, res.cycles


@pytest.mark.parametrize("vthreads", [1, 2])
@pytest.mark.parametrize(("cfg", "shape"), [(SMALL, (16, 32, 24)), (DEFAULT, (32, 64, 64))],
                         ids=["small", "default"])
def test_blocked_gemm_matches_numpy(cfg: HwConfig, shape: tuple[int, int, int],
                                    vthreads: int) -> None:
    _blocked(cfg, *shape, vthreads=vthreads, tile_m=4, tile_n=2)


def test_batch_two_config() -> None:
    cfg = HwConfig(batch=2, block_in=4, block_out=8, uop_depth=256, inp_depth=256,
                   wgt_depth=64, acc_depth=256, dram_bus_bits=32, name="b2")
    _blocked(cfg, 8, 16, 32, vthreads=2, tile_m=2, tile_n=2)


def test_two_virtual_threads_hide_latency() -> None:
    """Same result, fewer cycles: loads of one tile overlap the compute of the other."""
    _, _, one = _blocked(SMALL, 32, 64, 32, vthreads=1, tile_m=4, tile_n=2)
    _, _, two = _blocked(SMALL, 32, 64, 32, vthreads=2, tile_m=4, tile_n=2)
    assert two < 0.9 * one


def _setup(cfg: HwConfig, seed: int) -> FSim:
    rng = np.random.default_rng(seed)
    sim = FSim(cfg, 1 << 16)
    st_ = sim.state
    st_.write("inp", 0, rand_i8(rng, st_.inp.shape))
    st_.write("wgt", 0, rand_i8(rng, st_.wgt.shape))
    st_.acc[...] = rng.integers(-(1 << 31), 1 << 31, st_.acc.shape, dtype=np.int64)
    return sim


def _reference_of(sim: FSim) -> Reference:
    ref = Reference(sim.cfg, sim.state.dram)
    for kind, buf in sim.state.buffers.items():
        ref.buf[kind][...] = buf
    return ref


@st.composite
def gemm_case(draw: st.DrawFn) -> tuple[list[I.Uop], I.GemmInsn]:
    cfg = SMALL
    n = draw(st.integers(1, 5))
    uops = [I.Uop(draw(st.integers(0, 60)), draw(st.integers(0, 60)), draw(st.integers(0, 20)))
            for _ in range(n)]
    bgn = draw(st.integers(0, n))
    insn = I.GemmInsn(
        reset=draw(st.booleans()), uop_bgn=bgn, uop_end=draw(st.integers(0, n)),
        iter_out=draw(st.integers(1, 4)), iter_in=draw(st.integers(1, 4)),
        **{f: draw(st.integers(0, 12)) for f in (
            "dst_factor_out", "dst_factor_in", "src_factor_out", "src_factor_in",
            "wgt_factor_out", "wgt_factor_in")},
    )
    assert cfg.acc_depth > 60 + 3 * 12 * 2
    return uops, insn


@given(case=gemm_case(), seed=st.integers(0, 1000))
def test_gemm_equals_the_sequential_definition(
    case: tuple[list[I.Uop], I.GemmInsn], seed: int
) -> None:
    uops, insn = case
    sim = _setup(SMALL, seed)
    sim.state.uop[: len(uops)] = [I.encode_uop(u, SMALL) for u in uops]
    ref = _reference_of(sim)
    run(sim, [insn])
    ref.run([insn])
    assert np.array_equal(sim.state.acc, ref.buf["acc"])
    assert np.array_equal(sim.state.out, ref.buf["out"])


def test_gemm_chunks_agree_with_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    """Iterations split across gather chunks accumulate exactly as in one pass."""
    insn = I.GemmInsn(uop_bgn=0, uop_end=3, iter_out=5, iter_in=7, dst_factor_out=1,
                      src_factor_in=2, wgt_factor_in=1, wgt_factor_out=3)
    results = []
    for chunk in (1 << 16, 4):
        monkeypatch.setattr(loops, "CHUNK", chunk)
        monkeypatch.setattr(loops.LoopNest.chunks, "__defaults__", (chunk,))
        sim = _setup(SMALL, 3)
        sim.state.uop[:3] = [I.encode_uop(I.Uop(2, 1, 0), SMALL)] * 3
        run(sim, [insn])
        results.append(sim.state.acc.copy())
    assert np.array_equal(results[0], results[1])


def test_int32_accumulator_wraps_and_output_truncates() -> None:
    cfg = SMALL
    sim = FSim(cfg, 1 << 14)
    sim.state.write("inp", 0, np.full((1, 1, 4), 127, np.int8))
    sim.state.write("wgt", 0, np.full((1, 4, 4), 127, np.int8))
    sim.state.acc[0] = (1 << 31) - 10
    run(sim, [I.GemmInsn(uop_bgn=0, uop_end=1)])
    want = ((1 << 31) - 10 + 4 * 127 * 127) - (1 << 32)
    assert sim.state.acc[0, 0].tolist() == [want] * 4
    assert sim.state.out[0, 0].tolist() == [((want + 128) % 256) - 128] * 4


def test_reset_zeroes_acc_and_out_and_empty_loop_does_nothing() -> None:
    sim = _setup(SMALL, 5)
    sim.state.out[...] = 9
    before = sim.state.acc.copy()
    run(sim, [I.GemmInsn(reset=True, uop_bgn=0, uop_end=1, iter_out=3, dst_factor_out=2),
              I.GemmInsn(uop_bgn=1, uop_end=1, iter_out=100),
              I.GemmInsn(uop_bgn=5, uop_end=2)])
    assert np.all(sim.state.acc[[0, 2, 4]] == 0) and np.all(sim.state.out[[0, 2, 4]] == 0)
    mask = np.ones(len(before), bool)
    mask[[0, 2, 4]] = False
    assert np.array_equal(sim.state.acc[mask], before[mask])
    assert np.all(sim.state.out[mask] == 9)


@pytest.mark.parametrize(
    ("insn", "uop", "message"),
    [
        (I.GemmInsn(uop_bgn=0, uop_end=1025), I.Uop(),
         "instruction 0 (GEMM): uop_end must be <= 1024 (uop_depth), not 1025"),
        (I.GemmInsn(uop_end=2, iter_out=3, dst_factor_out=200), I.Uop(dst=112),
         "instruction 0 (GEMM): dst index must be < 512 (acc_depth), not 512 "
         "(micro-op 0, o=2, i=0)"),
        (I.GemmInsn(uop_end=1, iter_in=9, src_factor_in=64), I.Uop(src=1),
         "instruction 0 (GEMM): src index must be < 512 (inp_depth), not 513 "
         "(micro-op 0, o=0, i=8)"),
        (I.GemmInsn(uop_end=1, iter_out=2, iter_in=2, wgt_factor_out=64, wgt_factor_in=1),
         I.Uop(wgt=63),
         "instruction 0 (GEMM): wgt index must be < 128 (wgt_depth), not 128 "
         "(micro-op 0, o=1, i=1)"),
    ],
)
def test_gemm_out_of_range(insn: I.GemmInsn, uop: I.Uop, message: str) -> None:
    sim = FSim(SMALL, 1 << 14)
    sim.state.uop[:2] = I.encode_uop(uop, SMALL)
    with pytest.raises(OutOfRangeError) as err:
        run(sim, [insn])
    assert str(err.value) == message


def test_last_entry_of_each_buffer_is_in_range() -> None:
    sim = FSim(SMALL, 1 << 14)
    sim.state.uop[1023] = I.encode_uop(I.Uop(dst=111, src=311, wgt=27), SMALL)
    run(sim, [I.GemmInsn(uop_bgn=1023, uop_end=1024, iter_out=3, dst_factor_out=200,
                         src_factor_out=100, wgt_factor_out=50)])  # 511, 511, 127


def test_reset_does_not_check_operands_it_does_not_read() -> None:
    sim = FSim(SMALL, 1 << 14)
    sim.state.uop[0] = I.encode_uop(I.Uop(dst=3, src=511, wgt=127), SMALL)
    run(sim, [I.GemmInsn(reset=True, uop_end=1, iter_in=4, src_factor_in=100,
                         wgt_factor_in=100)])
    assert np.all(sim.state.acc[3] == 0)


def test_cached_plans_follow_the_micro_op_cache() -> None:
    """The same GEMM after a LOAD UOP uses the new micro-ops (plans are per uop version)."""
    cfg = SMALL
    sim = _setup(cfg, 7)
    gemm = I.GemmInsn(reset=False, uop_end=1, iter_out=2, dst_factor_out=1)
    put(sim, 0x100, np.array([I.encode_uop(I.Uop(dst=300, src=1, wgt=2), cfg)], "<u4"))
    load = I.MemInsn(mem_type=I.MemType.UOP, dram_base=0x100 // 4)
    ref = _reference_of(sim)
    prog = [gemm, load, gemm, gemm]
    run(sim, prog)
    ref.run(prog)
    assert np.array_equal(sim.state.acc, ref.buf["acc"])
    sim.state.uop[0] = I.encode_uop(I.Uop(dst=400), cfg)  # a direct write, then touch()
    sim.state.touch()
    ref.buf["uop"][0] = sim.state.uop[0]
    run(sim, [gemm])
    ref.run([gemm])
    assert np.array_equal(sim.state.acc, ref.buf["acc"])


B2 = HwConfig(batch=2, block_in=4, block_out=8, uop_depth=256, inp_depth=256, wgt_depth=64,
              acc_depth=256, dram_bus_bits=32, name="b2")


@st.composite
def factorizable_case(draw: st.DrawFn) -> tuple[HwConfig, list[I.Uop], I.GemmInsn]:
    cfg = draw(st.sampled_from([SMALL, B2]))
    n = draw(st.integers(1, 6))
    dsts = draw(st.sampled_from([[0], [0, 7], [3, 3, 40]]))
    uops = [I.Uop(draw(st.sampled_from(dsts)), draw(st.integers(0, 30)),
                  draw(st.integers(0, 20))) for _ in range(n)]
    fields: dict[str, int] = {}
    for lvl in ("out", "in"):
        moves = draw(st.sampled_from(["src", "wgt", "none"]))
        fields[f"src_factor_{lvl}"] = draw(st.integers(1, 9)) if moves == "src" else 0
        fields[f"wgt_factor_{lvl}"] = draw(st.integers(1, 5)) if moves == "wgt" else 0
        fields[f"dst_factor_{lvl}"] = draw(st.integers(0, 9))
    insn = I.GemmInsn(uop_bgn=0, uop_end=n, iter_out=draw(st.integers(1, 4)),
                      iter_in=draw(st.integers(1, 4)), **fields)
    return cfg, uops, insn


@given(case=factorizable_case(), seed=st.integers(0, 1000))
def test_factorized_gemm_equals_the_sequential_definition(
    case: tuple[HwConfig, list[I.Uop], I.GemmInsn], seed: int
) -> None:
    cfg, uops, insn = case
    sim = _setup(cfg, seed)
    sim.state.write("uop", 0, np.array([I.encode_uop(u, cfg) for u in uops], np.uint32))
    ref = _reference_of(sim)
    run(sim, [insn])
    ref.run([insn])
    assert isinstance(sim.state.plans[insn][1][0], gemm_blas.Group)  # took the BLAS path
    assert np.array_equal(sim.state.acc, ref.buf["acc"])
    assert np.array_equal(sim.state.out, ref.buf["out"])


def test_factorized_gemm_is_exact_beyond_float32() -> None:
    """300 micro-ops x 4 terms: sums past 2**24 that float32 would round (float64 path)."""
    cfg = SMALL
    sim = FSim(cfg, 1 << 14)
    inp = np.full((300, 1, 4), -128, np.int8)
    wgt = np.full((2, 4, 4), -128, np.int8)
    inp[17, 0, 2], wgt[1, :, 2] = 1, 1
    wsel = [1 if u == 17 else 0 for u in range(300)]
    sim.state.write("inp", 0, inp)
    sim.state.write("wgt", 0, wgt)
    sim.state.write("uop", 0, np.array([I.encode_uop(I.Uop(5, u, wsel[u]), cfg)
                                        for u in range(300)], np.uint32))
    insn = I.GemmInsn(uop_end=300)
    run(sim, [insn])
    want = np.einsum("ubk,unk->bn", inp.astype(np.int64), wgt[wsel].astype(np.int64))
    assert want[0, 0] > 1 << 24 and want[0, 0] % 2 == 1
    assert isinstance(sim.state.plans[insn][1][0], gemm_blas.Group)
    assert np.array_equal(sim.state.acc[5], want)
