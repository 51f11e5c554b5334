"""The graph IR: ``Graph`` of ``Node`` over ``TensorType`` values, the op registry, the
printer, the verifier and the passes (``tessera.compiler.graph.passes``)."""

from tessera.compiler.graph.ir import FusedGroup, Graph, MemoryPlan, Node, TensorType
from tessera.compiler.graph.pattern import Pattern
from tessera.compiler.graph.printer import print_graph
from tessera.compiler.graph.registry import OPS, infer_node, op_def
from tessera.compiler.graph.verify import verify

__all__ = [
    "OPS", "FusedGroup", "Graph", "MemoryPlan", "Node", "Pattern", "TensorType", "infer_node",
    "op_def", "print_graph", "verify",
]
