"""Illegal schedules, tensorize mismatches and bad operands give their exact errors."""

from __future__ import annotations

import dataclasses
import re

import numpy as np
import pytest

from tessera.compiler import tensor as te
from tessera.compiler.errors import CompileError, ScheduleError, UnsupportedError
from tessera.compiler.vta import (
    Conv2dWorkload,
    DenseWorkload,
    build_qconv2d,
    build_qdense,
    gemm_intrin,
    tensorize,
)
from tessera.compiler.vta.intrin import conv2d_blocked
from tessera.hw import HwConfig

CFG = HwConfig.default()
C2 = Conv2dWorkload(1, 56, 56, 64, 64, 3, 3, 1, 1, 1, 1)
C11 = Conv2dWorkload(1, 7, 7, 512, 512, 3, 3, 1, 1, 1, 1)
GOOD = {"tile_n": 1, "tile_oc": 2, "tile_h": 14, "tile_w": 14, "tile_ic": 1, "vthreads": 2}


def _conv(wkl: Conv2dWorkload, schedule: dict[str, int] | None = None, cfg: HwConfig = CFG,
          name: str = "c2", **kw: object) -> None:
    w = kw.pop("weight", np.zeros(wkl.weight_shape, np.int8))
    args = {"bias": None, "shift": 0, "relu": False, **kw}
    build_qconv2d(wkl, w, args["bias"], args["shift"], args["relu"], cfg,  # type: ignore[arg-type]
                  schedule=schedule, name=name)


def _raises(kind: type[Exception], text: str) -> pytest.RaisesContext[Exception]:
    return pytest.raises(kind, match="^" + re.escape(text) + "$")


def test_input_tile_too_big() -> None:
    with _raises(ScheduleError, "conv2d 'c2': the schedule overflows inp_buffer: it needs "
                 "26912 entries (2 thread(s) x 1x4 blocks x a 58x58 window), 24864 more than "
                 "its 2048"):
        _conv(C2, dict(GOOD, tile_oc=4, tile_h=56, tile_w=56, tile_ic=4))


def test_weight_tile_too_big() -> None:
    with _raises(ScheduleError, "conv2d 'c11': the schedule overflows wgt_buffer: it needs "
                 "1152 entries (32x4 blocks x 3x3 x 1 thread(s)), 128 more than its 1024"):
        _conv(C11, dict(tile_n=1, tile_oc=32, tile_h=1, tile_w=1, tile_ic=4, vthreads=1),
              name="c11")


def test_accumulator_tile_too_big() -> None:
    with _raises(ScheduleError, "dense 'fc': the schedule overflows acc_buffer: it needs 4100 "
                 "entries (1 thread(s) x 4x1024x1x1 + 4 bias), 2052 more than its 2048"):
        build_qdense(DenseWorkload(1024, 16, 64), np.zeros((64, 16), np.int8),
                     np.zeros(64, np.int32), 0, False, CFG,
                     schedule=dict(tile_n=1024, tile_oc=4, tile_h=1, tile_w=1, tile_ic=1,
                                   vthreads=1), name="fc")


def test_micro_op_cache_too_small() -> None:
    tiny = dataclasses.replace(HwConfig.small(), uop_depth=64, name="tiny-uop")
    wkl = Conv2dWorkload(1, 4, 4, 16, 16, 3, 3, 1, 1, 1, 1)
    with _raises(ScheduleError, "conv2d 'u': the schedule overflows uop_buffer: it needs 146 "
                 "entries (every distinct micro-op kernel), 82 more than its 64"):
        _conv(wkl, dict(tile_n=1, tile_oc=2, tile_h=1, tile_w=4, tile_ic=2, vthreads=2),
              cfg=tiny, name="u")


def test_validate_schedule_without_building() -> None:
    from tessera.compiler.vta import validate_schedule

    assert validate_schedule(C2, CFG, GOOD) == GOOD
    with _raises(ScheduleError, "conv2d 'layer': the schedule overflows acc_buffer: it needs "
                 "3140 entries (2 thread(s) x 4x1x28x14 + 4 bias), 1092 more than its 2048"):
        validate_schedule(C2, CFG, dict(GOOD, tile_oc=4, tile_ic=1, vthreads=2, tile_h=28))


def test_knob_errors() -> None:
    with _raises(ScheduleError, "conv2d 'c2': schedule knob tile_h must be one of "
                 "[1, 2, 4, 7, 8, 14, 28, 56], not 5"):
        _conv(C2, dict(GOOD, tile_h=5))
    with _raises(ScheduleError, "conv2d 'c2': schedule knob vthreads must be one of [1, 2], "
                 "not 4"):
        _conv(C2, dict(GOOD, vthreads=4))
    with _raises(ScheduleError, "conv2d 'c2': schedule knobs must be among ['tile_n', "
                 "'tile_oc', 'tile_h', 'tile_w', 'tile_ic', 'vthreads'], not ['unroll']"):
        _conv(C2, dict(GOOD, unroll=2))
    with _raises(ScheduleError, "conv2d 'c2': schedule is missing knob(s) ['tile_oc', "
                 "'tile_h', 'tile_w', 'tile_ic', 'vthreads']"):
        _conv(C2, {"tile_n": 1})
    wkl = Conv2dWorkload(2, 4, 4, 16, 16, 3, 3, 1, 1, 1, 1)
    with _raises(ScheduleError, "conv2d 'b2': schedule knobs tile_n and tile_h must not both "
                 "exceed 1 (the GEMM's outer loop walks one of them), not tile_n=2, tile_h=2"):
        _conv(wkl, dict(tile_n=2, tile_oc=1, tile_h=2, tile_w=1, tile_ic=1, vthreads=1),
              name="b2")


