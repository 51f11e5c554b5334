"""Build a ResNet-18 (1x3x224x224, ImageNet head) as ONNX with onnx.helper: Conv without bias
+ BatchNormalization + Relu, basic blocks with 1x1 stride-2 projections, global average pool,
Gemm, Softmax. Weights are seeded random (He-scaled), so outputs are not uniform.

    python scripts/build_resnet18.py OUT.onnx [--seed 0] [--batch 1]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper


class _Builder:
    def __init__(self, seed: int):
        self.rng = np.random.default_rng(seed)
        self.nodes: list[onnx.NodeProto] = []
        self.inits: list[onnx.TensorProto] = []
        self.count = 0

    def _name(self, kind: str) -> str:
        self.count += 1
        return f"{kind}{self.count}"

    def const(self, kind: str, value: np.ndarray) -> str:
        name = self._name(kind)
        self.inits.append(numpy_helper.from_array(value.astype(np.float32), name))
        return name

    def conv_bn(self, x: str, cin: int, cout: int, k: int, stride: int, relu: bool) -> str:
        w = self.rng.standard_normal((cout, cin, k, k)) * np.sqrt(2.0 / (cin * k * k))
        out = self._name("conv")
        self.nodes.append(helper.make_node(
            "Conv", [x, self.const("w", w)], [out], kernel_shape=[k, k], strides=[stride] * 2,
            pads=[k // 2] * 4, name=out))
        params = [self.const("gamma", self.rng.uniform(0.5, 1.0, cout)),
                  self.const("beta", self.rng.standard_normal(cout) * 0.05),
                  self.const("mean", self.rng.standard_normal(cout) * 0.05),
                  self.const("var", self.rng.uniform(0.8, 1.2, cout))]
        bn = self._name("bn")
        self.nodes.append(helper.make_node("BatchNormalization", [out, *params], [bn], name=bn))
        if not relu:
            return bn
        r = self._name("relu")
        self.nodes.append(helper.make_node("Relu", [bn], [r], name=r))
        return r

    def block(self, x: str, cin: int, cout: int, stride: int) -> str:
        y = self.conv_bn(x, cin, cout, 3, stride, relu=True)
        y = self.conv_bn(y, cout, cout, 3, 1, relu=False)
        short = x if stride == 1 and cin == cout else self.conv_bn(x, cin, cout, 1, stride, False)
        s = self._name("add")
        self.nodes.append(helper.make_node("Add", [y, short], [s], name=s))
        r = self._name("relu")
        self.nodes.append(helper.make_node("Relu", [s], [r], name=r))
        return r


def build_resnet18(seed: int = 0, batch: int = 1) -> onnx.ModelProto:
    b = _Builder(seed)
    x = b.conv_bn("data", 3, 64, 7, 2, relu=True)
    b.nodes.append(helper.make_node("MaxPool", [x], ["pool0"], kernel_shape=[3, 3],
                                    strides=[2, 2], pads=[1, 1, 1, 1]))
    x, cin = "pool0", 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        x = b.block(x, cin, cout, stride)
        x = b.block(x, cout, cout, 1)
        cin = cout
    b.nodes += [
        helper.make_node("GlobalAveragePool", [x], ["gap"]),
        helper.make_node("Flatten", ["gap"], ["flat"]),
        helper.make_node("Gemm", ["flat", b.const("fc_w", b.rng.standard_normal((1000, 512))
                                                  * np.sqrt(1.0 / 512) * 3),
                                  b.const("fc_b", np.zeros(1000))], ["logits"], transB=1),
        helper.make_node("Softmax", ["logits"], ["prob"], axis=1),
    ]
    graph = helper.make_graph(
        b.nodes, "resnet18",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [batch, 3, 224, 224])],
        [helper.make_tensor_value_info("prob", TensorProto.FLOAT, [batch, 1000])],
        b.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="tessera-scripts")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("output")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--batch", type=int, default=1)
    args = ap.parse_args()
    onnx.save(build_resnet18(args.seed, args.batch), args.output)
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
