"""The fsim device: arrays through DRAM, whole programs, errors as DeviceError."""

from __future__ import annotations

import numpy as np
import pytest

import tessera.runtime as rt
from tessera.hw import HwConfig
from tessera.hw import isa as I
from tessera.hw import layout as L
from tessera.hw.regmap import COUNTERS, ErrorCode
from tessera.runtime import DeviceError, Program
from tessera.runtime.fsim_device import FSimDevice, FSimRunError
from tessera.sim.fsim.gemm_program import blocked_gemm, reference

SMALL = HwConfig.small()


def test_registry_gives_an_fsim_device() -> None:
    dev = rt.device("fsim", cfg=SMALL, dram_bytes=1 << 20)
    assert isinstance(dev, FSimDevice) and dev.cfg == SMALL and dev.name == "fsim"


@pytest.mark.parametrize("dtype", [np.int8, np.int32, np.uint32, np.float32])
def test_arrays_move_through_the_device(dtype: type) -> None:
    dev = rt.device("fsim", cfg=SMALL, dram_bytes=1 << 20)
    arr = (np.arange(60) * 7 - 100).astype(dtype).reshape(3, 4, 5)
    buf = dev.alloc(arr.nbytes)
    other = dev.alloc(16)
    dev.copy_in(buf, arr)
    dev.copy_in(other, bytes(range(16)))
    assert np.array_equal(dev.copy_out(buf, dtype, arr.shape), arr)
    assert dev.copy_out(other).tolist() == list(range(16))
    assert dev.sim.state.dram[buf.addr : buf.addr + arr.nbytes].tobytes() == arr.tobytes()


@pytest.mark.parametrize("vthreads", [1, 2])
def test_blocked_gemm_program_on_the_device(vthreads: int) -> None:
    cfg = SMALL
    m, k, n = 16, 32, 32
    rng = np.random.default_rng(0)
    a = rng.integers(-128, 128, (m, k), dtype=np.int8)
    b = rng.integers(-128, 128, (n, k), dtype=np.int8)
    with rt.device("fsim", cfg=cfg, dram_bytes=1 << 20) as dev:
        pa, pb = L.pack_matrix_inp(a, cfg), L.pack_matrix_wgt(b, cfg)
        ba, bb, bc = dev.alloc(pa.nbytes), dev.alloc(pb.nbytes), dev.alloc(m * n)
        bu = dev.alloc(4 * vthreads * (k // cfg.block_in + 1))  # the kernels' micro-ops
        prog = blocked_gemm(cfg, m, k, n, a_addr=ba.addr, b_addr=bb.addr, c_addr=bc.addr,
                            uop_addr=bu.addr, shift=6, tile_m=4, tile_n=2, vthreads=vthreads)
        dev.copy_in(ba, pa)
        dev.copy_in(bb, pb)
        dev.copy_in(bu, prog.uops)
        res = dev.run(Program(prog.insns, cfg, "gemm"), timeline=True)
        out = dev.copy_out(bc, np.int8, (m // cfg.batch, n // cfg.block_out, cfg.batch,
                                         cfg.block_out))
    assert np.array_equal(L.unpack_matrix(out, (m, n), cfg), reference(a, b, 6))
    assert set(res.counters) == set(COUNTERS)
    assert res.cycles == res.counters["cycles"] > 0
    assert res.counters["gemm_cycles"] == (m * k * n) // cfg.macs_per_cycle
    assert res.counters["insn_done"] == len(prog.insns)
    assert res.timeline and {u for u, *_ in res.timeline} == {"fetch", "load", "compute",
                                                              "store"}


def test_repeated_runs_reuse_the_program_buffer() -> None:
    dev = rt.device("fsim", cfg=SMALL, dram_bytes=1 << 20)
    prog = Program((I.AluInsn(alu_op=I.AluOp.ADD, use_imm=True, imm=1), I.FinishInsn()), SMALL)
    for _ in range(50):
        dev.run(prog)
    assert dev.sim.state.acc[0, 0].tolist() == [50] * 4
    assert dev.alloc(64).addr < 1 << 14  # the bump allocator did not grow per run


def test_run_errors_carry_code_and_pc() -> None:
    dev = rt.device("fsim", cfg=SMALL, dram_bytes=1 << 20)
    with pytest.raises(FSimRunError) as err:
        dev.run(Program((I.FinishInsn(), ), SMALL))  # fine
        dev.run(Program((I.GemmInsn(), I.GemmInsn(pop_prev=True), I.FinishInsn()), SMALL))
    assert (err.value.code, err.value.pc) == (ErrorCode.WATCHDOG, 1)
    with pytest.raises(FSimRunError) as err:
        dev.run(Program((I.MemInsn(mem_type=I.MemType.OUT), I.FinishInsn()), SMALL))
    assert (err.value.code, err.value.pc) == (ErrorCode.ILLEGAL_INSN, 0)
    with pytest.raises(FSimRunError) as err:
        dev.run(Program((I.GemmInsn(uop_end=1024), I.GemmInsn(uop_end=1025), I.FinishInsn()),
                        SMALL))
    assert (err.value.code, err.value.pc) == (ErrorCode.OUT_OF_RANGE, 1)


@pytest.mark.parametrize(
    ("insns", "message"),
    [
        ((I.GemmInsn(pop_prev=True), I.FinishInsn()),
         "deadlock: instruction 0 (GEMM on compute) waits on an empty l2c queue that no "
         "pending instruction will fill"),
        ((I.MemInsn(mem_type=I.MemType.INP, sram_base=511, x_size=2), I.FinishInsn()),
         "instruction 0 (LOAD INP): sram_base window end (sram_base + 2 entries) must be "
         "<= 512 (inp_depth), not 513"),
        ((I.GemmInsn(),),
         "program must end with FINISH, but none of its 1 instructions is one"),
        ((I.FinishInsn(), I.GemmInsn(iter_out=1 << 14)),
         "instruction 1: GEMM.iter_out must be in [0, 16383], not 16384"),
    ],
)
def test_errors_are_device_errors(insns: tuple[I.Insn, ...], message: str) -> None:
    dev = rt.device("fsim", cfg=SMALL, dram_bytes=1 << 20)
    with pytest.raises(DeviceError) as err:
        dev.run(Program(insns, SMALL))
    assert str(err.value) == message


def test_run_checks_program_and_options() -> None:
    dev = rt.device("fsim", cfg=SMALL, dram_bytes=1 << 20)
    with pytest.raises(DeviceError) as err:
        dev.run(Program((I.FinishInsn(),), HwConfig.default(), "p"))
    assert str(err.value) == ("fsim: program 'p' is for configuration 'default', but this "
                              "device is 'small'")
    with pytest.raises(DeviceError) as err:
        dev.run(Program((I.FinishInsn(),), SMALL), waves=True)
    assert str(err.value) == "fsim: run options must be among ['timeline'], not ['waves']"
    with pytest.raises(DeviceError) as err:
        dev.run(Program((), SMALL, "empty"))
    assert str(err.value) == "fsim: program 'empty' has no instructions"
    with pytest.raises(DeviceError) as err:
        dev.read_dram((1 << 20) - 4, 8)
    assert str(err.value) == ("fsim: DRAM access [0xffffc, 0x100004) must lie within the "
                              "1048576-byte DRAM")
