"""Tasks from a model: one per distinct tunable fused-operator workload, weighted by count.

The model goes through the frontend and the graph optimizer (so the tasks are the fused
groups the compiler will build), and each group's master operator maps to a template:
Conv (2-D, ungrouped, symmetric padding, equal strides) -> ``conv2d_nchw`` (``vta_conv2d``
for the accelerator); MatMul and Gemm on 2-D operands -> ``matmul`` (``vta_dense`` for the
accelerator). Other groups are not tunable and are skipped. ``task_of_layer`` names the task
of an accelerator layer's workload as ``compile(target="vta")`` builds it.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tessera.compiler.autotune.task import Task, check_target

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WeightedTask:
    task: Task
    weight: int  # how many fused groups of the model have this workload
    groups: tuple[str, ...]


def _conv_args(node: Any, types: Mapping[str, Any]) -> tuple[Any, ...] | None:
    a = node.attr_dict
    x, w = types[node.inputs[0]], types[node.inputs[1]]
    if len(x.shape) != 4 or int(a.get("group", 1)) != 1:
        return None
    pads = tuple(a.get("pads", (0, 0, 0, 0)))
    strides = tuple(a.get("strides", (1, 1)))
    dil = tuple(a.get("dilations", (1, 1)))
    if len(set(pads)) != 1 or len(set(strides)) != 1 or set(dil) != {1}:
        return None
    n, c, h, wd = x.shape
    o, _, kh, kw = w.shape
    return (n, c, h, wd, o, kh, kw, strides[0], pads[0], x.dtype)


def _conv_nchwc_args(node: Any, types: Mapping[str, Any]) -> tuple[Any, ...] | None:
    """``transform_layout``'s blocked conv in plain sizes, and its block."""
    x, w = types[node.inputs[0]], types[node.inputs[1]]
    if len(x.shape) != 5 or len(w.shape) != 6:
        return None
    n, cb, h, wd, b = x.shape
    ob, _, kh, kw, _, b2 = w.shape
    return (n, cb * b, h, wd, ob * b2, kh, kw, int(node.attr("strides")[0]),
            int(node.attr("pads")[0]), x.dtype, b)


def _matmul_args(node: Any, types: Mapping[str, Any]) -> tuple[Any, ...] | None:
    a = node.attr_dict
    x, w = types[node.inputs[0]], types[node.inputs[1]]
    if len(x.shape) != 2 or len(w.shape) != 2 or int(a.get("transA", 0)):
        return None
    m, k = x.shape
    n = w.shape[0] if int(a.get("transB", 0)) else w.shape[1]
    return (m, n, k, x.dtype)


def _vta_conv_args(args: tuple[Any, ...], hw_config: str) -> tuple[Any, ...]:
    """The conv workload ``compile_vta`` builds: a conv with few input channels becomes a 1x1
    conv over its im2col (``partition.im2col``'s rule, on by default), so tune that one."""
    from tessera.compiler.partition.im2col import MAX_BYTES, worth_it
    from tessera.hw.config import HwConfig

    n, c, h, w, o, kh, kw, stride, pad = args[:9]
    oh, ow = (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1
    if worth_it(c, kh, kw, HwConfig.named(hw_config)) and n * c * kh * kw * oh * ow <= MAX_BYTES:
        return (n, c * kh * kw, oh, ow, o, 1, 1, 1, 0)
    return tuple(args[:9])


def task_of_group(group: Any, graph: Any, target: str = "llvm", hw_config: str = "default",
                  device: str = "fsim") -> Task | None:
    """The tuning task of one fused group, or ``None`` when the group is not tunable.

    The one place that names a group's workload: ``extract_tasks`` (what the tuner tunes)
    and the llvm strategy builders (what ``compile`` builds, with the best recorded schedule
    when a tuning database is in scope) both call it, so their keys always agree."""
    node = next(n for n in graph.nodes if n.name == group.master)
    args: tuple[Any, ...] | None = None
    template = ""
    if node.op == "Conv":
        template, args = "conv2d_nchw", _conv_args(node, graph.types)
    elif node.op == "ConvNCHWc" and target == "llvm":
        template, args = "conv2d_nchwc", _conv_nchwc_args(node, graph.types)
    elif node.op in ("MatMul", "Gemm"):
        template, args = "matmul", _matmul_args(node, graph.types)
    if args is None:
        return None
    if target == "vta":
        if template == "matmul":
            return Task("vta_dense", (*args[:3], hw_config, device), "vta")
        if template != "conv2d_nchw":
            return None
        template, args = "vta_conv2d", (*_vta_conv_args(args, hw_config), hw_config, device)
    if template in ("conv2d_nchw", "conv2d_nchwc"):  # the llvm kernel computes the epilogue
        from tessera.compiler.graph.conv_epilogue import group_epilogue

        epi = group_epilogue(group, graph)
        if epi is not None and epi.steps:
            args = (*args, epi.steps)
    return Task(template, tuple(args), target)


def task_of_layer(wkl: Any, hw_config: str, device: str) -> Task | None:
    """The tuning task of an accelerator layer's ``Conv2dWorkload`` / ``DenseWorkload`` (what
    ``compile_vta`` builds), or None when no template covers it (asymmetric padding,
    unequal strides, groups)."""
    from tessera.compiler.vta import DenseWorkload

    if isinstance(wkl, DenseWorkload):
        return Task("vta_dense", (wkl.m, wkl.n, wkl.k, hw_config, device), "vta")
    pads = {wkl.pad_h, wkl.pad_w, wkl.pad_b, wkl.pad_r}
    if len(pads) != 1 or wkl.stride_h != wkl.stride_w or wkl.groups != 1:
        return None
    return Task("vta_conv2d", (wkl.batch, wkl.in_channels, wkl.height, wkl.width,
                               wkl.out_channels, wkl.kernel_h, wkl.kernel_w, wkl.stride_h,
                               wkl.pad_h, hw_config, device), "vta")


def extract_tasks(model: str | Path | bytes | Any, target: str = "llvm",
                  input_shapes: Mapping[str, Sequence[int]] | None = None,
                  hw_config: str = "default", device: str = "fsim",
                  layout: str = "auto") -> list[WeightedTask]:
    """The tuning tasks of an ONNX model (path, bytes or ModelProto), in first-use order.
    For ``vta``, the convolutions become ``vta_conv2d`` tasks on the named accelerator
    configuration, measured in cycles on ``device``. For ``llvm``, the graph goes through
    the passes ``compile(..., layout=layout)`` runs (``auto``: convs blocked to NCHWc where
    their channels allow, ``conv2d_nchwc`` tasks), so the tasks are the kernels it builds."""
    from tessera.compiler.frontend import import_onnx
    from tessera.compiler.graph.passes import PIPELINE, optimize
    from tessera.compiler.graph.passes.plan_memory import steps_of

    check_target(target)
    passes = PIPELINE
    if target == "llvm":
        from tessera.compiler.build import pipeline

        passes = pipeline("NCHWc" if layout == "auto" else layout)
    graph = optimize(import_onnx(model, input_shapes), passes)
    counts: Counter[Task] = Counter()
    groups: dict[Task, list[str]] = {}
    for group in steps_of(graph):
        task = task_of_group(group, graph, target, hw_config, device)
        if task is None:
            continue
        counts[task] += 1
        groups.setdefault(task, []).append(group.name)
    out = [WeightedTask(t, counts[t], tuple(groups[t])) for t in groups]
    log.info("extracted %d tasks from %d groups", len(out), sum(counts.values()))
    return out
