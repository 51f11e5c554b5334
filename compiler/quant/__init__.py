"""Quantization: calibration, the int8 pass with power-of-two scales, the accuracy report.

    from tessera.compiler.quant import calibrate, quantize, QuantConfig, accuracy_report
    calib = calibrate(graph, [{"x": x0}, {"x": x1}], method="max")   # or "percentile"
    qgraph = quantize(graph, calib, QuantConfig(weights="per_tensor"))
    rows = accuracy_report(graph, qgraph, samples)
"""

from tessera.compiler.quant.calibrate import Calibration, calibrate, exponent_for
from tessera.compiler.quant.quantize import QuantConfig, layer_nodes, quantize
from tessera.compiler.quant.report import LayerReport, accuracy_report, report_table

__all__ = [
    "Calibration", "LayerReport", "QuantConfig", "accuracy_report", "calibrate",
    "exponent_for", "layer_nodes", "quantize", "report_table",
]
