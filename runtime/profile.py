"""Per-layer profile of a compiled model: where each step ran, cycles or time, MACs,
utilization, DMA bytes; a rich table, JSON, Chrome trace events and a matplotlib timeline.

    prof = profile_module(module, {"x": x})       # runs the model once, step by step
    console.print(prof.table()); prof.to_json(); prof.chrome_trace()   # {"traceEvents": [...]}
    prof.save_png("conv2.png", layer="conv2")

Accelerator steps report the device's cycles (``RunResult.cycles``), the kernel's useful MACs,
utilization ``macs / (cycles * cfg.macs_per_cycle)`` and the bytes its LOAD/STORE instructions
move. CPU steps report wall time. The model timeline places the steps one after another on a
common time axis (accelerator cycles at the configuration's clock, CPU wall time); within an
accelerator step, the four units' busy and stall intervals come from the device's timeline
where it has one (fsim, rtl-fast), else the step is one event (rtl).
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from rich.table import Table

from tessera.hw.config import HwConfig
from tessera.runtime.accel_exec import AccelStep, dma_bytes
from tessera.runtime.executor import GraphModule

UNITS = ("fetch", "load", "compute", "store")
TIMELINE_DEVICES = ("fsim", "rtl-fast")  # devices whose runs take timeline=True


@dataclass
class LayerProfile:
    step: str
    layer: str
    ops: list[str]
    where: str  # "vta" | "cpu"
    device: str
    cycles: int | None
    time_us: float  # simulated (vta, at the clock) or measured (cpu)
    wall_s: float  # host wall time of the step (simulation included)
    macs: int
    utilization: float | None
    dma_bytes: int
    start_us: float = 0.0
    timeline: list[tuple[str, str, int, int]] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("timeline")
        return d


@dataclass
class ModelProfile:
    model: str
    clock_mhz: float
    layers: list[LayerProfile]

    @property
    def accel_cycles(self) -> int:
        return sum(layer.cycles or 0 for layer in self.layers)

    @property
    def accel_macs(self) -> int:
        return sum(layer.macs for layer in self.layers if layer.where == "vta")

    def utilization(self, cfg: HwConfig) -> float:
        c = self.accel_cycles
        return self.accel_macs / (c * cfg.macs_per_cycle) if c else 0.0

    def layer(self, name: str) -> LayerProfile:
        for lp in self.layers:
            if name in (lp.layer, lp.step):
                return lp
        raise KeyError(f"no layer or step {name!r}; layers are "
                       f"{[lp.layer or lp.step for lp in self.layers]}")

    # ----------------------------------------------------------------- exports
    def to_json(self) -> dict[str, Any]:
        return {"model": self.model, "clock_mhz": self.clock_mhz,
                "accel_cycles": self.accel_cycles, "accel_macs": self.accel_macs,
                "layers": [lp.record() for lp in self.layers]}

    def table(self, title: str | None = None) -> Table:
        t = Table(title=title or f"per-layer profile: {self.model}")
        for col in ("step", "layer", "ops", "where", "cycles", "time us", "MACs", "util",
                    "DMA bytes"):
            t.add_column(col, justify="left" if col in ("step", "layer", "ops", "where")
                         else "right")
        for lp in self.layers:
            t.add_row(
                lp.step, lp.layer, ",".join(lp.ops), lp.where,
                f"{lp.cycles:,}" if lp.cycles is not None else "-", f"{lp.time_us:,.1f}",
                f"{lp.macs:,}" if lp.macs else "-",
                f"{lp.utilization:.1%}" if lp.utilization is not None else "-",
                f"{lp.dma_bytes:,}" if lp.dma_bytes else "-",
            )
        return t

    def chrome_trace(self) -> dict[str, Any]:
        """Chrome trace events ({"traceEvents": [...]}): Perfetto and chrome://tracing."""
        us_per_cycle = 1.0 / self.clock_mhz
        tids = {"cpu": 0, **{u: k + 1 for k, u in enumerate(UNITS)}, "accelerator": 5}
        events: list[dict[str, Any]] = [
            {"name": "process_name", "ph": "M", "pid": 1, "tid": 0,
             "args": {"name": f"tessera {self.model}"}},
        ]
        for name, tid in tids.items():
            events.append({"name": "thread_name", "ph": "M", "pid": 1, "tid": tid,
                           "args": {"name": name}})
        for lp in self.layers:
            label = lp.layer or lp.step
            args = {"step": lp.step, "ops": lp.ops, "cycles": lp.cycles, "macs": lp.macs,
                    "utilization": lp.utilization, "dma_bytes": lp.dma_bytes}
            if lp.where == "cpu":
                events.append({"name": label, "cat": "cpu", "ph": "X", "pid": 1, "tid": 0,
                               "ts": lp.start_us, "dur": lp.time_us, "args": args})
                continue
            events.append({"name": label, "cat": "vta", "ph": "X", "pid": 1, "tid": 5,
                           "ts": lp.start_us, "dur": lp.time_us, "args": args})
            for unit, kind, a, b in lp.timeline:
                events.append({
                    "name": f"{label} {kind}", "cat": kind, "ph": "X", "pid": 1,
                    "tid": tids.get(unit, 5), "ts": lp.start_us + a * us_per_cycle,
                    "dur": (b - a) * us_per_cycle,
                    **({"cname": "terrible"} if kind == "stall" else {}),
                })
        return {"traceEvents": events, "displayTimeUnit": "ns"}

    def save_trace(self, path: str | Path) -> Path:
        path = Path(path)
        path.write_text(json.dumps(self.chrome_trace()))
        return path

    def save_png(self, path: str | Path, layer: str | None = None) -> Path:
        """A timeline PNG: one layer's four units (busy/stall), or the whole model's steps."""
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        path = Path(path)
        fig, ax = plt.subplots(figsize=(11, 3.2))
        if layer is not None:
            lp = self.layer(layer)
            if not lp.timeline:
                span = lp.cycles or 0
                tl: list[tuple[str, str, int, int]] = [("compute", "busy", 0, span)]
            else:
                tl = lp.timeline
            for k, unit in enumerate(UNITS):
                for kind, color in (("busy", "tab:green"), ("stall", "tab:red")):
                    bars = [(a, b - a) for u, kd, a, b in tl if u == unit and kd == kind]
                    if bars:
                        ax.broken_barh(bars, (k - 0.35, 0.7), color=color, label=kind)
            ax.set_yticks(range(len(UNITS)), UNITS)
            ax.set_xlabel("cycle")
            ax.set_title(f"{lp.layer or lp.step}: {lp.cycles:,} cycles, "
                         f"utilization {lp.utilization or 0:.1%}")
            handles, labels = ax.get_legend_handles_labels()
            uniq = dict(zip(labels, handles))
            ax.legend(uniq.values(), uniq.keys(), loc="upper right")
        else:
            for lp in self.layers:
                y = 1 if lp.where == "vta" else 0
                ax.broken_barh([(lp.start_us, max(lp.time_us, 1e-3))], (y - 0.35, 0.7),
                               color="tab:blue" if y else "tab:gray")
            ax.set_yticks([0, 1], ["cpu", "vta"])
            ax.set_xlabel("us")
            ax.set_title(f"{self.model}: steps")
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)
        return path


