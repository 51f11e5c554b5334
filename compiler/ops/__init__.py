"""tessera.compiler.ops: operators as tensor expressions, each with a default CPU schedule.

    from tessera.compiler import ops, tensor as te
    from tessera.compiler.codegen import build
    A = te.placeholder((M, K)); B = te.placeholder((K, N))
    C = ops.matmul(A, B)
    kernel = build(ops.schedule(C), [A, B, C])     # or ops.schedule_matmul(C)
    kernel(a, b, c)

Operators: matmul, dense, conv2d_nchw, conv2d_nchwc (+ nchw_to_nchwc, oihw_to_blocked),
depthwise_conv2d_nchw, max_pool2d, avg_pool2d, global_pool2d, elementwise (add, subtract,
multiply, divide, maximum, minimum, exp, log, sqrt, tanh, erf, sigmoid, relu, gelu, negative,
abs, cast, clip; numpy broadcasting), softmax, layer_norm, reductions (sum, max, min, mean),
transpose, pad, concat, layout_transform (NCHW <-> NCHW[b]c). The convs take a fused
``epilogue`` (``ops.epilogue``: bias, residual add, Relu, Clip), written with their output.
``ops.schedule(out)`` picks the default schedule by the output's tag (``strategy.STRATEGY``);
``schedule_<kind>(out)`` names each one.
"""

from tessera.compiler.ops import reduce
from tessera.compiler.ops.conv2d import conv2d_nchw, schedule_conv2d_nchw
from tessera.compiler.ops.conv2d_nchwc import (
    conv2d_nchwc,
    nchw_to_nchwc,
    oihw_to_blocked,
    schedule_conv2d_nchwc,
)
from tessera.compiler.ops.dense import MatmulConfig, dense, matmul, schedule_matmul
from tessera.compiler.ops.depthwise import depthwise_conv2d_nchw, schedule_depthwise_conv2d_nchw
from tessera.compiler.ops.elemwise import (
    abs,
    add,
    cast,
    clip,
    divide,
    erf,
    exp,
    gelu,
    log,
    maximum,
    minimum,
    multiply,
    negative,
    relu,
    sigmoid,
    sqrt,
    subtract,
    tanh,
)
from tessera.compiler.ops.layout import layout_transform, schedule_layout_transform
from tessera.compiler.ops.nn import layer_norm, schedule_rowwise, softmax
from tessera.compiler.ops.pad import pad
from tessera.compiler.ops.pool import avg_pool2d, global_pool2d, max_pool2d, schedule_pool
from tessera.compiler.ops.reduce import mean, schedule_reduce
from tessera.compiler.ops.schedule_util import schedule_injective
from tessera.compiler.ops.strategy import STRATEGY, schedule
from tessera.compiler.ops.transform import concat, transpose

reduce_sum, reduce_max, reduce_min = reduce.sum, reduce.max, reduce.min

__all__ = [
    "STRATEGY", "MatmulConfig", "abs", "add", "avg_pool2d", "cast", "clip", "concat",
    "conv2d_nchw", "conv2d_nchwc", "dense", "depthwise_conv2d_nchw", "divide", "erf", "exp",
    "gelu", "global_pool2d", "layer_norm", "layout_transform", "log", "matmul", "max_pool2d",
    "maximum", "mean", "minimum", "multiply", "nchw_to_nchwc", "negative", "oihw_to_blocked",
    "pad", "reduce_max", "reduce_min", "reduce_sum", "relu", "schedule", "schedule_conv2d_nchw",
    "schedule_conv2d_nchwc", "schedule_depthwise_conv2d_nchw", "schedule_injective",
    "schedule_layout_transform", "schedule_matmul", "schedule_pool", "schedule_reduce",
    "schedule_rowwise", "sigmoid", "softmax", "sqrt", "subtract", "tanh", "transpose",
]
