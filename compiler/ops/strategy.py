"""The strategy table: an output tensor's tag -> its default CPU schedule."""

from __future__ import annotations

from collections.abc import Callable

from tessera.compiler.errors import UnsupportedError
from tessera.compiler.ops.conv2d import schedule_conv2d_nchw
from tessera.compiler.ops.conv2d_nchwc import schedule_conv2d_nchwc
from tessera.compiler.ops.dense import schedule_matmul
from tessera.compiler.ops.depthwise import schedule_depthwise_conv2d_nchw
from tessera.compiler.ops.epilogue import TAG, split_epilogue
from tessera.compiler.ops.layout import TAG as LAYOUT_TAG
from tessera.compiler.ops.layout import schedule_layout_transform
from tessera.compiler.ops.nn import schedule_rowwise
from tessera.compiler.ops.pool import schedule_pool
from tessera.compiler.ops.reduce import schedule_reduce
from tessera.compiler.ops.schedule_util import schedule_injective
from tessera.compiler.tensor.schedule import Schedule
from tessera.compiler.tensor.tensor import Tensor

STRATEGY: dict[str, Callable[[Tensor], Schedule]] = {
    "matmul": schedule_matmul,
    "dense_bias": schedule_matmul,
    "conv2d_nchw": schedule_conv2d_nchw,
    "conv2d_nchw_direct": schedule_conv2d_nchw,
    "conv2d_nchwc": schedule_conv2d_nchwc,
    "depthwise_conv2d_nchw": schedule_depthwise_conv2d_nchw,
    "pool": schedule_pool,
    "pool_epilogue": schedule_pool,
    "reduce": schedule_reduce,
    "reduce_epilogue": schedule_reduce,
    "softmax": schedule_rowwise,
    "layer_norm": schedule_rowwise,
    "elemwise": schedule_injective,
    "broadcast": schedule_injective,
    "injective": schedule_injective,
    "pad": schedule_injective,
    LAYOUT_TAG: schedule_layout_transform,
}


def schedule_conv_epilogue(out: Tensor) -> Schedule:
    """A conv with a fused epilogue: the schedule of the conv underneath."""
    conv, _ = split_epilogue(out)
    if conv.op.tag == "conv2d_nchwc":
        return schedule_conv2d_nchwc(out)
    return schedule_conv2d_nchw(out)


STRATEGY[TAG] = schedule_conv_epilogue


def schedule(out: Tensor) -> Schedule:
    """The default CPU schedule for an operator's output (looked up by its tag)."""
    tag = getattr(out.op, "tag", "")
    fn = STRATEGY.get(tag)
    if fn is None:
        raise UnsupportedError(f"ops.schedule: output {out.name} must come from a library "
                               f"operator with a known tag ({', '.join(sorted(STRATEGY))}), "
                               f"not tag {tag!r}")
    return fn(out)
