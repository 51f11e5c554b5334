"""Numpy reference kernels of every graph operator: the executable semantics of the op set.

Constant folding in the compiler evaluates nodes with these kernels, and the graph executor
runs them for any op that has no compiled kernel. Attributes are the *normalized* ones the
ONNX frontend produces (defaults resolved across opsets, static inputs turned into
attributes), so each kernel sees one form of its op.

    from tessera.runtime.reference import KERNELS, run_kernel
    (y,) = run_kernel("Relu", [x], {})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from tessera.runtime.reference import elementwise, nn, pool, quantized, resize, shape
from tessera.runtime.reference.common import Kernel

KERNELS: dict[str, Kernel] = {
    **elementwise.KERNELS,
    **nn.KERNELS,
    **pool.KERNELS,
    **shape.KERNELS,
    **resize.KERNELS,
    **quantized.KERNELS,
}


class KernelError(Exception):
    """An op has no reference kernel (an internal inconsistency between registry and kernels)."""


def run_kernel(
    op: str, inputs: Sequence[np.ndarray], attrs: Mapping[str, Any]
) -> tuple[np.ndarray, ...]:
    """Run the reference kernel of ``op``; always returns a tuple of outputs."""
    fn = KERNELS.get(op)
    if fn is None:
        raise KernelError(f"op {op!r} has no reference kernel")
    out = fn(list(inputs), dict(attrs))
    if isinstance(out, tuple):
        return tuple(np.asarray(o) for o in out)
    return (np.asarray(out),)


__all__ = ["KERNELS", "Kernel", "KernelError", "run_kernel"]
