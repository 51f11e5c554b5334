"""Hardware descriptors: what a measurement ran on, as a dict (stored with every record) and
as numeric features (so the cost model can transfer across machines and accelerators)."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

from tessera.runtime.cpu import host_target


def _cache_bytes(level: int) -> int:
    """Size of the host's data/unified cache at ``level`` (0 when unknown)."""
    base = Path("/sys/devices/system/cpu/cpu0/cache")
    try:
        for idx in sorted(base.glob("index*")):
            if int((idx / "level").read_text()) != level:
                continue
            if (idx / "type").read_text().strip() == "Instruction":
                continue
            text = (idx / "size").read_text().strip().upper()
            mult = {"K": 1024, "M": 1024 * 1024}.get(text[-1:], 1)
            return int(text.rstrip("KM")) * mult
    except (OSError, ValueError):
        return 0
    return 0


def cpu_descriptor(threads: int) -> dict[str, Any]:
    tgt = host_target()
    return {"kind": "cpu", "cpu": tgt.cpu, "triple": tgt.triple,
            "vector_bits": tgt.vector_bits, "fma": tgt.has("fma"),
            "cores": os.cpu_count() or 1, "threads": threads,
            "l1d": _cache_bytes(1), "l2": _cache_bytes(2), "l3": _cache_bytes(3)}


def vta_descriptor(config: Any, device: str) -> dict[str, Any]:
    """An accelerator descriptor from an ``HwConfig``'s fields (and the device measured on)."""
    fields = {k: v for k, v in vars(config).items() if isinstance(v, (int, float, str, bool))}
    return {"kind": "vta", "device": device, **fields}


def hw_key(desc: dict[str, Any]) -> str:
    text = json.dumps(desc, sort_keys=True, separators=(",", ":"))
    return hashlib.sha1(text.encode()).hexdigest()[:16]


HW_FEATURES = 9


def hw_features(desc: dict[str, Any]) -> list[float]:
    """A fixed-length numeric view of a descriptor (CPU and accelerator fields side by side)."""
    import math

    def lg(v: Any) -> float:
        return math.log2(1.0 + float(v or 0))

    cpu = desc.get("kind") == "cpu"
    return [1.0 if cpu else 0.0, lg(desc.get("vector_bits")), 1.0 if desc.get("fma") else 0.0,
            lg(desc.get("threads")), lg(desc.get("l1d")), lg(desc.get("l2")),
            lg(desc.get("l3")), lg(desc.get("block_out", desc.get("block", 0))),
            lg(desc.get("batch", 0))]
