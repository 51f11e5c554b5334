"""Operator fusion by TVM's FuseOps rule on the post-dominator tree.

For each node (in topological order) let ``d`` be its immediate post-dominator. Then, in
three phases as in TVM:

0. an out-fusable node (conv, dense, pool) fuses with everything up to ``d`` when ``d`` is
   elementwise and every node on the way is at most broadcast; an elementwise/broadcast node
   fuses up to ``d`` when ``d`` is at most injective or a reduction and the way is at most
   injective (reductions and out-fusables only at ``d`` itself);
1. an injective node fuses up to an injective ``d`` along injective paths;
2. leftover elementwise/injective groups fuse into injective ``d``.

Fusing ``src`` into ``d`` merges every node on every path between them, so groups stay
convex. The post-dominator tree comes from networkx's ``immediate_dominators`` on the
reversed graph, from a virtual sink that every output and dead end flows into.
"""

from __future__ import annotations

from collections.abc import Callable

import networkx as nx

from tessera.compiler.graph.ir import FusedGroup, Graph, Node
from tessera.compiler.graph.pattern import Pattern
from tessera.compiler.graph.registry import op_def

SINK = "\0sink"
MAX_GROUP = 256


class _UnionFind:
    def __init__(self, names: list[str], patterns: dict[str, Pattern]):
        self.parent = {n: n for n in names}
        self.pattern = dict(patterns)
        self.size = {n: 1 for n in names}

    def find(self, n: str) -> str:
        while self.parent[n] != n:
            self.parent[n] = self.parent[self.parent[n]]
            n = self.parent[n]
        return n

    def union(self, a: str, into: str) -> None:
        ra, rb = self.find(a), self.find(into)
        if ra == rb:
            return
        self.parent[ra] = rb
        self.pattern[rb] = max(self.pattern[ra], self.pattern[rb])
        self.size[rb] += self.size[ra]


def _dataflow(graph: Graph) -> nx.DiGraph:
    producers = graph.producers()
    g = nx.DiGraph()
    g.add_node(SINK)
    for node in graph.nodes:
        g.add_node(node.name)
        for i in node.inputs:
            if i in producers:
                g.add_edge(producers[i].name, node.name)
    for o in graph.outputs:
        if o in producers:
            g.add_edge(producers[o].name, SINK)
    for n in list(g.nodes):
        if n != SINK and g.out_degree(n) == 0:
            g.add_edge(n, SINK)
    return g


def _edge_pattern(graph: Graph, node: Node, value: str) -> Pattern:
    """A broadcast op is elementwise with respect to an input of the output's shape (TVM)."""
    p = op_def(node.op).pattern
    if p == Pattern.BROADCAST and graph.types[value].shape == graph.types[node.outputs[0]].shape:
        return Pattern.ELEMWISE
    return p


def _between(g: nx.DiGraph, src: str, dst: str) -> set[str]:
    """Nodes on some path from src to dst, dst excluded, src included."""
    down = nx.descendants(g, src) | {src}
    up = nx.ancestors(g, dst)
    return (down & up) | {src}


