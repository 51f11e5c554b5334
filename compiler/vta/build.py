"""The public build functions of the ``vta`` target: an int8 layer -> ``AccelKernel``.

The pipeline, top to bottom: check the workload and the operands; pick or check the schedule
(``schedule``/``default_schedule``: buffer fit); apply it as a te schedule
(``te_schedule``: storage scopes, the GEMM and epilogue attached under the output tile, the
vthread axis, pragmas) and check its tensorization of the layer's inner block onto the GEMM
intrinsic (``intrin.tensorize``). Then, with ``lowering="te"`` (the default), the te schedule
drives code generation: ``te_lower.loop_ir`` lowers it to the loop IR and the accelerator
passes (``passes/``: unroll the host loops, tensorize the GEMM, inject the ALU epilogue and
the DMA windows, interleave virtual threads with dependency tokens) give the program. With
``lowering="template"`` the template passes build the same program from the tiling knobs
(``lower``: tiles, steps, DMA windows, ALU epilogues; ``sync``: virtual threads and tokens);
they stay as the oracle the te path is tested against. Last, the instruction stream,
micro-op cache and DRAM placement (``tessera.compiler.codegen.vta``) and the static check of
the kernel (``verify``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypeAlias

import numpy as np

from tessera.compiler.codegen.vta import TensorSpec, generate
from tessera.compiler.errors import CompileError
from tessera.compiler.vta.default_schedule import best_schedule
from tessera.compiler.vta.default_schedule import estimate_cycles as _estimate
from tessera.compiler.vta.lower import Epilogue, lower_layer
from tessera.compiler.vta.schedule import check_schedule, problem_knob_space
from tessera.compiler.vta.sync import inject_virtual_threads
from tessera.compiler.vta.te_lower import loop_ir, lower_program
from tessera.compiler.vta.te_schedule import check_tensorize, conv2d_te_schedule
from tessera.compiler.vta.verify import verify_kernel
from tessera.compiler.vta.workload import (
    Conv2dWorkload,
    DenseWorkload,
    Problem,
    conv2d_problem,
    dense_problem,
)
from tessera.hw import layout
from tessera.hw.config import HwConfig
from tessera.runtime.accel import AccelKernel

Workload: TypeAlias = Conv2dWorkload | DenseWorkload


def _problem(wkl: Workload, cfg: HwConfig, name: str) -> Problem:
    if isinstance(wkl, Conv2dWorkload):
        return conv2d_problem(wkl, cfg, name)
    if isinstance(wkl, DenseWorkload):
        return dense_problem(wkl, cfg, name)
    raise CompileError(
        f"workload must be a Conv2dWorkload or DenseWorkload, not {type(wkl).__name__}"
    )


def knob_space(wkl: Workload, cfg: HwConfig) -> dict[str, tuple[int, ...]]:
    """Every knob of ``wkl``'s schedule and its candidate values (``check_schedule`` also
    rejects combinations that overflow a buffer or set both tile_n and tile_h above 1)."""
    return problem_knob_space(_problem(wkl, cfg, "layer"))


def validate_schedule(wkl: Workload, cfg: HwConfig, schedule: Mapping[str, int],
                      bias: bool = True) -> dict[str, int]:
    """``schedule`` checked without building (ScheduleError for an illegal point: unknown
    knob, illegal value, a buffer overflow); the micro-op cache is checked at build time."""
    p = _problem(wkl, cfg, "layer")
    return check_schedule(p, cfg, schedule, bias).knobs()


def estimate_cycles(wkl: Workload, cfg: HwConfig, schedule: Mapping[str, int],
                    bias: bool = True, shift: bool = True) -> int:
    """The default-schedule estimator's cycles for ``schedule`` (a prior for the tuner)."""
    p = _problem(wkl, cfg, "layer")
    return _estimate(p, cfg, check_schedule(p, cfg, schedule, bias), bias, shift)


def default_schedule(wkl: Workload, cfg: HwConfig, vthreads: int | None = None,
                     bias: bool = True, shift: bool = True) -> dict[str, int]:
    """The default schedule of ``wkl`` (the least estimated cycles; ``vthreads`` fixed when
    given: 1 turns latency hiding off)."""
    return best_schedule(_problem(wkl, cfg, "layer"), cfg, bias, shift, vthreads)


def _operands(where: str, weight: np.ndarray, shape: tuple[int, ...], bias: np.ndarray | None,
              out: int, shift: int, relu: bool) -> None:
    if not isinstance(weight, np.ndarray) or weight.dtype != np.int8:
        got = weight.dtype if isinstance(weight, np.ndarray) else type(weight).__name__
        raise CompileError(f"{where}: weight must be an int8 array, not {got}")
    if weight.shape != shape:
        raise CompileError(f"{where}: weight must have shape {shape}, not {weight.shape}")
    if bias is not None:
        if not isinstance(bias, np.ndarray) or bias.dtype != np.int32:
            got = bias.dtype if isinstance(bias, np.ndarray) else type(bias).__name__
            raise CompileError(f"{where}: bias must be an int32 array or None, not {got}")
        if bias.shape != (out,):
            raise CompileError(f"{where}: bias must have shape {(out,)}, not {bias.shape}")
    if not isinstance(shift, (int, np.integer)) or not 0 <= int(shift) <= 31:
        raise CompileError(f"{where}: shift must be an int in [0, 31], not {shift!r}")
    if not isinstance(relu, (bool, np.bool_)):
        raise CompileError(f"{where}: relu must be a bool, not {relu!r}")