def _cpu_macs(step: Mapping[str, Any]) -> int:
    types = step.get("types", {})
    total = 0
    for node in step["nodes"]:
        op, outs = node["op"], node["outputs"]
        if op in ("Conv", "QConv2d") and outs[0] in types and node["inputs"][1] in types:
            w = types[node["inputs"][1]]["shape"]
            out = types[outs[0]]["shape"]
            if node["attrs"].get("layout") == "blocked":
                continue
            total += int(np.prod(out)) * int(np.prod(w[1:]))
        elif op in ("Gemm", "QDense", "MatMul") and outs[0] in types \
                and node["inputs"][1] in types:
            k = types[node["inputs"][1]]["shape"][-1 if op == "QDense" else 0]
            total += int(np.prod(types[outs[0]]["shape"])) * int(k)
    return total


def profile_module(module: GraphModule, feeds: Mapping[str, Any],
                   timeline: bool = True) -> ModelProfile:
    """Run ``module`` once on ``feeds`` step by step and profile every step."""
    cfg = next((k.kernel.cfg for k in module._kernels if isinstance(k, AccelStep)), None)
    clock = cfg.clock_mhz if cfg else float(module.plan.get("cfg", {}).get("clock_mhz", 200.0))
    env: dict[str, np.ndarray] = dict(module.constants)
    env.update(module._check_inputs(feeds))
    layers: list[LayerProfile] = []
    cursor = 0.0
    for step, kernel in zip(module.plan["steps"], module._kernels):
        accel = isinstance(kernel, AccelStep)
        if accel:
            saved = dict(kernel.options)
            if timeline and kernel.device_name in TIMELINE_DEVICES:
                kernel.options["timeline"] = True
        t0 = time.perf_counter()
        try:
            outs = kernel([env[i] for i in step["inputs"]])
        finally:
            if accel:
                kernel.options = saved
        wall = time.perf_counter() - t0
        env.update(zip(step["outputs"], outs))
        ops = [n["op"] for n in step["nodes"]]
        if accel and kernel.last is not None:
            res, k = kernel.last, kernel.kernel
            lp = LayerProfile(
                step=step["name"], layer=str(step.get("layer", "")), ops=ops, where="vta",
                device=kernel.device_name, cycles=res.cycles,
                time_us=res.cycles / k.cfg.clock_mhz, wall_s=wall, macs=k.macs,
                utilization=k.macs / (res.cycles * k.cfg.macs_per_cycle) if res.cycles else 0.0,
                dma_bytes=sum(dma_bytes(k).values()), timeline=list(res.timeline or []),
            )
        else:
            lp = LayerProfile(
                step=step["name"], layer=str(step.get("layer", "")), ops=ops, where="cpu",
                device="cpu", cycles=None, time_us=wall * 1e6, wall_s=wall,
                macs=_cpu_macs(step), utilization=None, dma_bytes=0,
            )
        lp.start_us = cursor
        cursor += lp.time_us
        layers.append(lp)
    return ModelProfile(str(module.plan.get("name", "model")), clock, layers)


def step_values(module: GraphModule, feeds: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """Every value the plan's steps compute on ``feeds`` (for cross-checks and traces)."""
    env: dict[str, np.ndarray] = dict(module.constants)
    env.update(module._check_inputs(feeds))
    for step, kernel in zip(module.plan["steps"], module._kernels):
        env.update(zip(step["outputs"], kernel([env[i] for i in step["inputs"]])))
    return {k: v for k, v in env.items() if k not in module.constants}


def accel_cycles_of_last_run(module: GraphModule) -> int:
    """Accelerator cycles of the module's latest run (sum over its accelerator steps)."""
    return sum(k.last.cycles for k in module._kernels
               if isinstance(k, AccelStep) and k.last is not None)
