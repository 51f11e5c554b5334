"""Partitioning: which quantized layers run on the accelerator, the rest on the CPU.

A ``QConv2d`` / ``QDense`` goes to the accelerator when the hardware can apply its
requantization (one immediate shift in [0, 31]) and its geometry (symmetric padding of at most
15, the LOAD instruction's padding fields). Everything else -- the input quantize, pooling,
flatten, the output dequantize, any float op -- runs on the CPU.

Around every accelerator layer the partitioner puts the layout conversions the CPU does:
``AccelPack`` (NCHW / (M, K) int8 -> the blocked DRAM layout) before and ``AccelUnpack`` after;
the layer itself takes and gives blocked data (``layout="blocked"``). Where one accelerator
layer feeds another directly, the unpack/pack pair between them is removed, so blocked data
flows from layer to layer with no CPU work.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tessera.compiler.graph.ir import Graph, Node, TensorType
from tessera.compiler.graph.registry import infer_node
from tessera.hw.config import HwConfig

LAYER_OPS = ("QConv2d", "QDense")
MAX_PAD = 15


@dataclass(frozen=True)
class Placement:
    """Where one node runs and why."""

    node: str
    op: str
    where: str  # "vta" | "cpu"
    reason: str = ""
    layer: str = ""


def unsupported_reason(node: Node) -> str:
    """Why the accelerator cannot run this quantized layer ('' when it can)."""
    shift = node.attr("shift")
    if not isinstance(shift, int):
        return "per-channel shifts (the ALU applies one immediate shift per layer)"
    if not 0 <= shift <= 31:
        return f"shift must be in [0, 31], not {shift}"
    if node.op == "QConv2d":
        t, lft, b, r = node.attr("pads") or (0, 0, 0, 0)
        if (t, lft) != (b, r):
            return f"padding must be symmetric, not {[t, lft, b, r]}"
        if max(t, lft) > MAX_PAD:
            return f"padding must be at most {MAX_PAD}, not {max(t, lft)}"
    return ""


def _blocks(cfg: HwConfig) -> dict[str, int]:
    return {"batch": cfg.batch, "block_in": cfg.block_in, "block_out": cfg.block_out}


def partition(graph: Graph, cfg: HwConfig) -> tuple[Graph, tuple[Placement, ...]]:
    """The graph with accelerator layers in blocked layout between pack/unpack nodes, and
    the placement of every node (run ``fuse_ops`` afterwards)."""
    types: dict[str, TensorType] = dict(graph.types)
    nodes: list[Node] = []
    places: list[Placement] = []
    blocks = _blocks(cfg)

    def emit(node: Node, where: str, reason: str = "", layer: str = "") -> None:
        for out, t in zip(node.outputs, infer_node(node, [types[i] for i in node.inputs])):
            types[out] = t
        nodes.append(node)
        places.append(Placement(node.name, node.op, where, reason, layer))

    for node in graph.nodes:
        reason = unsupported_reason(node) if node.op in LAYER_OPS else "not an accelerator op"
        if reason:
            emit(node, "cpu", reason, node.attr("layer", "") or "")
            continue
        x, y = node.inputs[0], node.outputs[0]
        xb, yb = f"{x}__packed", f"{y}__blk"
        if xb not in types:  # one pack per value, however many layers read it
            emit(Node.make(f"{node.name}__pack", "AccelPack", [x], [xb], blocks), "cpu",
                 "layout: to blocked")
        attrs: dict[str, Any] = {**node.attr_dict, **blocks, "layout": "blocked",
                                 "in_shape": list(types[x].shape)}
        emit(Node.make(node.name, node.op, [xb, *node.inputs[1:]], [yb], attrs), "vta",
             layer=node.attr("layer", ""))
        emit(Node.make(f"{node.name}__unpack", "AccelUnpack", [yb], [y],
                       {**blocks, "shape": list(types[y].shape)}), "cpu", "layout: from blocked")
    g = graph.replace(nodes=tuple(nodes), types=types, groups=(), memory=None)
    return _elide_round_trips(g, tuple(places), cfg)


def _elide_round_trips(
    graph: Graph, places: tuple[Placement, ...], cfg: HwConfig
) -> tuple[Graph, tuple[Placement, ...]]:
    """Drop unpack -> pack pairs between accelerator layers (same blocks: the blocked output
    of one layer is exactly the blocked input of the next)."""
    if cfg.block_in != cfg.block_out:
        return graph, places
    producers = graph.producers()
    consumers = graph.consumers()
    rename: dict[str, str] = {}
    dead: set[str] = set()
    for node in graph.nodes:
        if node.op != "AccelPack":
            continue
        src = producers.get(node.inputs[0])
        if src is None or src.op != "AccelUnpack":
            continue
        rename[node.outputs[0]] = src.inputs[0]
        dead.add(node.name)
        others = [c for c in consumers.get(src.outputs[0], []) if c.name != node.name]
        if not others and src.outputs[0] not in graph.outputs:
            dead.add(src.name)
    if not dead:
        return graph, places
    nodes = tuple(
        Node.make(n.name, n.op, [rename.get(i, i) for i in n.inputs], n.outputs, n.attr_dict)
        for n in graph.nodes if n.name not in dead
    )
    gone = {o for n in graph.nodes if n.name in dead for o in n.outputs}
    types = {k: t for k, t in graph.types.items() if k not in gone}
    return (graph.replace(nodes=nodes, types=types),
            tuple(p for p in places if p.node not in dead))


def format_partition(places: tuple[Placement, ...], steps: list[dict[str, Any]] | None = None
                     ) -> str:
    """A readable listing: one line per node, where it runs and why."""
    lines = []
    n_vta = sum(p.where == "vta" for p in places)
    lines.append(f"partition: {n_vta} accelerator layer(s), "
                 f"{len(places) - n_vta} CPU node(s)")
    for p in places:
        note = f"  ({p.reason})" if p.reason and p.where == "cpu" else ""
        layer = f" [{p.layer}]" if p.layer else ""
        lines.append(f"  {p.where:<4} {p.op:<16} {p.node}{layer}{note}")
    return "\n".join(lines)
