"""Accelerator kernels for the partitioned graph's ``vta`` layers (``tessera.compiler.vta``).

``build_layer_kernel`` turns one blocked ``QConv2d`` / ``QDense`` node into an ``AccelKernel``
with the accelerator back end. When the back end is not importable the layer keeps its
integer reference kernel (bit-exact, on the CPU) and the reason is returned.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np

from tessera.compiler.errors import CompileError
from tessera.compiler.graph.ir import Graph, Node
from tessera.hw.config import HwConfig
from tessera.runtime.accel import AccelKernel

log = logging.getLogger(__name__)


def backend() -> Any:
    """The accelerator back end module, or None where it is not available."""
    try:
        from tessera.compiler import vta
    except ImportError as err:
        log.debug("accelerator back end unavailable: %s", err)
        return None
    if not all(hasattr(vta, n) for n in ("build_qconv2d", "build_qdense", "Conv2dWorkload",
                                         "DenseWorkload")):
        return None
    return vta


def layer_workload(node: Node, graph: Graph) -> Any:
    """The ``Conv2dWorkload`` / ``DenseWorkload`` of a blocked accelerator layer node (what
    ``build_layer_kernel`` builds; the tuner's ``task_of_layer`` names its task from it)."""
    vta = backend()
    if vta is None:
        raise CompileError("the accelerator back end (tessera.compiler.vta) is not available")
    w = graph.types[node.inputs[1]].shape
    in_shape = tuple(node.attr("in_shape"))
    if node.op == "QConv2d":
        n, c, h, wd = in_shape
        t, lft, _, _ = node.attr("pads") or (0, 0, 0, 0)
        sh, sw = node.attr("strides") or (1, 1)
        return vta.Conv2dWorkload(
            batch=n, height=h, width=wd, in_channels=c, out_channels=w[0],
            kernel_h=w[2], kernel_w=w[3], pad_h=t, pad_w=lft, stride_h=sh, stride_w=sw,
        )
    if node.op == "QDense":
        m, k = in_shape
        return vta.DenseWorkload(m, k, w[0])
    raise CompileError(f"node '{node.name}' ({node.op}) is not an accelerator layer")


def build_layer_kernel(
    node: Node, graph: Graph, cfg: HwConfig, schedule: dict[str, Any] | None = None,
) -> AccelKernel:
    """The ``AccelKernel`` of a blocked accelerator layer node."""
    vta = backend()
    if vta is None:
        raise CompileError("the accelerator back end (tessera.compiler.vta) is not available")
    wkl = layer_workload(node, graph)
    w = np.asarray(graph.constants[node.inputs[1]])
    bias = np.asarray(graph.constants[node.inputs[2]]) if len(node.inputs) > 2 else None
    shift, relu = int(node.attr("shift")), bool(node.attr("relu", 0))
    name = str(node.attr("layer") or node.name)
    if node.op == "QConv2d":
        return vta.build_qconv2d(wkl, w, bias, shift, relu, cfg, schedule=schedule, name=name)
    return vta.build_qdense(wkl, w, bias, shift, relu, cfg, schedule=schedule, name=name)
