"""``build``: schedule or PrimFunc -> a callable CPU kernel, through a compiled-kernel cache.

The cache key is a structural hash (the printed lowered IR) plus the target description, so
the same operator with the same schedule compiles once per process.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Sequence

from tessera.compiler.codegen.llvm import codegen_llvm
from tessera.compiler.errors import CompileError, UnsupportedError
from tessera.compiler.tensor.lower import lower
from tessera.compiler.tensor.schedule import Schedule
from tessera.compiler.tensor.stmt import PrimFunc
from tessera.compiler.tensor.tensor import Tensor
from tessera.runtime.cpu import CpuKernel, host_target, load_kernel
from tessera.runtime.cpu.kernel import ParamSpec

log = logging.getLogger(__name__)

_CACHE: dict[str, CpuKernel] = {}
_LOCK = threading.Lock()
STATS = {"hits": 0, "misses": 0}


def structural_key(func: PrimFunc, target: str) -> str:
    attrs = ";".join(f"{k}={v}" for k, v in sorted(func.attrs.items()))
    text = func.script() + "\n" + attrs + "\n" + target + "\n" + host_target().key
    return hashlib.sha256(text.encode()).hexdigest()


def build(sch_or_func: Schedule | PrimFunc, args: Sequence[Tensor] | None = None,
          target: str = "llvm", name: str = "main", keep_asm: bool = False) -> CpuKernel:
    """Compile a schedule (lowered with ``args``) or a lowered PrimFunc for the host CPU.

    The result is called with numpy arrays in parameter order: ``kernel(a, b, c)``.
    """
    if target != "llvm":
        raise UnsupportedError(f"build: target must be 'llvm', not {target!r}")
    if isinstance(sch_or_func, Schedule):
        if args is None:
            raise CompileError("build: args must be given with a schedule, not None")
        func = lower(sch_or_func, args, name)
    elif isinstance(sch_or_func, PrimFunc):
        func = sch_or_func
    else:
        raise CompileError(f"build: input must be a Schedule or PrimFunc, not "
                           f"{type(sch_or_func).__name__}")
    key = structural_key(func, target) + ("+asm" if keep_asm else "")
    with _LOCK:
        hit = _CACHE.get(key)
    if hit is not None:
        STATS["hits"] += 1
        return hit
    t0 = time.perf_counter()
    text = codegen_llvm(func)
    params = [ParamSpec(b.name, b.dtype, _shape(func, i, args)) for i, b in enumerate(func.params)]
    kernel = load_kernel(text, func.name, params, keep_asm=keep_asm)
    log.debug("compiled %s in %.3f s", func.name, time.perf_counter() - t0)
    with _LOCK:
        _CACHE[key] = kernel
    STATS["misses"] += 1
    return kernel


def _shape(func: PrimFunc, i: int, args: Sequence[Tensor] | None) -> tuple[int, ...]:
    shape = func.attrs.get(f"shape{i}")
    return tuple(int(x) for x in shape.split(",")) if shape else func.params[i].shape


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
