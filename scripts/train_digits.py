"""Train the small digits CNN that `tessera demo` compiles, and export it to ONNX.

Data: scikit-learn's bundled 8x8 handwritten digits (no download). Model (NCHW, float32):

    x[N,1,8,8] -> Conv 3x3 pad 1 (16) -> Relu -> MaxPool 2 -> Conv 3x3 pad 1 (32) -> Relu
               -> MaxPool 2 -> Flatten -> Gemm (128 -> 10) -> logits[N,10]

Trained with plain numpy (im2col convolutions, hand-written backward pass, Adam), seeded, in a
few seconds on one core, on `tessera.compiler.models.digits_split()` (the split the demo
evaluates on).

    python scripts/train_digits.py [-o compiler/models/digits_cnn.onnx] [--epochs 30]

Prints one JSON document: the train and test accuracy of the float model.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

from tessera.compiler.models import digits_split

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "compiler" / "models" / "digits_cnn.onnx"


# ------------------------------------------------------------------ layers (forward/backward)
def im2col(x: np.ndarray, k: int, pad: int) -> np.ndarray:
    n, c, h, w = x.shape
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    cols = np.empty((n, c, k, k, h, w), dtype=x.dtype)
    for i in range(k):
        for j in range(k):
            cols[:, :, i, j] = xp[:, :, i : i + h, j : j + w]
    return cols.transpose(0, 4, 5, 1, 2, 3).reshape(n * h * w, c * k * k)


def col2im(cols: np.ndarray, shape: tuple[int, ...], k: int, pad: int) -> np.ndarray:
    n, c, h, w = shape
    cols = cols.reshape(n, h, w, c, k, k).transpose(0, 3, 4, 5, 1, 2)
    xp = np.zeros((n, c, h + 2 * pad, w + 2 * pad), dtype=cols.dtype)
    for i in range(k):
        for j in range(k):
            xp[:, :, i : i + h, j : j + w] += cols[:, :, i, j]
    return xp[:, :, pad : pad + h, pad : pad + w]


def conv_fwd(x: np.ndarray, w: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, _, h, wd = x.shape
    cols = im2col(x, 3, 1)
    out = cols @ w.reshape(w.shape[0], -1).T + b
    return out.reshape(n, h, wd, -1).transpose(0, 3, 1, 2), cols


def conv_bwd(
    dout: np.ndarray, cols: np.ndarray, x_shape: tuple[int, ...], w: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = dout.transpose(0, 2, 3, 1).reshape(-1, w.shape[0])
    dw = (d.T @ cols).reshape(w.shape)
    db = d.sum(0)
    dx = col2im(d @ w.reshape(w.shape[0], -1), x_shape, 3, 1)
    return dx, dw, db


def pool_fwd(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    n, c, h, w = x.shape
    r = x.reshape(n, c, h // 2, 2, w // 2, 2)
    out = r.max(axis=(3, 5))
    mask = r == out[:, :, :, None, :, None]
    return out, mask


def pool_bwd(dout: np.ndarray, mask: np.ndarray) -> np.ndarray:
    n, c, h, _, w, _ = mask.shape
    d = mask * dout[:, :, :, None, :, None]
    return d.reshape(n, c, h * 2, w * 2)


class Net:
    def __init__(self, rng: np.random.Generator):
        def he(*shape: int) -> np.ndarray:
            fan_in = int(np.prod(shape[1:]))
            return (rng.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(np.float32)

        self.p = {
            "w1": he(16, 1, 3, 3), "b1": np.zeros(16, np.float32),
            "w2": he(32, 16, 3, 3), "b2": np.zeros(32, np.float32),
            "w3": he(10, 128), "b3": np.zeros(10, np.float32),
        }

    def forward(self, x: np.ndarray) -> tuple[np.ndarray, dict]:
        p = self.p
        a1, c1 = conv_fwd(x, p["w1"], p["b1"])
        r1 = np.maximum(a1, 0)
        q1, m1 = pool_fwd(r1)
        a2, c2 = conv_fwd(q1, p["w2"], p["b2"])
        r2 = np.maximum(a2, 0)
        q2, m2 = pool_fwd(r2)
        f = q2.reshape(len(x), -1)
        logits = f @ p["w3"].T + p["b3"]
        cache = {"x": x, "a1": a1, "c1": c1, "m1": m1, "q1": q1, "a2": a2, "c2": c2, "m2": m2,
                 "q2": q2, "f": f}
        return logits, cache

    def backward(self, dlogits: np.ndarray, cache: dict) -> dict[str, np.ndarray]:
        p = self.p
        g = {"w3": dlogits.T @ cache["f"], "b3": dlogits.sum(0)}
        dq2 = (dlogits @ p["w3"]).reshape(cache["q2"].shape)
        da2 = pool_bwd(dq2, cache["m2"]) * (cache["a2"] > 0)
        dq1, g["w2"], g["b2"] = conv_bwd(da2, cache["c2"], cache["q1"].shape, p["w2"])
        da1 = pool_bwd(dq1, cache["m1"]) * (cache["a1"] > 0)
        _, g["w1"], g["b1"] = conv_bwd(da1, cache["c1"], cache["x"].shape, p["w1"])
        return g


def train(epochs: int, seed: int) -> tuple[Net, dict[str, float]]:
    xtr, xte, ytr, yte = digits_split()
    rng = np.random.default_rng(seed)
    net = Net(rng)
    m = {k: np.zeros_like(v) for k, v in net.p.items()}
    v = {k: np.zeros_like(val) for k, val in net.p.items()}
    lr, b1, b2, eps, step = 2e-3, 0.9, 0.999, 1e-8, 0
    for _ in range(epochs):
        order = rng.permutation(len(xtr))
        for start in range(0, len(order), 32):
            idx = order[start : start + 32]
            logits, cache = net.forward(xtr[idx])
            z = logits - logits.max(1, keepdims=True)
            prob = np.exp(z) / np.exp(z).sum(1, keepdims=True)
            prob[np.arange(len(idx)), ytr[idx]] -= 1.0
            grads = net.backward(prob / len(idx), cache)
            step += 1
            for k, gk in grads.items():
                m[k] = b1 * m[k] + (1 - b1) * gk
                v[k] = b2 * v[k] + (1 - b2) * gk * gk
                mh, vh = m[k] / (1 - b1**step), v[k] / (1 - b2**step)
                net.p[k] = (net.p[k] - lr * mh / (np.sqrt(vh) + eps)).astype(np.float32)

    def acc(x: np.ndarray, y: np.ndarray) -> float:
        return float((net.forward(x)[0].argmax(1) == y).mean())

    return net, {"train_accuracy": acc(xtr, ytr), "test_accuracy": acc(xte, yte)}


def to_onnx(net: Net) -> onnx.ModelProto:
    p = net.p
    inits = [numpy_helper.from_array(val, name) for name, val in p.items()]
    nodes = [
        helper.make_node("Conv", ["x", "w1", "b1"], ["a1"], name="conv1", pads=[1, 1, 1, 1],
                         kernel_shape=[3, 3]),
        helper.make_node("Relu", ["a1"], ["r1"], name="relu1"),
        helper.make_node("MaxPool", ["r1"], ["q1"], name="pool1", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Conv", ["q1", "w2", "b2"], ["a2"], name="conv2", pads=[1, 1, 1, 1],
                         kernel_shape=[3, 3]),
        helper.make_node("Relu", ["a2"], ["r2"], name="relu2"),
        helper.make_node("MaxPool", ["r2"], ["q2"], name="pool2", kernel_shape=[2, 2],
                         strides=[2, 2]),
        helper.make_node("Flatten", ["q2"], ["f"], name="flatten", axis=1),
        helper.make_node("Gemm", ["f", "w3", "b3"], ["logits"], name="fc", transB=1),
    ]
    graph = helper.make_graph(
        nodes, "digits_cnn",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [1, 1, 8, 8])],
        [helper.make_tensor_value_info("logits", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                              producer_name="tessera-train-digits")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_OUT)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    net, metrics = train(args.epochs, args.seed)
    onnx.save(to_onnx(net), str(args.output))
    print(f"wrote {args.output}", file=sys.stderr)
    print(json.dumps({"model": "digits_cnn", "epochs": args.epochs, "seed": args.seed,
                      **metrics}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
