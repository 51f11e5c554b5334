"""The accelerator program lowered from the te schedule (``lowering="te"``): its loop IR, the
passes over it, their verifier, and equality with the template lowering (the oracle)."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from vta_helpers import RESNET18, conv_case, conv_reference, run_conv

import tessera.runtime as rt
from tessera.compiler.errors import CompileError, InternalError, UnsupportedError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.vta import DenseWorkload, build_qconv2d, build_qdense, default_schedule
from tessera.compiler.vta.lower import Epilogue
from tessera.compiler.vta.passes.accel_ir import AccelStmt
from tessera.compiler.vta.passes.inject_alu import inject_alu
from tessera.compiler.vta.passes.tensorize_gemm import tensorize_gemm
from tessera.compiler.vta.passes.verify import verify_accel
from tessera.compiler.vta.program import Flags, Gemm, Load, Loop
from tessera.compiler.vta.schedule import check_schedule
from tessera.compiler.vta.te_lower import loop_ir, lower_program
from tessera.compiler.vta.te_schedule import conv2d_te_schedule
from tessera.compiler.vta.workload import conv2d_problem
from tessera.hw import HwConfig
from tessera.hw import isa as I
from tessera.runtime.accel import AccelKernel

CFG = HwConfig.default()
SCHED = {"tile_n": 1, "tile_oc": 2, "tile_h": 14, "tile_w": 14, "tile_ic": 2, "vthreads": 2}
DENSE = DenseWorkload(1, 512, 1000)
CHEAP = ("C9", "C10", "C11")  # a 3x3 stride-2, a strided 1x1 and a 3x3 stride-1 layer


def _loop_ir(name: str = "C2", sched: dict[str, int] = SCHED) -> S.PrimFunc:
    p = conv2d_problem(RESNET18[name], CFG, name)
    t = check_schedule(p, CFG, sched, True)
    sch, _ = conv2d_te_schedule(p, CFG, t, Epilogue(True, 8, True))
    return loop_ir(sch, name)


def test_loop_ir_shows_scopes_pragmas_vthread_and_tensorize() -> None:
    """The listing users read: GEMM and epilogue attached under the output tile (the
    compute_at chain), the storage scopes, the pragmas, the vthread loop, the tensorize mark,
    the padding as a select the DMA turns into padded loads."""
    text = str(_loop_ir())
    lines = [ln.strip() for ln in text.splitlines()]
    for want in (
        "bias.acc_buffer = allocate(int32, [4, 1, 16], scope='acc_buffer')",
        "for i0.outer.i1.outer.fused.i2.outer.fused.i3.outer.fused.inner in range(2):  # vthread",
        "res_gem.acc_buffer = allocate(int32, [1, 2, 14, 14, 1, 16], scope='acc_buffer')",
        "data_pad.inp_buffer = allocate(int8, [1, 2, 16, 16, 1, 16], scope='inp_buffer')",
        "kernel.wgt_buffer = allocate(int8, [2, 2, 3, 3, 16, 16], scope='wgt_buffer')",
        "res_add = allocate(int32, [1, 2, 14, 14, 1, 16], scope='acc_buffer')",
        "res_max = allocate(int32, [1, 2, 14, 14, 1, 16], scope='acc_buffer')",
    ):
        assert want in lines, want
    assert lines.count("with attr('pragma_dma_copy', ''):") == 4  # bias, input, weight, store
    assert lines.count("with attr('pragma_alu', ''):") == 4  # add, shr, min, max
    assert lines.count("with attr('tensorize', 'gemm'):") == 2  # the reset and the update
    assert any(ln.startswith("data_pad.inp_buffer[ax0, ax1, ax2, ax3, ax4, ax5] = select(")
               for ln in lines)
    # the epilogue runs inside the vthread loop, after the reduction, before the store
    assert text.index("# vthread") < text.index("for ic.outer in range(2)") \
        < text.index("res_add = allocate") < text.index("res[")


def test_every_pass_is_ir_to_ir_and_verified() -> None:
    f = _loop_ir("C11", {"tile_n": 1, "tile_oc": 8, "tile_h": 7, "tile_w": 7, "tile_ic": 4,
                         "vthreads": 2})
    before = str(f)
    trace: list[tuple[str, S.PrimFunc]] = []
    ops = lower_program(f, CFG, 2, trace)
    assert str(f) == before  # no pass mutates its input
    assert [label for label, _ in trace] == ["unroll_host_loops", "tensorize_gemm",
                                             "inject_alu", "inject_dma_copy",
                                             "inject_virtual_threads"]
    texts = {label: str(g) for label, g in trace}
    assert "# vthread" not in texts["unroll_host_loops"]
    assert texts["unroll_host_loops"].count("with attr('vthread', '0'):") == 2  # 4 tiles
    assert "vta.gemm[res_gem.acc_buffer, data_pad.inp_buffer, kernel.wgt_buffer]" \
        in texts["tensorize_gemm"] and "attr('tensorize'" not in texts["tensorize_gemm"]
    assert "vta.alu[res_gem.acc_buffer, bias.acc_buffer]" in texts["inject_alu"]
    assert "pragma_alu" not in texts["inject_alu"] and "res_add" not in texts["inject_alu"]
    assert "vta.load[data_pad.inp_buffer]" in texts["inject_dma_copy"]
    assert "pragma_dma_copy" not in texts["inject_dma_copy"]
    assert "allocate" not in texts["inject_virtual_threads"]
    gemms = [op for op in ops if isinstance(op, Gemm) and not op.reset]
    assert len(gemms) == 4 * 8 and all(g.flags.pop_prev and g.flags.push_prev for g in gemms)
    assert {g.kernel[0][0] for g in gemms} == {0, 8 * 49}  # accumulator slots of 2 threads


def _same(a: AccelKernel, b: AccelKernel) -> None:
    assert a.insns == b.insns
    np.testing.assert_array_equal(a.consts["uops"], b.consts["uops"])
    assert a.tensors == b.tensors and a.region_bytes == b.region_bytes


def _conv_pair(name: str, v: int) -> tuple[AccelKernel, AccelKernel]:
    wkl = RESNET18[name]
    _, w, b = conv_case(wkl, 1)
    sched = default_schedule(wkl, CFG, vthreads=v)
    te_k, tmpl = (build_qconv2d(wkl, w, b, 8, True, CFG, schedule=sched, name=name,
                                lowering=low) for low in ("te", "template"))
    return te_k, tmpl


@pytest.mark.parametrize("v", [1, 2])
@pytest.mark.parametrize("name", [pytest.param(n, marks=() if n in CHEAP else pytest.mark.slow)
                                  for n in RESNET18])
def test_te_lowering_equals_the_template(name: str, v: int) -> None:
    """Same instruction stream, micro-op cache and DRAM placement as the template lowering,
    for every ResNet-18 layer at its default schedule with 1 and 2 virtual threads."""
    te_k, tmpl = _conv_pair(name, v)
    _same(te_k, tmpl)
    assert te_k.meta["lowering"] == "te" and tmpl.meta["lowering"] == "template"


@pytest.mark.parametrize("v", [1, 2])
def test_te_lowering_equals_the_template_on_dense(v: int) -> None:
    """1000 outputs in tiles that do not divide by the threads: the extra vthread iteration
    is dropped; the bias add broadcasts over the batch rows."""
    rng = np.random.default_rng(v)
    w = rng.integers(-128, 128, DENSE.weight_shape).astype(np.int8)
    b = rng.integers(-1000, 1000, DENSE.n).astype(np.int32)
    sched = default_schedule(DENSE, CFG, vthreads=v)
    te_k, tmpl = (build_qdense(DENSE, w, b, 7, False, CFG, schedule=sched, lowering=low)
                  for low in ("te", "template"))
    _same(te_k, tmpl)


def test_te_lowered_layer_is_exact_on_fsim() -> None:
    wkl = RESNET18["C11"]
    x, w, b = conv_case(wkl, 3)
    k = build_qconv2d(wkl, w, b, 9, True, CFG, schedule=default_schedule(wkl, CFG, 2),
                      lowering="te")
    y, _ = run_conv(k, wkl, x, rt.device("fsim", cfg=CFG))
    np.testing.assert_array_equal(y, conv_reference(wkl, x, w, b, 9, True))


def test_unknown_lowering_is_an_error() -> None:
    wkl = RESNET18["C11"]
    _, w, b = conv_case(wkl, 0)
    with pytest.raises(CompileError, match=r"^conv2d 'c11': lowering must be 'te' or "
                                           r"'template', not 'jit'$"):
        build_qconv2d(wkl, w, b, 8, False, CFG, name="c11", lowering="jit")


def _prog(*ops: AccelStmt) -> S.PrimFunc:
    return S.PrimFunc("bad", (), S.seq(*ops))


def test_verifier_rejects_wrong_scopes_out_of_bounds_and_unbalanced_tokens() -> None:
    inp = S.Buffer("x.inp_buffer", "int8", (1, 1, 4, 4, 1, 16), "inp_buffer")
    acc = S.Buffer("y.acc_buffer", "int32", (1, 1, 4, 4, 1, 16), "acc_buffer")
    load = Load(I.MemType.INP, "data", 0, 0, 4, 4, 4)
    verify_accel(_prog(AccelStmt(load, (inp,))), CFG, "p")
    with pytest.raises(InternalError, match=r"^p: operation 0 \(Load\): operand 0 must be in "
                                            r"inp_buffer, not y.acc_buffer in acc_buffer$"):
        verify_accel(_prog(AccelStmt(load, (acc,))), CFG, "p")
    with pytest.raises(InternalError, match=r"^p: operation 0 \(Load\): inp_buffer index must "
                                            r"stay below 16, not reach 19$"):
        verify_accel(_prog(AccelStmt(dataclasses.replace(load, sram_base=4), (inp,))), CFG,
                     "p")
    reset = Gemm(((0, 0, 0),), Loop(iter_in=16, dst=(0, 1)), reset=True)
    with pytest.raises(InternalError, match=r"^p: operation 0 \(Gemm\): pops queue l2c before "
                                            r"anything was pushed$"):
        verify_accel(_prog(AccelStmt(dataclasses.replace(reset, flags=Flags(pop_prev=True)))),
                     CFG, "p")
    pushes = [AccelStmt(dataclasses.replace(load, flags=Flags(push_next=True)))] * 65
    with pytest.raises(InternalError, match=r"^p: queue l2c must balance within 64 tokens, "
                                            r"not 65 pushes and 0 pops$"):
        verify_accel(_prog(*pushes), CFG, "p")


def _nest(body: S.Stmt, *extents: int) -> tuple[S.Stmt, list[E.Var]]:
    vs = [E.Var("int32", f"i{d}") for d in range(len(extents))]
    for v, n in reversed(list(zip(vs, extents))):
        body = S.For(v, E.Const("int32", 0), E.Const("int32", n), S.SERIAL, body)
    return body, vs


def test_passes_name_what_they_cannot_lower() -> None:
    acc = S.Buffer("res.acc_buffer", "int32", (1, 1, 2, 2, 1, 16), "acc_buffer")
    mul = S.Buffer("res_mul", "int32", (1, 1, 2, 2, 1, 16), "acc_buffer")
    idx = [E.Var("int32", f"i{d}") for d in range(6)]
    store = S.BufferStore(mul, E.Binary("int32", "*", E.BufferLoad("int32", acc, tuple(idx)),
                                        E.Const("int32", 3)), tuple(idx))
    nest_, _ = _nest(store, 1, 1, 2, 2, 1, 16)
    prog = S.Allocate(acc, S.Allocate(mul, S.AttrStmt("pragma_alu", "", nest_)))
    with pytest.raises(UnsupportedError, match=r"^inject_alu: stage res_mul must be src \+ "
                                               r"acc, src // 2\*\*s, min\(src, c\) or "
                                               r"max\(src, c\), not "):
        inject_alu(prog)
    zero = S.BufferStore(acc, E.Const("int32", 0), tuple(idx))
    lanes, _ = _nest(zero, 1, 1, 2, 2, 1, 16)
    with pytest.raises(UnsupportedError, match=r"^tensorize: intrinsic must be gemm, not "
                                               r"'dot'$"):
        tensorize_gemm(S.AttrStmt("tensorize", "dot", lanes))
