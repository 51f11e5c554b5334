"""The op registry: one table of every graph operator with its pattern kind and shape
function; the semantics (numpy reference kernel) live in ``tessera.runtime.reference``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

from tessera.compiler.errors import CompileError, InternalError
from tessera.compiler.graph import accel_ops as Q
from tessera.compiler.graph import shapes as S
from tessera.compiler.graph.ir import Node, TensorType
from tessera.compiler.graph.pattern import Pattern
from tessera.runtime.reference import KERNELS


@dataclass(frozen=True)
class OpDef:
    name: str
    pattern: Pattern
    shape_fn: S.ShapeFn


P = Pattern
UNARY_OPS = [
    "Sqrt", "Exp", "Log", "Neg", "Abs", "Reciprocal", "Floor", "Ceil", "Round", "Sign", "Sin",
    "Cos", "Tan", "Asin", "Acos", "Atan", "Sinh", "Cosh", "Asinh", "Acosh", "Atanh", "Relu",
    "Sigmoid", "Tanh", "Erf", "Softplus", "Softsign", "Not", "LeakyRelu", "Elu", "Selu",
    "HardSigmoid", "HardSwish", "Gelu", "Clip", "Identity",
]
BINARY_OPS = ["Add", "Sub", "Mul", "Div", "Pow", "Mod", "Min", "Max", "Sum", "Mean", "PRelu"]
COMPARE_OPS = ["Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Xor"]
REDUCE_OPS = [
    "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin", "ReduceProd", "ReduceL1", "ReduceL2",
    "ReduceSumSquare", "ReduceLogSumExp",
]
INJECTIVE_OPS = [
    "Flatten", "Reshape", "Transpose", "Concat", "Split", "Slice", "Gather", "GatherElements",
    "Squeeze", "Unsqueeze", "Pad", "Shape", "Size", "Expand", "Tile", "DepthToSpace",
    "SpaceToDepth", "LayoutTransform",
]


def _table() -> dict[str, OpDef]:
    t: dict[str, OpDef] = {}

    def add(names: Sequence[str], pattern: Pattern, fn: Any) -> None:
        for n in names:
            t[n] = OpDef(n, pattern, fn)

    add(UNARY_OPS, P.ELEMWISE, S.same)
    add(BINARY_OPS, P.BROADCAST, S.broadcast)
    add(COMPARE_OPS, P.BROADCAST, S.compare)
    add(["Where"], P.BROADCAST, S.where)
    add(["Cast"], P.ELEMWISE, S.cast)
    add(["QuantizeLinear"], P.BROADCAST, S.quantize)
    add(["DequantizeLinear"], P.BROADCAST, S.dequantize)
    add(["Conv"], P.OUT_FUSABLE, S.conv)
    add(["ConvTranspose"], P.OUT_FUSABLE, S.conv_transpose)
    add(["ConvNCHWc"], P.OUT_FUSABLE, S.conv_nchwc)
    add(["Gemm"], P.OUT_FUSABLE, S.gemm)
    add(["MatMul"], P.OUT_FUSABLE, S.matmul)
    add(["MaxPool", "AveragePool"], P.OUT_FUSABLE, S.pool)
    add(["GlobalAveragePool", "GlobalMaxPool"], P.REDUCTION, S.global_pool)
    add(["BatchNormalization", "InstanceNormalization"], P.OPAQUE, S.channel_norm)
    add(["LRN", "Softmax", "LogSoftmax"], P.OPAQUE, S.same)
    add(["LayerNormalization"], P.OPAQUE, S.layer_norm)
    add(REDUCE_OPS, P.REDUCTION, S.reduce)
    add(["ArgMax", "ArgMin"], P.OPAQUE, S.arg_reduce)
    add(["ThresholdedRelu", "Celu", "Shrink", "Mish", "BitwiseNot"], P.ELEMWISE, S.same)
    add(["IsNaN", "IsInf"], P.ELEMWISE, S.predicate)
    add(["BitwiseAnd", "BitwiseOr", "BitwiseXor"], P.BROADCAST, S.broadcast)
    add(["Hardmax", "CumSum"], P.OPAQUE, S.same)
    add(["ReduceLogSum"], P.REDUCTION, S.reduce)
    t["Einsum"] = OpDef("Einsum", P.OPAQUE, partial(S.by_evaluation, op="Einsum"))
    add(["Resize"], P.INJECTIVE, S.resize)
    add(["ConstantOfShape"], P.OPAQUE, S.constant_of_shape)
    add(["QConv2d"], P.OPAQUE, Q.qconv2d)
    add(["QDense"], P.OPAQUE, Q.qdense)
    add(["AccelPack"], P.OPAQUE, Q.accel_pack)
    add(["AccelUnpack"], P.OPAQUE, Q.accel_unpack)
    add(["Im2Col"], P.OPAQUE, Q.im2col)
    add(["QAdd"], P.BROADCAST, Q.qadd)
    for name in INJECTIVE_OPS:
        t[name] = OpDef(name, P.INJECTIVE, partial(S.by_evaluation, op=name))
    missing = sorted(set(t) - set(KERNELS))
    if missing:
        raise InternalError(f"ops without a reference kernel: {missing}")
    return t


OPS: dict[str, OpDef] = _table()


def op_def(op: str) -> OpDef:
    d = OPS.get(op)
    if d is None:
        raise CompileError(f"op {op!r} is not in the op registry")
    return d


def infer_node(node: Node, in_types: Sequence[TensorType]) -> list[TensorType]:
    """The output types of ``node``; errors name the node."""
    try:
        outs = op_def(node.op).shape_fn(list(in_types), node.attr_dict)
    except CompileError as err:
        raise CompileError(f"node '{node.name}' ({node.op}): {err}") from None
    if len(outs) != len(node.outputs):
        raise CompileError(
            f"node '{node.name}' ({node.op}): must have {len(outs)} outputs, "
            f"not {len(node.outputs)}"
        )
    return outs
