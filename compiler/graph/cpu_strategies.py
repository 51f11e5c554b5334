"""CPU kernel strategies of the llvm target: the tensor compiler's operator library
(``tessera.compiler.ops``) compiles the master node of a fused group -- Conv2D, Gemm/MatMul,
pooling, unary and broadcast binary elementwise ops, Softmax, LayerNormalization, Transpose,
constant Pad, Concat. A conv group is ONE kernel, the conv with its epilogue (bias, residual
add, Relu, Clip; ``cpu_conv``); other groups' remaining nodes stay numpy epilogues.
Flatten/Reshape stay numpy: views.

Which kernel runs is *measured* at build time (``mode="auto"``): the compiled step and the
numpy reference of the whole group run on random inputs of its shapes and the faster one is
kept, so a default schedule that loses to BLAS (small spatial sizes, 1x1 convs) does not slow
the model.
``mode="compiled"`` always takes the compiled kernel, ``mode="numpy"`` never.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from tessera.compiler.errors import TesseraError
from tessera.compiler.graph.cpu_conv import conv2d_group, conv2d_nchwc_group
from tessera.compiler.graph.cpu_op_kernels import OP_BUILDERS
from tessera.compiler.graph.cpu_op_kernels import kernel_symbol as _symbol
from tessera.compiler.graph.ir import FusedGroup, Graph, Node
from tessera.compiler.graph.strategy import CompiledStep
from tessera.runtime.cpu.artifact_code import members as artifact_members
from tessera.runtime.reference import run_kernel

log = logging.getLogger(__name__)

MODES = ("auto", "compiled", "numpy")
Builder = Callable[[Node, Graph], "tuple[Any, list[str], dict[str, Any]] | None"]


def _task_of(node: Node, graph: Graph) -> Any:
    """The tuning task of the fused group ``node`` masters (``autotune.extract.task_of_group``,
    the one name the tuner also uses), or None when it is not tunable."""
    from tessera.compiler.autotune.extract import task_of_group
    from tessera.compiler.graph.passes.plan_memory import group_of

    group = group_of(graph, node.name)
    return None if group is None else task_of_group(group, graph)


def _dense(node: Node, graph: Graph) -> tuple[Any, list[str], dict[str, Any]] | None:
    """Gemm/MatMul through the ``matmul`` tuning template: the best schedule recorded in the
    tuning database in scope (``compile(..., tuning_db=...)``), else the library default (the
    template's default point is ``ops.schedule_matmul``'s). ``extra["tuning"]`` says which."""
    from tessera.compiler.autotune.dispatch import build_best, choose

    a, b = (graph.types[i] for i in node.inputs[:2])
    if len(a.shape) != 2 or len(b.shape) != 2 or a.dtype != "float32" or b.dtype != "float32":
        return None
    if node.op == "Gemm" and (node.attr("transA", 0) or node.attr("alpha", 1.0) != 1.0
                              or node.attr("beta", 1.0) != 1.0):
        return None
    task = _task_of(node, graph)
    if task is None or task.template != "matmul":
        return None
    choice = choose(task)
    trans_b = bool(node.op == "Gemm" and node.attr("transB", 0))
    kernel = build_best(task, name=_symbol(node, graph), choice=choice, trans_b=trans_b)
    extra: dict[str, Any] = {"tuning": choice.describe()}
    if len(node.inputs) > 2:
        n = int(task.args[1])
        bias = graph.types[node.inputs[2]]
        shape = [1] * (2 - len(bias.shape)) + list(bias.shape)
        if shape not in ([1, n], [1, 1]):
            return None
        extra.update(bias=node.inputs[2], bias_shape=shape)
    return kernel, list(node.inputs[:2]), extra


BUILDERS: dict[str, Builder] = {
    "Conv": conv2d_group, "ConvNCHWc": conv2d_nchwc_group, "Gemm": _dense, "MatMul": _dense,
    **OP_BUILDERS,
}


def _paired_medians_ms(fa: Callable[[], Any], fb: Callable[[], Any], repeat: int = 5
                       ) -> tuple[float, float]:
    """Medians of ``fa`` and ``fb`` run alternately after a warm-up, so a burst of machine
    load hits both sides alike."""
    fa()
    fb()
    ta, tb = [], []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fa()
        t1 = time.perf_counter()
        fb()
        ta.append(t1 - t0)
        tb.append(time.perf_counter() - t1)
    return float(np.median(ta)) * 1e3, float(np.median(tb)) * 1e3


def _compiled_is_faster(group: FusedGroup, graph: Graph, kernel: Any, kernel_args: list[str],
                        extra: dict[str, Any]) -> bool:
    """Time the whole group both ways on random inputs of its shapes, as the executor runs
    it: the compiled step (members before the master in numpy, the kernel and its numpy bias,
    then the members it does not cover) against every member in numpy."""
    rng = np.random.default_rng(0)
    by = {n.name: n for n in graph.nodes}
    nodes = [by[n] for n in group.nodes]
    produced = {o for n in nodes for o in n.outputs}
    feeds = {i: graph.constants[i] if i in graph.constants else
             rng.standard_normal(graph.types[i].shape).astype(graph.types[i].dtype)
             for n in nodes for i in n.inputs if i and i not in produced}
    master = by[group.master]
    fused = set(extra.get("fused", ()))
    output = extra.get("output", master.outputs[0])
    spec = kernel.params[-1]
    out = np.empty(spec.shape, spec.dtype)

    def run(use_kernel: bool) -> None:
        env = dict(feeds)
        for n in nodes:
            if use_kernel and n is master:
                kernel(*[np.ascontiguousarray(env[a]) for a in kernel_args], out)
                if extra.get("bias"):
                    np.add(out, env[extra["bias"]].reshape(extra["bias_shape"]), out=out)
                env[output] = out.reshape(graph.types[output].shape)
            elif not (use_kernel and n.name in fused):
                env.update(zip(n.outputs, run_kernel(n.op, [env.get(i) for i in n.inputs],
                                                      n.attr_dict)))

    t_compiled, t_numpy = _paired_medians_ms(lambda: run(True), lambda: run(False))
    log.debug("%s: compiled %.3f ms, numpy %.3f ms", group.name, t_compiled, t_numpy)
    return t_compiled < t_numpy


def make_builder(mode: str) -> Callable[[FusedGroup, Graph, str], CompiledStep | None]:
    def build_group(group: FusedGroup, graph: Graph, target: str) -> CompiledStep | None:
        if mode == "numpy" or target != "llvm":
            return None
        node = next(n for n in graph.nodes if n.name == group.master)
        builder = BUILDERS.get(node.op)
        if builder is None:
            return None
        try:
            made = builder(node, graph)
        except TesseraError as err:  # the op library declines this instance
            log.info("%s: no compiled kernel (%s); numpy fallback", node.name, err)
            return None
        if made is None:
            return None
        kernel, args, extra = made
        if mode == "auto" and not _compiled_is_faster(group, graph, kernel, args, extra):
            return None
        fields, code = artifact_members(kernel)  # LLVM IR and host object code
        spec = {"symbol": kernel.entry, **fields, "args": args,
                "params": [[p.name, p.dtype, list(p.shape)] for p in kernel.params],
                "out_shape": list(graph.types[node.outputs[0]].shape), **extra}
        return CompiledStep(kind="llvm", entry={"compiled": {node.name: spec}},
                            code=code)

    return build_group
