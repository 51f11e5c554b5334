"""Tensor intrinsics: a hardware operation declared as its own tensor expression.

The accelerator lowering declares, e.g., its GEMM core as ``out[i, j] = sum(a[i, k] *
b[j, k])`` over a 1x16x16 block; ``s[C].tensorize(loop, intrin)`` marks the loop nest under
``loop`` and lowering leaves ``AttrStmt("tensorize", intrin.name)`` around it for the
target's pass (registered through ``lower(..., passes=...)``) to match against
``intrin.out`` and replace with ``intrin.lower(...)``'s instructions.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tessera.compiler.errors import CompileError
from tessera.compiler.tensor.tensor import ComputeOp, Tensor


@dataclass(frozen=True, eq=False)
class TensorIntrin:
    """An intrinsic: its name, its computation (``out`` from ``inputs``) and a target hook."""

    name: str
    out: Tensor
    inputs: tuple[Tensor, ...]
    lower: Callable[..., Any] | None = None


_REGISTRY: dict[str, TensorIntrin] = {}


def decl_tensor_intrin(out: Tensor, inputs: list[Tensor] | tuple[Tensor, ...], name: str,
                       lower: Callable[..., Any] | None = None) -> TensorIntrin:
    """Declare (and register by name) an intrinsic computing ``out`` from ``inputs``."""
    if not isinstance(out.op, ComputeOp):
        raise CompileError(f"tensor intrinsic {name}: out must be a computed tensor, not a "
                           f"placeholder")
    if not name:
        raise CompileError("tensor intrinsic: name must be a non-empty string, not ''")
    intrin = TensorIntrin(name, out, tuple(inputs), lower)
    _REGISTRY[name] = intrin
    return intrin


def get_tensor_intrin(name: str) -> TensorIntrin:
    try:
        return _REGISTRY[name]
    except KeyError:
        raise CompileError(f"tensor intrinsic {name!r} must be declared with "
                           f"decl_tensor_intrin, not unknown") from None
