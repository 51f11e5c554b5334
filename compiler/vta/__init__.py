"""tessera.compiler.vta: the ``vta`` target -- int8 conv2d and dense on the accelerator.

    from tessera.compiler.vta import build_qconv2d, build_qdense, Conv2dWorkload, DenseWorkload
    kernel = build_qconv2d(wkl, weight_oihw_int8, bias_int32_or_None, shift, relu, cfg,
                           schedule=None, name="c2")        # -> runtime.accel.AccelKernel
    outs, res = kernel.run(rt.device("fsim", cfg=cfg), {"data": pack_activation(x, cfg)})
    y = unpack_activation(outs["out"], (n, o, oh, ow), cfg, kind="out")

The program comes from lowering the layer's te schedule (``te_schedule``) to a loop IR
(``te_lower.loop_ir``, printable) and through the accelerator passes (``passes/``);
``lowering="template"`` builds the same program with the template passes (the oracle).

Tensors: ``data`` (input, ``hw.layout`` blocked activation or matrix), ``out`` (output,
blocked), ``weight``/``bias``/``uops`` (constants). Channels and batch are padded to the
block with zeros. ``kernel.meta`` records the schedule, the MACs and the micro-op cache size.

Schedules: ``knob_space(wkl, cfg)`` lists the knobs (tile_n, tile_oc, tile_h, tile_w, tile_ic,
vthreads) and their values; ``default_schedule(wkl, cfg, vthreads=None)`` the estimated best;
``validate_schedule(wkl, cfg, schedule)`` checks a point without building and
``estimate_cycles(wkl, cfg, schedule)`` gives the estimator's cycles (a tuner's prior); an
illegal point (a buffer overflow, an unknown knob or value) is a ``ScheduleError``.

Depthwise and grouped convolutions (``groups > 1``) are not offloaded: ``build_qconv2d``
raises ``UnsupportedError`` and the partitioner keeps them on the CPU (the accelerator's
GEMM reduces over a whole input-channel block, which a depthwise conv would fill with 15
zeros out of 16).
"""

from tessera.compiler.vta.build import (
    build_qconv2d,
    build_qdense,
    default_schedule,
    estimate_cycles,
    knob_space,
    validate_schedule,
)
from tessera.compiler.vta.intrin import gemm_intrin, tensorize
from tessera.compiler.vta.schedule import KNOBS
from tessera.compiler.vta.workload import Conv2dWorkload, DenseWorkload

__all__ = [
    "KNOBS", "Conv2dWorkload", "DenseWorkload", "build_qconv2d", "build_qdense",
    "default_schedule", "estimate_cycles", "gemm_intrin", "knob_space", "tensorize",
    "validate_schedule",
]
