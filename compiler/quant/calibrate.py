"""Calibration: the range of every float value of a graph over sample inputs.

The graph is run node by node with the numpy reference kernels; for each floating-point value
the calibrator keeps either the largest magnitude seen (``max``) or a high percentile of the
magnitudes (``percentile``, which ignores rare outliers). Ranges become power-of-two scales in
``quantize``: an int8 value ``q`` stands for ``q * 2**exp`` with ``exp`` the smallest integer
such that ``range <= 127 * 2**exp``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from tessera.compiler.errors import CompileError
from tessera.compiler.graph.ir import Graph
from tessera.runtime.reference import run_kernel

METHODS = ("max", "percentile")
# Exponent used for a value that was zero on every sample (any scale represents it exactly).
ZERO_EXP = -7


@dataclass(frozen=True)
class Calibration:
    """Per-value magnitude ranges of a graph's float values, and how they were measured."""

    ranges: Mapping[str, float]
    method: str
    samples: int
    percentile: float = 99.99

    def exponent(self, value: str) -> int:
        if value not in self.ranges:
            raise CompileError(f"value '{value}' was not calibrated (it is not a float value)")
        return exponent_for(self.ranges[value])


def exponent_for(r: float) -> int:
    """The smallest ``e`` with ``r <= 127 * 2**e``: the power-of-two scale of range ``r``."""
    if not r > 0 or not math.isfinite(r):
        return ZERO_EXP
    e = math.ceil(math.log2(r / 127.0))
    while 127.0 * 2.0 ** (e - 1) >= r:  # guard against log2 rounding
        e -= 1
    while 127.0 * 2.0**e < r:
        e += 1
    return e


def evaluate(graph: Graph, feeds: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Every value of ``graph`` on one input (reference kernels, node by node)."""
    env: dict[str, np.ndarray] = dict(graph.constants)
    for name in graph.inputs:
        if name not in feeds:
            raise CompileError(f"calibration sample must feed input '{name}'")
        t = graph.types[name]
        value = np.asarray(feeds[name], dtype=t.dtype)
        if value.shape != t.shape:
            raise CompileError(
                f"calibration input '{name}' must have shape {list(t.shape)}, "
                f"not {list(value.shape)}"
            )
        env[name] = value
    for node in graph.nodes:
        outs = run_kernel(node.op, [env[i] for i in node.inputs], node.attr_dict)
        env.update(zip(node.outputs, outs))
    return env


def calibrate(
    graph: Graph, samples: Sequence[Mapping[str, Any]], method: str = "max",
    percentile: float = 99.99,
) -> Calibration:
    """Ranges of every float value of ``graph`` over ``samples`` (a list of input feeds)."""
    if method not in METHODS:
        raise CompileError(f"calibration method must be one of {list(METHODS)}, not {method!r}")
    if not 0.0 < percentile <= 100.0:
        raise CompileError(f"calibration percentile must be in (0, 100], not {percentile}")
    if len(samples) == 0:
        raise CompileError("calibration needs at least one sample input, not 0")
    maxima: dict[str, float] = {}
    mags: dict[str, list[np.ndarray]] = {}
    for feeds in samples:
        env = evaluate(graph, feeds)
        for name, value in env.items():
            if name in graph.constants or not np.issubdtype(value.dtype, np.floating):
                continue
            a = np.abs(value.astype(np.float32, copy=False)).ravel()
            maxima[name] = max(maxima.get(name, 0.0), float(a.max(initial=0.0)))
            if method == "percentile":
                mags.setdefault(name, []).append(a)
    ranges = maxima
    if method == "percentile":
        ranges = {
            name: float(np.percentile(np.concatenate(parts), percentile))
            for name, parts in mags.items()
        }
    return Calibration(ranges=ranges, method=method, samples=len(samples),
                       percentile=percentile)