def fuse_ops(graph: Graph) -> Graph:
    g = _dataflow(graph)
    ipdom = nx.immediate_dominators(g.reverse(copy=False), SINK)
    patterns = {n.name: op_def(n.op).pattern for n in graph.nodes}
    by_name = {n.name: n for n in graph.nodes}
    producers = graph.producers()

    def relation(src: str, dom: str) -> Pattern:
        """The pattern of ``dom`` seen from the region between ``src`` and it: the most
        complex of its edges coming from that region."""
        region = _between(g, src, dom)
        node = by_name[dom]
        edges = [_edge_pattern(graph, node, i) for i in node.inputs
                 if i in producers and producers[i].name in region]
        return max(edges, default=patterns[dom])

    uf = _UnionFind([n.name for n in graph.nodes], patterns)

    def path_ok(src: str, dst: str, inner: Callable[[Pattern], bool],
                at_sink: Callable[[Pattern], bool]) -> set[str] | None:
        nodes = _between(g, src, dst)
        for n in nodes - {src}:
            if not inner(uf.pattern[uf.find(n)]):
                return None
        if not at_sink(uf.pattern[uf.find(dst)]):
            return None
        groups = {uf.find(n) for n in nodes | {dst}}
        if sum(uf.size[r] for r in groups) > MAX_GROUP:
            return None
        return nodes

    def commit(nodes: set[str], dst: str) -> None:
        for n in nodes:
            uf.union(n, dst)

    inj = Pattern.INJECTIVE
    for phase in range(3):
        for node in graph.nodes:
            name = node.name
            dom = ipdom.get(name)
            if dom is None or dom in (SINK, name):
                continue
            root = uf.find(name)
            kind = uf.pattern[root]
            if kind == Pattern.OPAQUE or uf.find(dom) == root:
                continue
            dom_op = relation(name, dom)
            nodes: set[str] | None = None
            if phase == 2:
                if kind <= inj and uf.pattern[uf.find(dom)] <= inj:
                    nodes = path_ok(name, dom, lambda p: p <= inj, lambda p: p <= inj)
            elif kind == Pattern.OUT_FUSABLE:
                if phase == 0 and dom_op == Pattern.ELEMWISE:
                    nodes = path_ok(name, dom, lambda p: p <= Pattern.BROADCAST,
                                    lambda p: p <= Pattern.BROADCAST)
            elif kind <= Pattern.BROADCAST:
                if dom_op <= inj or dom_op == Pattern.REDUCTION:
                    nodes = path_ok(name, dom, lambda p: p <= inj,
                                    lambda p: p <= inj or p in (Pattern.REDUCTION,
                                                                Pattern.OUT_FUSABLE))
            elif kind == inj and phase == 1 and dom_op <= inj:
                nodes = path_ok(name, dom, lambda p: p <= inj, lambda p: p <= inj)
            if nodes is not None:
                commit(nodes, dom)
    return _with_groups(graph, uf)


def _with_groups(graph: Graph, uf: _UnionFind) -> Graph:
    members: dict[str, list[Node]] = {}
    for node in graph.nodes:
        members.setdefault(uf.find(node.name), []).append(node)
    order = {n.name: k for k, n in enumerate(graph.nodes)}
    producers = graph.producers()
    cond = nx.DiGraph()
    for root in members:
        cond.add_node(root)
    for node in graph.nodes:
        for i in node.inputs:
            if i in producers:
                a, b = uf.find(producers[i].name), uf.find(node.name)
                if a != b:
                    cond.add_edge(a, b)
    roots = list(nx.lexicographical_topological_sort(
        cond, key=lambda r: order[members[r][0].name]))
    consumers = graph.consumers()
    outputs = set(graph.outputs)
    groups: list[FusedGroup] = []
    nodes: list[Node] = []
    for root in roots:
        ns = members[root]
        inside = {o for n in ns for o in n.outputs}
        names = {n.name for n in ns}
        ins: list[str] = []
        for n in ns:
            for i in n.inputs:
                if i not in inside and i not in ins:
                    ins.append(i)
        outs = [o for n in ns for o in n.outputs
                if o in outputs or any(c.name not in names for c in consumers.get(o, []))]
        master = max(ns, key=lambda n: (op_def(n.op).pattern == Pattern.OUT_FUSABLE,
                                        op_def(n.op).pattern, -order[n.name]))
        groups.append(FusedGroup(
            name=f"fused_{len(groups)}_{master.op.lower()}", nodes=tuple(n.name for n in ns),
            inputs=tuple(ins), outputs=tuple(outs), master=master.name,
            pattern=int(uf.pattern[root]),
        ))
        nodes.extend(ns)
    return graph.replace(nodes=tuple(nodes), groups=tuple(groups))
