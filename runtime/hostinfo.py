"""What a benchmark record says about where it ran: one machine and versions descriptor for
every script in ``scripts/`` (so their JSON can be compared and joined).

    {"machine": machine(), "versions": versions("onnxruntime", "llvmlite"), ...}

Speed is only ever judged as a ratio against a reference measured in the same run; these
fields say which machine kind and which load the ratio was taken under.
"""

from __future__ import annotations

import os
import platform
from importlib import metadata
from typing import Any

from tessera.runtime.cpu.target import cpuinfo_flags

SIMD_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "neon",
              "sve")


def machine() -> dict[str, Any]:
    """Platform, CPU count, LLVM's name for the CPU, SIMD flags and the vector width the
    kernels use, the load average at call time, and the BLAS libraries numpy uses (with their
    thread counts)."""
    from tessera.runtime.cpu import host_target

    flags = cpuinfo_flags()
    target = host_target()
    out: dict[str, Any] = {
        "platform": platform.platform(), "machine": platform.machine(),
        "processor": platform.processor(), "cpus": os.cpu_count(), "cpu": target.cpu,
        "cpu_flags": [f for f in SIMD_FLAGS if f in flags],
        "vector_bits": target.vector_bits,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    try:
        from threadpoolctl import threadpool_info

        out["blas"] = [{k: i.get(k) for k in ("internal_api", "version", "num_threads")}
                       for i in threadpool_info()]
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        pass
    return out


def versions(*packages: str) -> dict[str, str]:
    """Python, numpy and tessera versions plus ``packages`` (distribution names); a package
    that is not installed reads ``"missing"``."""
    out = {"python": platform.python_version()}
    for pkg in ("numpy", "tessera", *packages):
        try:
            out[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            out[pkg] = "missing"
    return out
