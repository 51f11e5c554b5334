"""Compile LLVM IR for the host (or load its cached object code) and call the entry point on
numpy arrays."""

from __future__ import annotations

import ctypes
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass

import llvmlite.binding as llvm
import numpy as np

from tessera.runtime.cpu import object_cache
from tessera.runtime.cpu.launcher import LAUNCH_FN, NUM_THREADS, ensure_launcher
from tessera.runtime.cpu.objfile import object_problem
from tessera.runtime.cpu.target import HostTarget, host_target
from tessera.runtime.device import DeviceError

log = logging.getLogger(__name__)
# LLVM compilations (optimization + code generation), objects taken from the on-disk cache,
# and objects linked (every kernel loaded), process-wide: what a warm cache or an artifact
# with object code saves is visible here.
STATS = {"compiled": 0, "cached": 0, "linked": 0}
_LAUNCH_DECL = re.compile(r'declare void @"?__tessera_parallel_launch"?\(([^)]*)\)')


class KernelCallError(DeviceError):
    """A kernel was called with arguments that do not match its parameters."""


@dataclass(frozen=True)
class ParamSpec:
    name: str
    dtype: str
    shape: tuple[int, ...]


def default_num_threads() -> int:
    env = os.environ.get("TESSERA_NUM_THREADS")
    if env and env.isdigit() and int(env) > 0:
        return int(env)
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (
        os.cpu_count() or 1)


class CpuKernel:
    """A compiled kernel: call it with one C-contiguous numpy array per parameter."""

    def __init__(self, engine: llvm.ExecutionEngine, entry: str, params: Sequence[ParamSpec],
                 llvm_ir: str, asm: str | None, target: HostTarget,
                 obj: bytes | None = None) -> None:
        self._engine = engine
        self.obj = obj  # the native object code it runs (None for a module JIT-ed directly)
        self.entry = entry
        self.params = tuple(params)
        self.llvm_ir = llvm_ir
        self._asm = asm
        self.target = target
        addr = engine.get_function_address(entry)
        if not addr:
            raise DeviceError(f"kernel {entry}: entry point must exist in the module, not missing")
        proto = ctypes.CFUNCTYPE(None, *([ctypes.c_void_p] * len(self.params)))
        self._fn = proto(addr)
        gaddr = engine.get_global_value_address(NUM_THREADS)
        self._threads = ctypes.c_int32.from_address(gaddr) if gaddr else None
        self.num_threads = default_num_threads()

    @property
    def num_threads(self) -> int:
        return int(self._threads.value) if self._threads is not None else 1

    @num_threads.setter
    def num_threads(self, n: int) -> None:
        if not isinstance(n, int) or n < 1:
            raise KernelCallError(f"kernel {self.entry}: num_threads must be a positive int, "
                                  f"not {n!r}")
        if self._threads is not None:
            self._threads.value = n

    def check(self, arrays: Sequence[np.ndarray]) -> list[int]:
        if len(arrays) != len(self.params):
            raise KernelCallError(f"kernel {self.entry}: must be called with {len(self.params)} "
                                  f"arrays ({', '.join(p.name for p in self.params)}), not "
                                  f"{len(arrays)}")
        ptrs = []
        for p, a in zip(self.params, arrays):
            if not isinstance(a, np.ndarray):
                raise KernelCallError(f"kernel {self.entry}: argument {p.name} must be a numpy "
                                      f"array, not {type(a).__name__}")
            if a.dtype != np.dtype(p.dtype) or tuple(a.shape) != p.shape:
                raise KernelCallError(f"kernel {self.entry}: argument {p.name} must be "
                                      f"{p.dtype}{list(p.shape)}, not {a.dtype}{list(a.shape)}")
            if not a.flags.c_contiguous:
                raise KernelCallError(f"kernel {self.entry}: argument {p.name} must be "
                                      f"C-contiguous, not strided")
            ptrs.append(a.ctypes.data)
        return ptrs

    def __call__(self, *arrays: np.ndarray) -> None:
        self._fn(*self.check(arrays))

    def call_unchecked(self, *ptrs: int) -> None:
        """Call with raw data pointers (the benchmark loop; no checks)."""
        self._fn(*ptrs)

    @property
    def asm(self) -> str:
        return self._asm or ""

    def spec(self) -> dict[str, object]:
        """A JSON-able description (LLVM IR, entry, parameters) that ``load_spec`` reloads,
        so an artifact can carry the kernel and the runtime run it without the compiler."""
        return {"format": "tessera-cpu-kernel/1", "entry": self.entry, "llvm_ir": self.llvm_ir,
                "params": [{"name": p.name, "dtype": p.dtype, "shape": list(p.shape)}
                           for p in self.params]}


