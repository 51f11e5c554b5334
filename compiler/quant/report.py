"""The accuracy impact of quantization, layer by layer, on the calibration data.

For each quantized layer two errors of its dequantized int8 output against the float model's:

- ``isolated``: the layer alone, fed the float model's own input (quantized): the error the
  layer's weights, bias and output scale add;
- ``cumulative``: inside the whole int8 model: everything upstream included.

Both as a signal-to-quantization-noise ratio in dB (higher is better; 8 bits is at most about
48 dB) and the largest absolute error in units of the output scale.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from rich.table import Table

from tessera.compiler.graph.ir import Graph
from tessera.compiler.quant.calibrate import evaluate
from tessera.compiler.quant.quantize import layer_nodes
from tessera.runtime.reference import run_kernel


@dataclass(frozen=True)
class LayerReport:
    layer: str
    op: str
    shift: Any
    x_exp: int
    y_exp: int
    sqnr_isolated_db: float
    sqnr_cumulative_db: float
    max_err_lsb: float

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def sqnr_db(ref: np.ndarray, got: np.ndarray) -> float:
    signal = float(np.sum(np.square(ref.astype(np.float64))))
    noise = float(np.sum(np.square(ref.astype(np.float64) - got.astype(np.float64))))
    if noise == 0.0:
        return float("inf")
    if signal == 0.0:
        return float("-inf")
    return 10.0 * float(np.log10(signal / noise))


def accuracy_report(
    float_graph: Graph, qgraph: Graph, samples: Sequence[Mapping[str, Any]],
) -> list[LayerReport]:
    """Per-layer errors of ``qgraph`` against ``float_graph`` over ``samples``."""
    layers = layer_nodes(qgraph)
    refs: dict[str, list[np.ndarray]] = {n.name: [] for n in layers}
    iso: dict[str, list[np.ndarray]] = {n.name: [] for n in layers}
    cum: dict[str, list[np.ndarray]] = {n.name: [] for n in layers}
    for feeds in samples:
        fenv = evaluate(float_graph, feeds)
        qenv = evaluate(qgraph, feeds)
        for n in layers:
            ex, ey = n.attr("x_exp"), n.attr("y_exp")
            ref = fenv[n.attr("float_out")]
            x = fenv[n.attr("float_in")]
            xq = np.clip(np.rint(x / 2.0**ex), -128, 127).astype(np.int8)
            args = [xq, *(qgraph.constants[i] for i in n.inputs[1:])]
            (alone,) = run_kernel(n.op, args, n.attr_dict)
            refs[n.name].append(ref.ravel())
            iso[n.name].append(alone.astype(np.float64).ravel() * 2.0**ey)
            cum[n.name].append(qenv[n.outputs[0]].astype(np.float64).ravel() * 2.0**ey)
    rows = []
    for n in layers:
        ref = np.concatenate(refs[n.name])
        c = np.concatenate(cum[n.name])
        rows.append(LayerReport(
            layer=n.attr("layer"), op=n.op, shift=n.attr("shift"), x_exp=n.attr("x_exp"),
            y_exp=n.attr("y_exp"),
            sqnr_isolated_db=sqnr_db(ref, np.concatenate(iso[n.name])),
            sqnr_cumulative_db=sqnr_db(ref, c),
            max_err_lsb=float(np.abs(ref - c).max(initial=0.0)) / 2.0 ** n.attr("y_exp"),
        ))
    return rows


def report_table(rows: Sequence[LayerReport], title: str = "quantization") -> Table:
    t = Table(title=title)
    for col in ("layer", "op", "shift", "x exp", "y exp", "SQNR alone dB", "SQNR in model dB",
                "max err (LSB)"):
        t.add_column(col, justify="left" if col in ("layer", "op") else "right")
    for r in rows:
        shift = r.shift if isinstance(r.shift, int) else f"{min(r.shift)}..{max(r.shift)}"
        t.add_row(r.layer, r.op, str(shift), str(r.x_exp), str(r.y_exp),
                  f"{r.sqnr_isolated_db:.1f}", f"{r.sqnr_cumulative_db:.1f}",
                  f"{r.max_err_lsb:.1f}")
    return t
