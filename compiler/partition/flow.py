"""``compile(model, target="vta", device=..., calibration=...)``: the accelerator flow.

import -> graph passes up to fusion -> calibrate -> quantize (int8, power-of-two scales) ->
partition (accelerator layers in blocked layout between CPU pack/unpack) -> fuse -> memory
plan -> execution plan: CPU steps as for ``llvm``, accelerator steps as ``AccelKernel``s
(``strategy="vta"``, one artifact code member each) that the graph executor runs on the
device (``fsim``, ``rtl``, ``rtl-fast``).

A model none of whose operators the accelerator supports compiles to the CPU alone (float,
as ``llvm``), with a note saying so.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import onnx

from tessera.compiler.build import CompiledModel, build_plan
from tessera.compiler.errors import CompileError
from tessera.compiler.frontend import import_onnx
from tessera.compiler.graph.ir import Graph
from tessera.compiler.graph.passes import PIPELINE, fuse_ops, optimize, plan_memory
from tessera.compiler.partition.im2col import im2col_small_convs
from tessera.compiler.partition.kernels import backend, build_layer_kernel, layer_workload
from tessera.compiler.partition.place import Placement, format_partition, partition
from tessera.compiler.quant import QuantConfig, calibrate, layer_nodes, quantize
from tessera.compiler.quant.quantize import layer_of
from tessera.hw.config import HwConfig
from tessera.hw.errors import TesseraError
from tessera.runtime.accel_exec import DEVICES, dma_bytes, kernel_to_bytes
from tessera.runtime.executor import GraphModule

log = logging.getLogger(__name__)

PRE_FUSION = tuple((n, p) for n, p in PIPELINE if n not in ("fuse_ops", "plan_memory"))
CPU_ONLY_NOTE = ("no operator of {name} is supported by the accelerator (int8 conv2d or dense "
                 "with constant weights): it compiles to the CPU alone")


class AccelModel(CompiledModel):
    """A model compiled for the ``vta`` target: also its partition, notes and int8 graph."""

    def __init__(self, graph: Graph, module: GraphModule, placements: tuple[Placement, ...],
                 notes: list[str], qgraph: Graph | None, float_graph: Graph):
        super().__init__(graph, module, "vta")
        self.placements = placements
        self.notes = notes
        self.qgraph = qgraph
        self.float_graph = float_graph

    def partition_text(self) -> str:
        return format_partition(self.placements)


def _has_layers(graph: Graph) -> bool:
    return any(layer_of(graph, n) is not None for n in graph.nodes)


def compile_vta(
    model: str | Path | bytes | onnx.ModelProto | Graph,
    device: str = "fsim",
    calibration: Sequence[Mapping[str, Any]] | None = None,
    cfg: HwConfig | None = None,
    quant: QuantConfig | None = None,
    input_shapes: Mapping[str, Sequence[int]] | None = None,
    freeze: Mapping[str, Any] | None = None,
    after_pass: Callable[[str, Graph], None] | None = None,
    schedules: Mapping[str, dict[str, Any]] | None = None,
    im2col: bool = True,
) -> AccelModel:
    """Compile for the accelerator; see the module docstring."""
    if device not in DEVICES:
        raise CompileError(f"device must be one of {list(DEVICES)}, not {device!r}")
    cfg = cfg or HwConfig.default()
    quant = quant or QuantConfig()
    graph = model if isinstance(model, Graph) else import_onnx(model, input_shapes, freeze)
    if after_pass is not None:
        after_pass("import", graph)
    graph = optimize(graph, PRE_FUSION, after_pass)
    notes: list[str] = []
    qgraph: Graph | None = None
    if not _has_layers(graph):
        notes.append(CPU_ONLY_NOTE.format(name=graph.name))
        log.warning(notes[-1])
        work = graph
        placements = tuple(Placement(n.name, n.op, "cpu", "not an accelerator op")
                           for n in graph.nodes)
    else:
        if not calibration:
            raise CompileError(
                "target vta needs calibration sample inputs (calibration=[{input: array}, "
                "...]) to choose the int8 scales"
            )
        calib = calibrate(graph, calibration, quant.method, quant.percentile)
        qgraph = quantize(graph, calib, quant)
        if after_pass is not None:
            after_pass("quantize", qgraph)
        work = im2col_small_convs(qgraph, cfg) if im2col else qgraph
        if after_pass is not None and work is not qgraph:
            after_pass("im2col", work)
        work, placements = partition(work, cfg)
        if after_pass is not None:
            after_pass("partition", work)
    work = plan_memory(fuse_ops(work))
    if after_pass is not None:
        after_pass("fuse_ops+plan_memory", work)
    plan, code = build_plan(work, "llvm")
    plan.update(target="vta", device=device, cfg=cfg.to_dict(), notes=notes,
                partition=[p.__dict__ for p in placements])
    moved = _attach_kernels(work, plan, code, placements, cfg, device, schedules or {}, notes)
    placements = tuple(
        Placement(p.node, p.op, "cpu", moved[p.node], p.layer) if p.node in moved else p
        for p in placements
    )
    plan["partition"] = [p.__dict__ for p in placements]
    const_used = {i for s in plan["steps"] for i in s["inputs"]} | set(work.outputs)
    constants = {k: v for k, v in work.constants.items() if k in const_used}
    module = GraphModule(plan, constants, code)
    n_acc = sum(s["strategy"] == "vta" for s in plan["steps"])
    log.info("compiled %s for vta on %s: %d steps, %d on the accelerator", graph.name, device,
             len(plan["steps"]), n_acc)
    return AccelModel(work, module, placements, notes, qgraph, graph)


def _attach_kernels(
    graph: Graph, plan: dict[str, Any], code: dict[str, bytes],
    placements: tuple[Placement, ...], cfg: HwConfig, device: str,
    schedules: Mapping[str, dict[str, Any]], notes: list[str],
) -> dict[str, str]:
    """Build the accelerator steps' kernels; the nodes that stay on the CPU, with why."""
    on_vta = {p.node for p in placements if p.where == "vta"}
    moved: dict[str, str] = {}
    if not on_vta:
        return moved
    if backend() is None:
        notes.append("the accelerator back end (tessera.compiler.vta) is not available: "
                     "accelerator layers run on their bit-exact integer reference on the CPU")
        log.warning(notes[-1])
    by_name = {n.name: n for n in graph.nodes}
    for step in plan["steps"]:
        if step["master"] not in on_vta:
            continue
        node = by_name[step["master"]]
        layer = str(node.attr("layer") or node.name)
        step["layer"] = layer
        if backend() is None:
            step["strategy"] = "numpy"
            moved[node.name] = "no accelerator back end: integer reference"
            continue
        schedule = schedules.get(layer)
        if schedule is None:
            schedule = _tuned_schedule(node, graph, cfg, device, step)
        try:
            try:
                kernel = build_layer_kernel(node, graph, cfg, schedule)
            except TesseraError as err:
                if "tuning" not in step:
                    raise
                log.warning("layer %s: tuned schedule does not build (%s); default", layer, err)
                step.pop("tuning")
                kernel = build_layer_kernel(node, graph, cfg, None)
        except TesseraError as err:  # unsupported shape or no legal schedule: stay on CPU
            notes.append(f"layer {layer} runs on the CPU (integer reference): {err}")
            log.warning(notes[-1])
            step["strategy"] = "numpy"
            step["cpu_reason"] = moved[node.name] = str(err)
            continue
        member = f"accel/{step['name']}.npz"
        code[member] = kernel_to_bytes(kernel)
        step.update(strategy="vta", kernel=member, device=device, macs=int(kernel.macs),
                    dma=dma_bytes(kernel), insns=len(kernel.insns),
                    compiled={node.name: {"kernel": member}})  # what runs on the device
    return moved


