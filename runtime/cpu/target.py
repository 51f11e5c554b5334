"""The host CPU as LLVM sees it: triple, CPU name, features, vector width (detected at run time)."""

from __future__ import annotations

import functools
from dataclasses import dataclass

import llvmlite.binding as llvm


@functools.cache
def init_llvm() -> None:
    llvm.initialize_native_target()
    llvm.initialize_native_asmprinter()


@dataclass(frozen=True)
class HostTarget:
    triple: str
    cpu: str
    features: str

    def has(self, feature: str) -> bool:
        return f"+{feature}" in self.features.split(",")

    @property
    def vector_bits(self) -> int:
        """Widest native float vector: 512 with AVX-512F, 256 with AVX, else 128."""
        if self.has("avx512f"):
            return 512
        if self.has("avx") or self.has("avx2"):
            return 256
        return 128

    def vector_lanes(self, dtype_bits: int = 32) -> int:
        return self.vector_bits // dtype_bits

    @property
    def key(self) -> str:
        return f"{self.triple}|{self.cpu}|{self.features}"

    def target_machine(self, opt: int = 3) -> llvm.TargetMachine:
        init_llvm()
        target = llvm.Target.from_triple(self.triple)
        return target.create_target_machine(cpu=self.cpu, features=self.features, opt=opt,
                                            codemodel="jitdefault", jit=True)


@functools.cache
def host_target() -> HostTarget:
    init_llvm()
    return HostTarget(llvm.get_process_triple(), llvm.get_host_cpu_name(),
                      llvm.get_host_cpu_features().flatten())


@functools.cache
def cpuinfo_flags() -> frozenset[str]:
    """The kernel's CPU flag names (``/proc/cpuinfo``, e.g. ``avx512f``, ``sse4_2``) for
    benchmark records; empty where the file does not exist."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()
