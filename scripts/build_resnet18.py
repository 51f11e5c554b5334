"""Build ResNet-18 (He et al. 2016, the torchvision layout) as an ONNX model with random
weights: conv-BN-ReLU stem, max-pool, four stages of two basic blocks (64, 128, 256, 512
channels; 1x1 strided projection shortcuts), global average pool, dense 1000.

Weights are He-initialised and BatchNorm statistics are chosen so that activations keep a
stable scale through the 18 layers (a stand-in for trained weights: nothing is downloaded).

    python scripts/build_resnet18.py -o resnet18.onnx [--size 224] [--batch 1]
    from build_resnet18 import build_resnet18       # with scripts/ on sys.path
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
        self.k = 0

    def name(self, base: str) -> str:
        self.k += 1
        return f"{base}_{self.k}"

    def const(self, base: str, value: np.ndarray) -> str:
        n = self.name(base)
        self.inits.append(numpy_helper.from_array(value.astype(np.float32), n))
        return n

    def conv_bn(self, x: str, cin: int, cout: int, k: int, stride: int, relu: bool,
                gain: float = 1.0) -> str:
        w = self.rng.normal(0, gain * np.sqrt(2.0 / (cin * k * k)), (cout, cin, k, k))
        y = self.name("conv")
        self.nodes.append(helper.make_node(
            "Conv", [x, self.const("w", w)], [y], name=y, kernel_shape=[k, k],
            strides=[stride, stride], pads=[k // 2] * 4))
        gamma = self.rng.uniform(0.8, 1.2, cout)
        beta = self.rng.normal(0, 0.05, cout)
        mean = self.rng.normal(0, 0.05, cout)
        var = self.rng.uniform(0.8, 1.2, cout)
        z = self.name("bn")
        self.nodes.append(helper.make_node(
            "BatchNormalization", [y, self.const("g", gamma), self.const("b", beta),
                                   self.const("m", mean), self.const("v", var)], [z], name=z))
        if not relu:
            return z
        r = self.name("relu")
        self.nodes.append(helper.make_node("Relu", [z], [r], name=r))
        return r

    def block(self, x: str, cin: int, cout: int, stride: int) -> str:
        h = self.conv_bn(x, cin, cout, 3, stride, True)
        h = self.conv_bn(h, cout, cout, 3, 1, False, gain=0.5)
        short = x if stride == 1 and cin == cout else self.conv_bn(x, cin, cout, 1, stride,
                                                                    False)
        s = self.name("add")
        self.nodes.append(helper.make_node("Add", [h, short], [s], name=s))
        r = self.name("relu")
        self.nodes.append(helper.make_node("Relu", [s], [r], name=r))
        return r


def build_resnet18(batch: int = 1, size: int = 224, classes: int = 1000,
                   seed: int = 0) -> onnx.ModelProto:
    b = _Builder(seed)
    x = b.conv_bn("data", 3, 64, 7, 2, True)
    p = b.name("pool")
    b.nodes.append(helper.make_node("MaxPool", [x], [p], name=p, kernel_shape=[3, 3],
                                    strides=[2, 2], pads=[1, 1, 1, 1]))
    x, cin = p, 64
    for cout, stride in ((64, 1), (128, 2), (256, 2), (512, 2)):
        x = b.block(x, cin, cout, stride)
        x = b.block(x, cout, cout, 1)
        cin = cout
    g = b.name("gap")
    b.nodes.append(helper.make_node("GlobalAveragePool", [x], [g], name=g))
    f = b.name("flatten")
    b.nodes.append(helper.make_node("Flatten", [g], [f], name=f, axis=1))
    w = b.rng.normal(0, np.sqrt(1.0 / 512), (classes, 512))
    b.nodes.append(helper.make_node(
        "Gemm", [f, b.const("fc_w", w), b.const("fc_b", np.zeros(classes))], ["logits"],
        name="fc", transB=1))
    graph = helper.make_graph(
        b.nodes, "resnet18",
        [helper.make_tensor_value_info("data", TensorProto.FLOAT, [batch, 3, size, size])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [batch, classes])],
        b.inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    onnx.checker.check_model(model)
    return model


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("-o", "--output", default="resnet18.onnx")
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--batch", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args(argv)
    onnx.save(build_resnet18(a.batch, a.size, seed=a.seed), a.output)
    print(f"wrote {a.output}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