def load_spec(spec: dict[str, object]) -> CpuKernel:
    """Recompile a kernel from ``CpuKernel.spec()`` for this host."""
    if spec.get("format") != "tessera-cpu-kernel/1":
        raise KernelCallError(f"load_spec: format must be 'tessera-cpu-kernel/1', not "
                              f"{spec.get('format')!r}")
    params = [ParamSpec(str(p["name"]), str(p["dtype"]), tuple(int(d) for d in p["shape"]))
              for p in spec["params"]]  # type: ignore[attr-defined]
    return load_kernel(str(spec["llvm_ir"]), str(spec["entry"]), params)


def load_kernel(llvm_ir: str, entry: str, params: Sequence[ParamSpec | tuple[str, str,
                tuple[int, ...]]], target: HostTarget | None = None, opt: int = 3,
                keep_asm: bool = False) -> CpuKernel:
    """Parse, optimize (O3 for the host CPU) and compile ``llvm_ir`` to object code, or take
    that object from the on-disk kernel cache (``object_cache``); load it and return its entry
    as a kernel. ``keep_asm`` compiles afresh and keeps the assembly and the optimized IR."""
    tgt = target or host_target()
    _check_launcher_decl(llvm_ir, entry)
    key = object_cache.object_key(llvm_ir, tgt, opt)
    obj = None if keep_asm else object_cache.get(key)
    problem = object_problem(obj, tgt) if obj is not None else None
    if problem:
        log.warning("kernel cache: entry of %s is not an object (%s); recompiling", entry,
                    problem)
        obj = None
    asm = None
    text = llvm_ir
    if obj is not None:
        STATS["cached"] += 1
    else:
        STATS["compiled"] += 1
        mod = _optimize(llvm_ir, tgt, opt)
        tm = tgt.target_machine(opt)
        asm = tm.emit_assembly(mod) if keep_asm else None
        text = str(mod) if keep_asm else llvm_ir
        obj = tm.emit_object(mod)
        object_cache.put(key, obj)
    return load_object(obj, entry, params, text, tgt, asm)


def load_object(obj: bytes, entry: str, params: Sequence[ParamSpec | tuple[str, str,
                tuple[int, ...]]], llvm_ir: str, target: HostTarget | None = None,
                asm: str | None = None) -> CpuKernel:
    """Load native object code compiled for ``target`` (the host's, by default) and return
    its entry as a kernel: no LLVM optimization or code generation, only linking.
    ``llvm_ir`` is the source it was compiled from (kept for artifacts and ``spec``)."""
    tgt = target or host_target()
    problem = object_problem(obj, tgt)
    if problem:
        raise KernelCallError(f"kernel {entry}: object code must be {problem}")
    if LAUNCH_FN.encode() in obj:
        ensure_launcher()
    empty = llvm.parse_assembly("")
    empty.triple = tgt.triple
    engine = llvm.create_mcjit_compiler(empty, tgt.target_machine())
    engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
    engine.finalize_object()
    STATS["linked"] += 1
    specs = [p if isinstance(p, ParamSpec) else ParamSpec(*p) for p in params]
    return CpuKernel(engine, entry, specs, llvm_ir, asm, tgt, obj)


def _check_launcher_decl(llvm_ir: str, entry: str) -> None:
    if LAUNCH_FN in llvm_ir:
        decl = _LAUNCH_DECL.search(llvm_ir)
        if decl is not None and decl.group(1).count(",") != 3:
            raise DeviceError(f"kernel {entry}: the parallel launcher must be declared with 4 "
                              f"parameters (fn, env, extent, threads), not "
                              f"{decl.group(1).count(',') + 1}: recompile the kernel")


def _optimize(llvm_ir: str, tgt: HostTarget, opt: int) -> llvm.ModuleRef:
    tm = tgt.target_machine(opt)
    mod = llvm.parse_assembly(llvm_ir)
    mod.triple = tgt.triple
    mod.data_layout = str(tm.target_data)
    mod.verify()
    pto = llvm.create_pipeline_tuning_options(speed_level=opt)
    pto.loop_vectorization = True
    pto.slp_vectorization = True
    pto.loop_unrolling = True
    pb = llvm.create_pass_builder(tm, pto)
    pb.getModulePassManager().run(mod, pb)
    return mod