def _build(p: Problem, cfg: HwConfig, schedule: Mapping[str, int] | None, epi: Epilogue,
           specs: list[TensorSpec], consts: dict[str, np.ndarray], meta: dict[str, Any],
           lowering: str) -> AccelKernel:
    point = dict(schedule) if schedule is not None else best_schedule(
        p, cfg, epi.bias, bool(epi.shift))
    tiling = check_schedule(p, cfg, point, epi.bias)
    # The schedule template as a te schedule; its tensorize annotation is checked against the
    # GEMM intrinsic (the layer's inner (b, o, k) block must be the intrinsic's compute).
    sch, _ = conv2d_te_schedule(p, cfg, tiling, epi)
    check_tensorize(sch, cfg)
    if lowering == "te":
        ops = lower_program(loop_ir(sch, p.name), cfg, tiling.vthreads)
    elif lowering == "template":
        ops = inject_virtual_threads(lower_layer(p, tiling, epi))
    else:
        raise CompileError(f"{p.kind} {p.name!r}: lowering must be 'te' or 'template', "
                           f"not {lowering!r}")
    meta = {**meta, "kind": p.kind, "schedule": tiling.knobs(), "macs": p.macs,
            "lowering": lowering,
            "te_schedule": sch.trace_text(),
            "block_macs": p.nb * p.ocb * p.icb * p.oh * p.ow * p.kh * p.kw
            * cfg.macs_per_cycle}
    kernel = generate(p.name, cfg, ops, specs, consts, p.macs, meta, f"{p.kind} {p.name!r}")
    verify_kernel(kernel)
    return kernel


def build_qconv2d(
    wkl: Conv2dWorkload, weight: np.ndarray, bias: np.ndarray | None, shift: int, relu: bool,
    cfg: HwConfig, schedule: Mapping[str, int] | None = None, name: str = "qconv2d",
    lowering: str = "te",
) -> AccelKernel:
    """An int8 conv2d layer on the accelerator: ``qnn.qconv2d(x, weight, bias, shift, relu,
    stride, pad)`` exactly. Input ``data``: ``pack_activation(x, cfg, "inp")``; output
    ``out``: ``(N/b, O/bo, OH, OW, b, bo)`` int8 (``unpack_activation(..., kind="out")``).
    ``lowering``: ``"te"`` (the te schedule through the loop-IR passes) or ``"template"``
    (the template passes; the same program)."""
    p = conv2d_problem(wkl, cfg, name)
    _operands(f"conv2d {name!r}", weight, wkl.weight_shape, bias, wkl.out_channels, shift,
              relu)
    specs = [TensorSpec("weight", "const",
                        layout.packed_shape("wgt", wkl.weight_shape, cfg), "int8", "wgt")]
    consts = {"weight": layout.pack_weight(weight, cfg)}
    if bias is not None:
        specs.append(TensorSpec("bias", "const", (p.ocb, cfg.batch, cfg.block_out), "int32",
                                "acc"))
        consts["bias"] = layout.pack_bias(bias, cfg)
    specs += [
        TensorSpec("data", "input", (p.nb, p.icb, p.h, p.w, cfg.batch, cfg.block_in), "int8",
                   "inp"),
        TensorSpec("out", "output", (p.nb, p.ocb, p.oh, p.ow, cfg.batch, cfg.block_out),
                   "int8", "out"),
    ]
    epi = Epilogue(bias is not None, int(shift), bool(relu))
    meta = {"workload": dataclasses.asdict(wkl), "shift": int(shift), "relu": bool(relu)}
    return _build(p, cfg, schedule, epi, specs, consts, meta, lowering)


def build_qdense(
    wkl: DenseWorkload, weight: np.ndarray, bias: np.ndarray | None, shift: int, relu: bool,
    cfg: HwConfig, schedule: Mapping[str, int] | None = None, name: str = "qdense",
    lowering: str = "te",
) -> AccelKernel:
    """An int8 dense layer: ``qnn.qdense(x, weight, bias, shift, relu)`` exactly. Input
    ``data``: ``(M/b, K/bi, b, bi)`` (``pack_matrix_inp``); output ``out``:
    ``(M/b, N/bo, b, bo)`` int8 (``unpack_matrix``). ``lowering`` as for ``build_qconv2d``."""
    p = dense_problem(wkl, cfg, name)
    _operands(f"dense {name!r}", weight, wkl.weight_shape, bias, wkl.n, shift, relu)
    specs = [TensorSpec("weight", "const", (p.ocb, p.icb, cfg.block_out, cfg.block_in),
                        "int8", "wgt")]
    consts = {"weight": layout.pack_matrix_wgt(weight, cfg)}
    if bias is not None:
        specs.append(TensorSpec("bias", "const", (p.ocb, cfg.batch, cfg.block_out), "int32",
                                "acc"))
        consts["bias"] = layout.pack_bias(bias, cfg)
    specs += [
        TensorSpec("data", "input", (p.nb, p.icb, cfg.batch, cfg.block_in), "int8", "inp"),
        TensorSpec("out", "output", (p.nb, p.ocb, cfg.batch, cfg.block_out), "int8", "out"),
    ]
    epi = Epilogue(bias is not None, int(shift), bool(relu))
    meta = {"workload": dataclasses.asdict(wkl), "shift": int(shift), "relu": bool(relu)}
    return _build(p, cfg, schedule, epi, specs, consts, meta, lowering)