def _tuned_schedule(node: Any, graph: Graph, cfg: HwConfig, device: str,
                    step: dict[str, Any]) -> dict[str, Any] | None:
    """The best schedule a tuning database in scope (``compile(..., tuning_db=...)``) records
    for this layer's workload on ``cfg`` -- measured on ``device``, else on fsim or rtl-fast
    (the same cycle model) -- or None: the default schedule. Recorded in ``step["tuning"]``."""
    from tessera.compiler.autotune.dispatch import choose, current
    from tessera.compiler.autotune.extract import task_of_layer

    if current() is None:
        return None
    wkl = layer_workload(node, graph)
    for dev in dict.fromkeys((device, "fsim", "rtl-fast")):
        task = task_of_layer(wkl, cfg.name, dev)
        if task is None:
            return None
        try:
            choice = choose(task)
        except TesseraError as err:  # a configuration the templates cannot name
            log.info("layer %s: no tuning task (%s)", node.name, err)
            return None
        if choice.tuned:
            step["tuning"] = choice.describe()
            return choice.config.to_dict()
    return None


def layers_of(model: AccelModel) -> list[str]:
    """Names of the quantized layers (in order)."""
    return [str(n.attr("layer")) for n in layer_nodes(model.qgraph)] if model.qgraph else []
