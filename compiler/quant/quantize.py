"""The quantization pass: a float graph -> an int8 graph with power-of-two scales.

Every supported conv2d (+bias) (+ReLU) becomes one ``QConv2d`` node and every supported dense
(Gemm / MatMul with a constant weight) (+ReLU) one ``QDense``: int8 weights, an int32 bias and
one right shift, exactly the accelerator's layer (``runtime.reference.qnn``):

    x = q_x * 2**ex,  w = q_w * 2**ew,  y = q_y * 2**ey
    acc = sum(q_x * q_w)                        (scale 2**(ex + ew))
    q_y = clip((acc + q_b + 2**(s-1)) >> s)     s = ey - ex - ew, q_b = round(b / 2**(ex+ew))

The rounding term ``2**(s-1)`` is folded into the bias. Scales of activations come from the
calibration ranges; ``s`` must be in [0, 31], so an output scale is widened where the layer
would otherwise need a left shift.

Weight scales (``weights=``):

- ``per_tensor`` (default): one exponent per layer, so one immediate SHR on the accelerator's
  ALU applies the whole requantization. This is what the accelerator runs.
- ``per_channel``: one exponent per output channel and so one shift per channel. The ALU
  applies one immediate shift per instruction; per-channel shifts would cost one ALU pass per
  channel block, which the accelerator back end does not emit, so layers whose shifts differ
  run on the CPU (integer-exact reference). Offered for accuracy comparison.

Measured (``max`` calibration; SQNR of each layer's output against float, layer alone):
digits CNN, 450 test images: 98.44% float, 98.44% int8 with either mode (per-tensor 35.1 /
34.8 / 34.1 dB, per-channel 35.3 / 35.3 / 34.1 dB). ResNet-18 (random weights, 64x64
structured random inputs, 32 images): top-1 agrees with float on 30/32 per-tensor and 29/32
per-channel; the logits' SQNR is 25.7 dB per-tensor, 26.7 dB per-channel (residual adds in
float). Per-channel buys about 1 dB, not worth leaving the accelerator: per-tensor is the
default. With int8 residual adds (``residual="int8"``, the default: an all-int8 model as the
hardware would run it) the skip path is requantized at every block: top-1 29/32, logits 20.1
dB; ``residual="float"`` keeps the skip path in float on the CPU (30/32, 25.7 dB).

Activations stay int8 between quantized layers and through int8-exact ops, so there is no
float round trip between consecutive layers. Max-pooling runs on the CPU, on int8: it commutes
with the monotone quantization, so it is exact and costs little next to the convolutions (the
accelerator's ALU MAX could do it too, at the price of a DRAM round trip per window layout);
ReLU, flatten and reshape only clamp or move values. A residual add of two int8 activations
(+ReLU) is a ``QAdd`` on the CPU: both aligned to the finer scale by left shifts, added in
int32, shifted (rounded) to the output scale, clipped. Any other op gets float inputs through a
``DequantizeLinear`` and its output is quantized again (``QuantizeLinear``) where an int8
consumer needs it. The graph input is quantized and the outputs dequantized on the CPU.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from tessera.compiler.errors import CompileError
from tessera.compiler.graph.ir import Graph, Node, TensorType
from tessera.compiler.graph.registry import infer_node
from tessera.compiler.quant.calibrate import Calibration, exponent_for

log = logging.getLogger(__name__)

WEIGHT_MODES = ("per_tensor", "per_channel")
MAX_ALIGN = 16  # largest scale difference a QAdd aligns by shifting (else it adds in float)
# Ops that are exact on int8 with the input's scale (value-preserving or monotone).
INT8_OPS = frozenset({"MaxPool", "Flatten", "Reshape", "Relu", "Identity", "Squeeze",
                      "Unsqueeze", "GlobalMaxPool"})


@dataclass(frozen=True)
class QuantConfig:
    """How to quantize: calibration ``method`` (max | percentile) and weight scales."""

    method: str = "max"
    percentile: float = 99.99
    weights: str = "per_tensor"
    residual: str = "int8"  # "int8": QAdd; "float": dequantize, add in float, requantize

    def __post_init__(self) -> None:
        if self.residual not in ("int8", "float"):
            raise CompileError(
                f"residual adds must be one of ['int8', 'float'], not {self.residual!r}"
            )
        if self.weights not in WEIGHT_MODES:
            raise CompileError(
                f"weight quantization must be one of {list(WEIGHT_MODES)}, not {self.weights!r}"
            )


def weight_exponents(w: np.ndarray, per_channel: bool) -> np.ndarray:
    """Exponents of ``w`` (axis 0 = output channels): one, or one per output channel."""
    if per_channel:
        mags = np.abs(w.reshape(w.shape[0], -1)).max(axis=1)
        return np.array([exponent_for(float(m)) for m in mags], np.int64)
    return np.array([exponent_for(float(np.abs(w).max(initial=0.0)))], np.int64)


def quantize_weight(w: np.ndarray, exps: np.ndarray) -> np.ndarray:
    """Symmetric int8 (-127..127) of ``w`` with per-channel (or one) power-of-two scales."""
    scale = np.exp2(exps.astype(np.float64)).reshape((-1,) + (1,) * (w.ndim - 1))
    return np.clip(np.rint(w / scale), -127, 127).astype(np.int8)


def layer_of(graph: Graph, node: Node) -> tuple[str, np.ndarray, np.ndarray | None] | None:
    """(kind, weight (O, ...), bias) of a node the quantizer maps to a layer, else None."""
    c = graph.constants
    ins = node.inputs
    if node.op == "Conv":
        x = graph.types[ins[0]]
        ok = (len(x.shape) == 4 and node.attr("group", 1) == 1
              and all(d == 1 for d in node.attr("dilations") or [1, 1])
              and ins[1] in c and (len(ins) < 3 or ins[2] in c))
        if ok:
            return "QConv2d", c[ins[1]], c[ins[2]] if len(ins) > 2 else None
    if node.op == "Gemm":
        ok = (node.attr("alpha", 1.0) == 1.0 and node.attr("beta", 1.0) == 1.0
              and not node.attr("transA", 0) and ins[1] in c
              and (len(ins) < 3 or ins[2] in c))
        if ok:
            w = c[ins[1]] if node.attr("transB", 0) else c[ins[1]].T
            bias = c[ins[2]] if len(ins) > 2 else None
            if bias is None or bias.size == w.shape[0]:
                return "QDense", w, None if bias is None else bias.reshape(-1)
    if (node.op == "MatMul" and ins[1] in c and c[ins[1]].ndim == 2
            and len(graph.types[ins[0]].shape) == 2):
        return "QDense", c[ins[1]].T, None
    return None


class _Rewriter:
    def __init__(self, graph: Graph, calib: Calibration, config: QuantConfig):
        self.g = graph
        self.calib = calib
        self.config = config
        self.nodes: list[Node] = []
        self.types: dict[str, TensorType] = {i: graph.types[i] for i in graph.inputs}
        self.consts: dict[str, np.ndarray] = {}
        self.float_of: dict[str, str] = {i: i for i in graph.inputs}  # value -> float name
        self.int8_of: dict[str, tuple[str, int]] = {}  # value -> (int8 name, exponent)
        self.consumers = graph.consumers()
        self.layers = 0

    # ----------------------------------------------------------------- helpers
    def const(self, name: str, value: np.ndarray) -> str:
        self.consts[name] = value
        self.types[name] = TensorType.of(value)
        return name

    def emit(self, node: Node) -> None:
        for out, t in zip(node.outputs, infer_node(node, [self.types[i] for i in node.inputs])):
            self.types[out] = t
        self.nodes.append(node)

    def float_value(self, v: str) -> str:
        if v in self.g.constants:
            self.consts.setdefault(v, self.g.constants[v])
            self.types[v] = self.g.types[v]
            return v
        if v not in self.float_of:
            q, e = self.int8_of[v]
            name = f"{v}__dq"
            scale = self.const(f"{name}_scale", np.array(2.0**e, np.float32))
            self.emit(Node.make(name, "DequantizeLinear", [q, scale], [name], {"axis": 1}))
            self.float_of[v] = name
        return self.float_of[v]

    def int8_value(self, v: str) -> tuple[str, int]:
        if v not in self.int8_of:
            e = self.calib.exponent(v)
            name = f"{v}__q"
            scale = self.const(f"{name}_scale", np.array(2.0**e, np.float32))
            self.emit(Node.make(name, "QuantizeLinear", [self.float_value(v), scale], [name],
                                {"axis": 1, "dtype": "int8"}))
            self.int8_of[v] = (name, e)
        return self.int8_of[v]

    # ----------------------------------------------------------------- patterns
    def fused_relu(self, node: Node) -> Node | None:
        out = node.outputs[0]
        users = self.consumers.get(out, [])
        if out in self.g.outputs or len(users) != 1 or users[0].op != "Relu":
            return None
        return users[0]

    def layer_of(self, node: Node) -> tuple[str, np.ndarray, np.ndarray | None] | None:
        return layer_of(self.g, node)

    # ----------------------------------------------------------------- rewriting
    def layer(self, node: Node, kind: str, w: np.ndarray, bias: np.ndarray | None,
              skip: set[str]) -> None:
        relu = self.fused_relu(node)
        out = (relu or node).outputs[0]
        xq, ex = self.int8_value(node.inputs[0])
        per_channel = self.config.weights == "per_channel"
        ew = weight_exponents(w.astype(np.float64), per_channel)
        ey = self.calib.exponent(out)
        ey = min(max(ey, int((ex + ew).max())), int((ex + ew).min()) + 31)
        shifts = ey - ex - ew
        wq = quantize_weight(w.astype(np.float64), ew)
        acc_exp = np.broadcast_to(ex + ew, (w.shape[0],)).astype(np.float64)
        b = np.zeros(w.shape[0]) if bias is None else bias.astype(np.float64)
        bq = np.rint(b / np.exp2(acc_exp))
        bq += np.where(shifts > 0, np.left_shift(1, np.maximum(shifts - 1, 0)), 0)
        if np.abs(bq).max(initial=0) >= 2**31:
            log.warning("layer %s: bias saturated to int32", node.name)
        bq = np.clip(bq, -(2**31), 2**31 - 1).astype(np.int32)
        shift: Any = int(shifts[0]) if len(set(shifts.tolist())) == 1 and not per_channel \
            else [int(s) for s in np.broadcast_to(shifts, (w.shape[0],))]
        name = f"{node.name}__{kind.lower()}"
        attrs: dict[str, Any] = {
            "shift": shift, "relu": int(relu is not None), "x_exp": ex,
            "w_exp": [int(e) for e in ew], "y_exp": ey, "layer": node.name,
            "float_in": node.inputs[0], "float_out": out,
        }
        if kind == "QConv2d":
            attrs.update(strides=node.attr("strides") or [1, 1],
                         pads=node.attr("pads") or [0, 0, 0, 0])
        wname = self.const(f"{name}_w", wq)
        bname = self.const(f"{name}_b", bq)
        yq = f"{out}__q"
        self.emit(Node.make(name, kind, [xq, wname, bname], [yq], attrs))
        self.int8_of[out] = (yq, ey)
        if relu is not None:
            skip.add(relu.name)
        self.layers += 1

    def add(self, node: Node, skip: set[str]) -> bool:
        """A residual add of two activations as ``QAdd`` on int8 (False: not applicable)."""
        if node.op != "Add" or len(node.inputs) != 2 or self.config.residual != "int8":
            return False
        a, b = node.inputs
        if (a in self.g.constants or b in self.g.constants
                or self.g.types[a].shape != self.g.types[b].shape
                or not (a in self.int8_of or b in self.int8_of)):
            return False
        ea = self.int8_of[a][1] if a in self.int8_of else self.calib.exponent(a)
        eb = self.int8_of[b][1] if b in self.int8_of else self.calib.exponent(b)
        em = min(ea, eb)
        if max(ea, eb) - em > MAX_ALIGN:
            return False
        relu = self.fused_relu(node)
        out = (relu or node).outputs[0]
        ey = self.calib.exponent(out)
        qa, _ = self.int8_value(a)
        qb, _ = self.int8_value(b)
        yq = f"{out}__q"
        self.emit(Node.make(f"{node.name}__qadd", "QAdd", [qa, qb], [yq], {
            "a_shift": ea - em, "b_shift": eb - em, "shift": ey - em,
            "relu": int(relu is not None), "y_exp": ey, "layer": node.name,
        }))
        self.int8_of[out] = (yq, ey)
        if relu is not None:
            skip.add(relu.name)
        return True

    def other(self, node: Node) -> None:
        x = node.inputs[0] if node.inputs else None
        if (node.op in INT8_OPS and x in self.int8_of and x not in self.float_of
                and all(i in self.g.constants for i in node.inputs[1:])):
            q, e = self.int8_of[x]
            outs = [f"{o}__q" for o in node.outputs]
            for i in node.inputs[1:]:
                self.float_value(i)
            self.emit(Node.make(f"{node.name}__q", node.op, [q, *node.inputs[1:]], outs,
                                node.attr_dict))
            for o, qo in zip(node.outputs, outs):
                self.int8_of[o] = (qo, e)
            return
        ins = [self.float_value(i) for i in node.inputs]
        self.emit(Node.make(node.name, node.op, ins, node.outputs, node.attr_dict))
        for o in node.outputs:
            self.float_of[o] = o

    def run(self) -> Graph:
        skip: set[str] = set()
        for node in self.g.nodes:
            if node.name in skip:
                continue
            found = self.layer_of(node)
            if found is not None:
                self.layer(node, *found, skip=skip)
            elif not self.add(node, skip):
                self.other(node)
        outputs = []
        for o in self.g.outputs:
            f = self.float_value(o)
            if f != o:  # keep the graph's output names
                self.emit(Node.make(f"{o}__out", "Identity", [f], [o]))
            outputs.append(o)
        used = {i for n in self.nodes for i in n.inputs}
        consts = {k: v for k, v in self.consts.items() if k in used}
        types = {k: t for k, t in self.types.items() if k not in self.consts or k in consts}
        return Graph(name=self.g.name, inputs=self.g.inputs, outputs=tuple(outputs),
                     nodes=tuple(self.nodes), types=types, constants=consts)


def quantize(graph: Graph, calib: Calibration, config: QuantConfig | None = None) -> Graph:
    """The int8 version of ``graph`` (unfused: run ``fuse_ops`` after it)."""
    graph = graph.replace(groups=(), memory=None)
    rw = _Rewriter(graph, calib, config or QuantConfig())
    out = rw.run()
    log.info("quantized %s: %d layers to int8", graph.name, rw.layers)
    return out


def layer_nodes(graph: Graph) -> list[Node]:
    """The quantized layers of a graph, in order."""
    return [n for n in graph.nodes if n.op in ("QConv2d", "QDense")]


def exponents(node: Node) -> Mapping[str, Any]:
    return {k: node.attr(k) for k in ("x_exp", "w_exp", "y_exp", "shift")}