def _block(name: str, combiner: str = "sum", swap: bool = False) -> te.Tensor:
    a = te.placeholder((1, 16), "int8", name="a")
    b = te.placeholder((16, 16), "int8", name="b")
    k = te.reduce_axis(16, name="k")
    red = te.sum if combiner == "sum" else te.max
    return te.compute(
        (1, 16),
        lambda i, o: red(te.cast("int32", a[i, k])
                         * te.cast("int32", b[k, o] if swap else b[o, k]), axis=k),
        name=name,
    )


def test_tensorize_match_and_mismatches() -> None:
    tensorize(_block("ok"), gemm_intrin(CFG))
    tensorize(conv2d_blocked(CFG, 1, 4, 4, 58, 58, 3, 3, (1, 1)), gemm_intrin(CFG))
    with _raises(ScheduleError, "tensorize: stage bad's inner block sum((int32(int8[b, k]) * "
                 "int32(int8[k, o]))) over (b, o, k) = (1, 16, 16) does not match intrinsic "
                 "gemm's sum((int32(int8[b, k]) * int32(int8[o, k]))) over (1, 16, 16)"):
        tensorize(_block("bad", swap=True), gemm_intrin(CFG))
    with _raises(ScheduleError, "tensorize: stage mx's inner block max((int32(int8[b, k]) * "
                 "int32(int8[o, k]))) over (b, o, k) = (1, 16, 16) does not match intrinsic "
                 "gemm's sum((int32(int8[b, k]) * int32(int8[o, k]))) over (1, 16, 16)"):
        tensorize(_block("mx", combiner="max"), gemm_intrin(CFG))
    with _raises(ScheduleError, "tensorize: stage conv2d's inner block sum((int32(int8[b, k]) "
                 "* int32(int8[o, k]))) over (b, o, k) = (1, 16, 16) does not match intrinsic "
                 "gemm's sum((int32(int8[b, k]) * int32(int8[o, k]))) over (1, 4, 4)"):
        tensorize(conv2d_blocked(CFG, 1, 4, 4, 58, 58, 3, 3, (1, 1)),
                  gemm_intrin(HwConfig.small()))


def test_workload_and_operand_errors() -> None:
    dw = Conv2dWorkload(1, 8, 8, 16, 16, 3, 3, 1, 1, 1, 1, groups=16)
    with _raises(UnsupportedError, "conv2d 'dw': groups must be 1 on the accelerator, not 16; "
                 "depthwise and grouped convolutions run on the CPU fallback"):
        _conv(dw, weight=np.zeros((16, 1, 3, 3), np.int8), name="dw")
    with _raises(UnsupportedError, "conv2d 'p': pad_h must be smaller than kernel_h (3) and at "
                 "most 15 (the DMA's padding field), not 3"):
        _conv(Conv2dWorkload(1, 8, 8, 16, 16, 3, 3, 3, 3, 1, 1), name="p")
    with _raises(UnsupportedError, "conv2d 'p': pad_right must be smaller than kernel_w (3) "
                 "and at most 15 (the DMA's padding field), not 4"):
        _conv(Conv2dWorkload(1, 8, 8, 16, 16, 3, 3, 1, 1, 1, 1, pad_right=4), name="p")
    with _raises(CompileError, "conv2d 'p': pad_bottom must be a non-negative int, not -1"):
        _conv(Conv2dWorkload(1, 8, 8, 16, 16, 3, 3, 1, 1, 1, 1, pad_bottom=-1), name="p")
    with _raises(CompileError, "conv2d 'c2': weight must be an int8 array, not int16"):
        _conv(C2, weight=np.zeros(C2.weight_shape, np.int16))
    with _raises(CompileError, "conv2d 'c2': weight must have shape (64, 64, 3, 3), "
                 "not (3, 64, 3, 3)"):
        _conv(C2, weight=np.zeros((3, 64, 3, 3), np.int8))
    with _raises(CompileError, "conv2d 'c2': bias must have shape (64,), not (3,)"):
        _conv(C2, bias=np.zeros(3, np.int32))
    with _raises(CompileError, "conv2d 'c2': shift must be an int in [0, 31], not 40"):
        _conv(C2, shift=40)
    with _raises(CompileError, "dense 'fc': k must be a positive int, not 0"):
        build_qdense(DenseWorkload(1, 0, 4), np.zeros((4, 0), np.int8), None, 0, False, CFG,
                     name="fc")


def test_tensorize_annotation_of_the_te_schedule_is_checked() -> None:
    from tessera.compiler.vta.lower import Epilogue
    from tessera.compiler.vta.schedule import check_schedule
    from tessera.compiler.vta.te_schedule import check_tensorize, conv2d_te_schedule
    from tessera.compiler.vta.workload import conv2d_problem

    p = conv2d_problem(C2, CFG, "c2")
    t = check_schedule(p, CFG, GOOD, True)
    s, stages = conv2d_te_schedule(p, CFG, t, Epilogue(True, 8, True))
    assert check_tensorize(s, CFG) == 1
    gem = s[stages[0]]
    assert gem.name == "res_gem.acc_buffer" and gem.scope == "acc_buffer"
    gem.tensorize("kh", "gemm")  # a second annotation, on a loop too far out
    with _raises(ScheduleError, "stage res_gem.acc_buffer: tensorize at loop kh covers loops "
                 "(kh, kw, b.c, o.c, k), but intrinsic gemm covers 3 loops (b, o, k)"):
        check_tensorize(s, CFG)
    s2, stages2 = conv2d_te_schedule(p, CFG, t, Epilogue(False, 0, False))
    s2[stages2[0]].tensorize("k", "dot")
    with _raises(ScheduleError, "stage res_gem.acc_buffer: tensorize intrinsic must be one of "
                 "['gemm'], not 'dot'"):
        check_tensorize(s2, CFG)
