"""``compile(model, target=...) -> CompiledModel``: frontend, graph passes, per-group
strategies, and the execution plan the runtime runs.

    from tessera.compiler import compile
    m = compile("model.onnx", target="llvm")
    m = compile("model.onnx", tuning_db="tuning.db")  # the schedules `tessera tune` found
    outs = m.run({"x": x})
    m.save("model.tsr")
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import onnx

from tessera.compiler.errors import CompileError
from tessera.compiler.frontend import import_onnx
from tessera.compiler.graph import strategy
from tessera.compiler.graph.ir import Graph
from tessera.compiler.graph.passes import PIPELINE, Pass, eliminate_dead_code, optimize
from tessera.compiler.graph.passes.plan_memory import steps_of
from tessera.compiler.graph.passes.transform_layout import layout_pass
from tessera.runtime.executor import GraphModule

log = logging.getLogger(__name__)

KERNEL_MODES = ("auto", "compiled", "numpy")
LAYOUTS = ("auto", "NCHW", "NCHWc")


def pipeline(layout: str = "NCHW") -> tuple[tuple[str, Pass], ...]:
    """The graph passes for a layout: ``NCHWc`` adds ``transform_layout`` (blocks of the
    host's float32 vector lanes) and a dead-code sweep before fusion."""
    if layout == "NCHW":
        return PIPELINE
    from tessera.runtime.cpu import host_target

    block = host_target().vector_lanes(32)
    k = [name for name, _ in PIPELINE].index("fuse_ops")
    extra: tuple[tuple[str, Pass], ...] = (
        ("transform_layout", layout_pass(block)), ("eliminate_dead_code", eliminate_dead_code))
    return PIPELINE[:k] + extra + PIPELINE[k:]
TARGETS = ("llvm", "vta")


class CompiledModel:
    """A compiled model: run it, inspect it, save it as a ``.tsr`` artifact."""

    def __init__(self, graph: Graph, module: GraphModule, target: str):
        self.graph = graph
        self.module = module
        self.target = target

    def run(self, feeds: Mapping[str, Any]) -> list[np.ndarray]:
        """Outputs as numpy arrays, in the graph's output order."""
        return self.module.run(feeds)

    def save(self, path: str | Path) -> Path:
        return self.module.save(path)

    def info(self) -> dict[str, Any]:
        return self.module.info()

    @property
    def input_names(self) -> list[str]:
        return [i["name"] for i in self.module.inputs]


def build_plan(
    graph: Graph, target: str, kernels: str = "auto"
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The runtime's execution plan of an optimized graph, and the compiled code members."""
    by_name = {n.name: n for n in graph.nodes}
    free_after = graph.memory.free_after if graph.memory else None
    code: dict[str, bytes] = {}
    steps = []
    for k, group in enumerate(steps_of(graph)):
        nodes = [by_name[n] for n in group.nodes]
        step: dict[str, Any] = {
            "name": group.name, "master": group.master, "pattern": group.pattern,
            "inputs": list(group.inputs), "outputs": list(group.outputs),
            "nodes": [
                {"name": n.name, "op": n.op, "inputs": list(n.inputs),
                 "outputs": list(n.outputs), "attrs": _jsonable(n.attr_dict)}
                for n in nodes
            ],
            "types": {v: {"shape": list(graph.types[v].shape), "dtype": graph.types[v].dtype}
                      for v in (*group.inputs, *group.outputs)},
            "free": list(free_after[k]) if free_after else [],
            "strategy": "numpy",
        }
        compiled = strategy.select(group, graph, target, kernels)
        if compiled is not None:
            step["strategy"] = compiled.kind
            step.update(compiled.entry)
            code.update(compiled.code)
        steps.append(step)
    memory = {}
    if graph.memory is not None:
        memory = {"planned_bytes": graph.memory.planned_bytes,
                  "naive_bytes": graph.memory.naive_bytes,
                  "buffers": len(graph.memory.sizes)}
    plan = {
        "name": graph.name, "target": target,
        "inputs": [{"name": i, "shape": list(graph.types[i].shape),
                    "dtype": graph.types[i].dtype} for i in graph.inputs],
        "outputs": list(graph.outputs), "steps": steps, "memory": memory,
    }
    return plan, code


def _jsonable(v: Any) -> Any:
    if isinstance(v, dict):
        return {k: _jsonable(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_jsonable(x) for x in v]
    if isinstance(v, float) and not np.isfinite(v):
        return str(v)
    return v


@contextlib.contextmanager
def open_tuning_db(path: str | Path) -> Iterator[Any]:
    """The tuning database at ``path``, which must exist (compile never creates one)."""
    from tessera.compiler.autotune import Database

    if not Path(path).is_file():
        raise CompileError(f"tuning_db: {path} must be a tuning database file written by "
                           f"`tessera tune`, not a missing file")
    with Database(path) as db:
        yield db


def compile(  # noqa: A001 - the public name the issue asks for
    model: str | Path | bytes | onnx.ModelProto | Graph,
    target: str = "llvm",
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    freeze: Mapping[str, Any] | None = None,
    after_pass: Callable[[str, Graph], None] | None = None,
    device: str = "fsim",
    calibration: Sequence[Mapping[str, Any]] | None = None,
    kernels: str = "auto",
    layout: str = "auto",
    tuning_db: str | Path | None = None,
    **options: Any,
) -> CompiledModel:
    """Compile an ONNX model (path, bytes, ModelProto) or a ``Graph`` for ``target``.

    ``target="llvm"``: ``kernels`` picks each fused group's kernel: ``"auto"`` (default)
    compiles the group's master op (Conv2D, Gemm/MatMul) with the tensor compiler and keeps it
    where it is measured faster than the numpy reference; ``"compiled"`` always keeps it;
    ``"numpy"`` runs every op with the numpy reference kernels. ``layout="NCHWc"`` blocks
    the convolutions by the host's float32 vector width (``transform_layout``); ``"auto"``
    (default) does so where compiled kernels run (it pays only for them), else keeps NCHW.

    ``target="vta"``: int8 on the accelerator ``device`` (fsim, rtl, rtl-fast), scales
    calibrated on ``calibration`` feeds; ``options`` go to
    ``tessera.compiler.partition.flow.compile_vta`` (cfg, quant, schedules).

    ``tuning_db``: a tuning database written by ``tessera tune``; each tunable group (CPU
    Gemm/MatMul and convolutions, accelerator layers) is built with the best schedule it
    records for this hardware, the others with the library defaults. The plan's step entry
    ``tuning`` says which config was used and where it came from."""
    if target not in TARGETS:
        raise CompileError(f"target must be one of {list(TARGETS)}, not {target!r}")
    if tuning_db is not None:
        with open_tuning_db(tuning_db) as db:
            from tessera.compiler.autotune.dispatch import apply_history_best

            with apply_history_best(db):
                return compile(model, target, input_shapes, freeze, after_pass, device,
                               calibration, kernels, layout, None, **options)
    if target == "vta":
        from tessera.compiler.partition.flow import compile_vta

        return compile_vta(model, device=device, calibration=calibration,
                           input_shapes=input_shapes, freeze=freeze, after_pass=after_pass,
                           **options)
    if kernels not in KERNEL_MODES:
        raise CompileError(f"kernels must be one of {list(KERNEL_MODES)}, not {kernels!r}")
    graph = model if isinstance(model, Graph) else import_onnx(model, input_shapes, freeze)
    if after_pass is not None:
        after_pass("import", graph)
    if layout not in LAYOUTS:
        raise CompileError(f"layout must be one of {list(LAYOUTS)}, not {layout!r}")
    if layout == "auto":
        layout = "NCHW" if kernels == "numpy" else "NCHWc"
    graph = optimize(graph, pipeline(layout), after_pass)
    plan, code = build_plan(graph, target, kernels)
    const_used = {i for s in plan["steps"] for i in s["inputs"]} | set(graph.outputs)
    constants = {k: v for k, v in graph.constants.items() if k in const_used}
    module = GraphModule(plan, constants, code)
    info = module.info()
    mem = info["memory"]
    log.info(
        "compiled %s for %s: %d steps, %d nodes; memory planned %d bytes vs naive %d",
        graph.name, target, info["steps"], info["nodes"], mem.get("planned_bytes", 0),
        mem.get("naive_bytes", 0),
    )
    return CompiledModel(graph, module, target)
