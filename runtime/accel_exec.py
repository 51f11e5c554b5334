"""Accelerator steps inside the graph executor: ``AccelKernel``s run on a device.

The compiler's ``vta`` target gives every offloaded layer a plan step with
``strategy="vta"``, the artifact code member holding its ``AccelKernel`` (``kernel``), the
device name (``device``) and the configuration (``cfg``). Its input is the activation already
in the accelerator's blocked layout (the graph's ``AccelPack`` steps pack on the CPU) and its
output is blocked too (``AccelUnpack`` steps unpack), so consecutive accelerator layers hand
blocked data to each other with no CPU layout work.

Each step loads its kernel's region (weights, bias, micro-ops) into device DRAM once and
reuses it on every run. Devices are shared per (name, configuration) within a process.
"""

from __future__ import annotations

import atexit
import contextlib
import io
import json
import logging
from collections.abc import Mapping
from typing import Any

import numpy as np

from tessera.hw import isa as I
from tessera.hw.config import HwConfig
from tessera.runtime.accel import AccelKernel, DramTensor
from tessera.runtime.device import Buffer, Device, DeviceError, RunResult, device
from tessera.runtime.executor import register_provider

log = logging.getLogger(__name__)

DEVICES = ("fsim", "rtl", "rtl-fast")
_POOL: dict[tuple[str, str], Device] = {}


# ----------------------------------------------------------------------- (de)serialization
def kernel_to_bytes(kernel: AccelKernel) -> bytes:
    """One ``.npz`` blob: the encoded program, the tensor table and the constants."""
    meta = {
        "name": kernel.name, "cfg": kernel.cfg.to_dict(), "region_bytes": kernel.region_bytes,
        "macs": kernel.macs, "meta": kernel.meta,
        "tensors": [[t.name, t.role, list(t.shape), t.dtype, t.offset] for t in kernel.tensors],
        "consts": sorted(kernel.consts),
    }
    arrays: dict[str, np.ndarray] = {
        "program": np.frombuffer(I.program_bytes(list(kernel.insns), kernel.cfg), np.uint8),
        "meta": np.frombuffer(json.dumps(meta, default=str).encode(), np.uint8),
    }
    for k, name in enumerate(meta["consts"]):
        arrays[f"c{k}"] = np.asarray(kernel.consts[name])
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def kernel_from_bytes(blob: bytes) -> AccelKernel:
    try:
        with np.load(io.BytesIO(blob), allow_pickle=False) as z:
            meta = json.loads(z["meta"].tobytes())
            program = z["program"].tobytes()
            consts = {name: z[f"c{k}"] for k, name in enumerate(meta["consts"])}
    except (OSError, ValueError, KeyError) as err:
        raise DeviceError(f"accelerator kernel blob is unreadable ({err})") from None
    cfg = HwConfig.from_dict(meta["cfg"])
    tensors = tuple(DramTensor(n, r, tuple(s), d, o) for n, r, s, d, o in meta["tensors"])
    return AccelKernel(
        name=meta["name"], cfg=cfg, insns=tuple(I.program_from_bytes(program, cfg)),
        tensors=tensors, region_bytes=int(meta["region_bytes"]), consts=consts,
        macs=int(meta["macs"]), meta=dict(meta["meta"]),
    )


# ----------------------------------------------------------------------- devices
def shared_device(name: str, cfg: HwConfig) -> Device:
    """The process's device ``name`` for ``cfg`` (created on first use)."""
    if name not in DEVICES:
        raise DeviceError(f"accelerator device must be one of {list(DEVICES)}, not {name!r}")
    key = (name, cfg.to_json())
    if key not in _POOL:
        _POOL[key] = device(name, cfg=cfg)
    return _POOL[key]


@atexit.register
def close_devices() -> None:
    """Close the pooled devices (simulator handles) before the interpreter tears down."""
    while _POOL:
        _, dev = _POOL.popitem()
        with contextlib.suppress(Exception):
            dev.close()


def dma_bytes(kernel: AccelKernel) -> dict[str, int]:
    """Bytes the program moves: loads by memory type and stores (from LOAD/STORE sizes)."""
    out: dict[str, int] = {"load": 0, "store": 0}
    kinds = {I.MemType.UOP: "uop", I.MemType.WGT: "wgt", I.MemType.INP: "inp",
             I.MemType.ACC: "acc", I.MemType.OUT: "out"}
    for insn in kernel.insns:
        if isinstance(insn, I.MemInsn):
            n = insn.y_size * insn.x_size * kernel.cfg.entry_bytes(kinds[insn.mem_type])
            out["store" if insn.store else "load"] += n
    return out


class AccelStep:
    """The callable of one ``vta`` plan step: blocked activation in, blocked activation out.

    ``last`` is the ``RunResult`` of the latest run (cycles, counters, timeline) for the
    profiler; ``options`` are passed to ``Device.run`` (e.g. ``timeline=True`` on fsim).
    """

    def __init__(self, step: Mapping[str, Any], kernel: AccelKernel, device_name: str):
        self.name = str(step["name"])
        self.kernel = kernel
        self.device_name = device_name
        self.options: dict[str, Any] = {}
        self.last: RunResult | None = None
        self._regions: dict[int, Buffer] = {}
        self._device: Device | None = None

    @property
    def device(self) -> Device:
        if self._device is None:
            self._device = shared_device(self.device_name, self.kernel.cfg)
        return self._device

    def bind(self, dev: Device) -> None:
        """Run on ``dev`` from now on (its region is loaded on the next call)."""
        self._device = dev
        self.device_name = dev.name

    def __call__(self, args: list[np.ndarray]) -> list[np.ndarray]:
        dev = self.device
        region = self._regions.get(id(dev))
        if region is None:
            region = self._regions[id(dev)] = self.kernel.load(dev)
        outs, self.last = self.kernel.run(dev, {"data": args[0]}, region, **self.options)
        return [outs["out"]]


def _provider(step: Mapping[str, Any], code: Mapping[str, bytes]) -> AccelStep:
    member = str(step.get("kernel", ""))
    if member not in code:
        raise DeviceError(f"step {step['name']}: accelerator kernel {member!r} is missing")
    return AccelStep(step, kernel_from_bytes(code[member]), str(step.get("device", "fsim")))


def retarget(plan: Mapping[str, Any], device_name: str | None) -> dict[str, Any]:
    """The plan with every accelerator step on ``device_name`` (None: keep the compiled one)."""
    if device_name is None:
        return dict(plan)
    if device_name not in DEVICES:
        raise DeviceError(
            f"device must be one of {list(DEVICES)} for a vta artifact, not {device_name!r}"
        )
    steps = [
        {**s, "device": device_name} if s.get("strategy") == "vta" else s for s in plan["steps"]
    ]
    return {**plan, "steps": steps, "device": device_name}


register_provider("vta", _provider)
