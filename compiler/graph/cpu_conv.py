"""The llvm kernels of conv groups: the conv and its fused epilogue as ONE compiled kernel.

``Conv`` (NCHW) and ``ConvNCHWc`` groups build through the ``conv2d_nchw`` /
``conv2d_nchwc`` tuning templates (``autotune.dispatch.build_best`` of
``autotune.extract.task_of_group``): the best schedule recorded in the tuning database in
scope (``compile(..., tuning_db=...)``), else the template's default point, which is the
operator library's default schedule. Either way the kernel computes the
group's epilogue (``graph.conv_epilogue.group_epilogue``: bias, residual add, Relu, Clip) in
its store; the plan entry names the nodes it covers (``fused``) and the value it writes
(``output``), and only members it cannot express stay numpy.

Layout: ``compile(layout="auto")`` keeps blocking the convs (NCHWc), and those groups tune
through the ``conv2d_nchwc`` template. Measured on ResNet-18's fused conv groups
(``scripts/bench_conv_layout.py``, 1 thread, load ~3-4 on 2 shared cores): the NCHWc default
is 2.1x faster than the NCHW template's default point (weighted sum 36.6 vs 75.8 ms) and
still 1.08-1.83x faster than NCHW points tuned for 40 trials (3 layers; 1.75x weighted), so
the blocked layout stays the default and the NCHW template serves ``layout="NCHW"``.

A builder returns ``(kernel, args, extra)`` like the other llvm builders
(``cpu_op_kernels``), or None where the conv is outside what the kernels compute.
"""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from tessera.compiler.graph.conv_epilogue import GroupEpilogue, group_epilogue
from tessera.compiler.graph.cpu_op_kernels import kernel_symbol
from tessera.compiler.graph.ir import FusedGroup, Graph, Node

log = logging.getLogger(__name__)
Made = "tuple[Any, list[str], dict[str, Any]] | None"


def _symbol(node: Node, graph: Graph, epi: GroupEpilogue) -> str:
    """A kernel name unique to the conv and its epilogue (artifact members go by it)."""
    base = kernel_symbol(node, graph)
    if not epi.steps:
        return base
    key = repr((epi.steps, [graph.types[v] for v in epi.operands]))
    return f"{base}_{hashlib.sha256(key.encode()).hexdigest()[:8]}"


def _extra(graph: Graph, epi: GroupEpilogue) -> dict[str, Any]:
    return {"fused": list(epi.fused), "output": epi.output,
            "out_shape": list(graph.types[epi.output].shape)}


def _epilogue(node: Node, graph: Graph) -> tuple[FusedGroup, GroupEpilogue] | None:
    from tessera.compiler.graph.passes.plan_memory import group_of

    group = group_of(graph, node.name)
    epi = None if group is None else group_epilogue(group, graph)
    if group is None or epi is None:
        return None
    return group, epi


def _through_template(node: Node, graph: Graph, group: FusedGroup, epi: GroupEpilogue,
                      template: str) -> tuple[Any, list[str], dict[str, Any]] | None:
    """The group's kernel built by its tuning task (best recorded schedule, else the
    template's default point), or None when the group has no task of ``template``."""
    from tessera.compiler.autotune.dispatch import build_best, choose
    from tessera.compiler.autotune.extract import task_of_group

    task = task_of_group(group, graph)
    if task is None or task.template != template:
        return None
    choice = choose(task)
    kernel = build_best(task, name=_symbol(node, graph, epi), choice=choice)
    return (kernel, [*node.inputs[:2], *epi.operands],
            {**_extra(graph, epi), "tuning": choice.describe()})


def conv2d_group(node: Node, graph: Graph) -> tuple[Any, list[str], dict[str, Any]] | None:
    """An NCHW ``Conv`` group: through the tuning template where the group has a task
    (symmetric padding, equal strides), else ``ops.conv2d_nchw`` under its default schedule."""

    x, w = (graph.types[i] for i in node.inputs[:2])
    pads = list(node.attr("pads") or [0] * 4)
    if (
        len(x.shape) != 4 or x.dtype != "float32" or node.attr("group", 1) != 1
        or any(d != 1 for d in node.attr("dilations") or [1, 1])
        or pads[0] != pads[2] or pads[1] != pads[3]
    ):
        return None
    found = _epilogue(node, graph)
    if found is None:
        return None
    group, epi = found
    tuned = _through_template(node, graph, group, epi, "conv2d_nchw")
    if tuned is not None:
        return tuned
    args = [*node.inputs[:2], *epi.operands]
    extra = _extra(graph, epi)
    from tessera.compiler.codegen import build
    from tessera.compiler.ops.conv2d import conv2d_nchw, schedule_conv2d_nchw
    from tessera.compiler.tensor import tensor as te

    ph = [te.placeholder(graph.types[v].shape, "float32", name=f"in{k}")
          for k, v in enumerate(args)]
    out = conv2d_nchw(ph[0], ph[1], stride=tuple(node.attr("strides") or (1, 1)),
                      padding=(pads[0], pads[1]), epilogue=epi.steps, operands=ph[2:])
    kernel = build(schedule_conv2d_nchw(out), [*ph, out], name=_symbol(node, graph, epi))
    return kernel, args, extra


def conv2d_nchwc_group(node: Node, graph: Graph) -> tuple[Any, list[str], dict[str, Any]] | None:
    """A ``ConvNCHWc`` group (``transform_layout``'s blocked conv) with its epilogue, through
    the ``conv2d_nchwc`` tuning template (its default point is ``ops.schedule_conv2d_nchwc``)."""
    from tessera.compiler.codegen import build
    from tessera.compiler.ops import conv2d_nchwc, schedule_conv2d_nchwc
    from tessera.compiler.tensor import tensor as te

    found = _epilogue(node, graph)
    if found is None:
        return None
    group, epi = found
    tuned = _through_template(node, graph, group, epi, "conv2d_nchwc")
    if tuned is not None:
        return tuned
    args = [*node.inputs[:2], *epi.operands]
    ph = [te.placeholder(graph.types[v].shape, "float32", name=f"in{k}")
          for k, v in enumerate(args)]
    out = conv2d_nchwc(ph[0], ph[1], stride=int(node.attr("strides")[0]),
                       padding=int(node.attr("pads")[0]), epilogue=epi.steps, operands=ph[2:])
    kernel = build(schedule_conv2d_nchwc(out), [*ph, out], name=_symbol(node, graph, epi))
    return kernel, args, _extra(graph, epi)
