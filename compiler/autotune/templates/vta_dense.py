"""The accelerator's int8 dense layer as a tuning template, like ``vta_conv2d``: knobs from
``tessera.compiler.vta`` (tile_n over the row blocks, tile_oc, tile_ic, vthreads; a dense
layer is a 1x1 conv over a 1x1 image, so tile_h = tile_w = 1), cost = cycles of a real run on
a device (``fsim``'s cycle model or ``rtl-fast``), output checked bit for bit against
``runtime.reference.qnn.qdense``.

args: (M, N, K, hw_config_name, device) -- ``(M, K) x (N, K)^T``, in the ``matmul``
template's order, so a Gemm/MatMul group names its CPU and accelerator tasks alike.

No separate cycle-estimate prior: the default point (the tuner's first trial) is already
``default_schedule``, the argmin of ``estimate_cycles``, and on fsim it measured as the best
point found (ResNet-18 C6 over 16 random trials, C11 over 8), so every search reaches 95% of
the best at trial 1 and a prior cannot lower ``trials_to_95``.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tessera.compiler.autotune.space import Config, ConfigSpace
from tessera.compiler.autotune.templates.base import Template
from tessera.compiler.autotune.templates.vta_measure import (
    knob_features,
    layer_space,
    measure_layer,
)


def _workload(args: tuple[Any, ...]) -> Any:
    from tessera.compiler.vta import DenseWorkload

    m, n, k = (int(a) for a in args[:3])
    return DenseWorkload(m, k, n)


def _config(args: tuple[Any, ...]) -> Any:
    from tessera.hw.config import HwConfig

    return HwConfig.named(args[3])


class VtaDenseTemplate(Template):
    name = "vta_dense"
    custom_measure = True

    def space(self, args: tuple[Any, ...]) -> ConfigSpace:
        return layer_space(_workload(args), _config(args))

    def default(self, args: tuple[Any, ...]) -> dict[str, Any]:
        from tessera.compiler.vta import default_schedule

        return dict(default_schedule(_workload(args), _config(args)))

    def flops(self, args: tuple[Any, ...]) -> float:
        m, n, k = args[:3]
        return 2.0 * m * n * k

    def hardware(self, args: tuple[Any, ...]) -> dict[str, Any] | None:
        from tessera.compiler.autotune.hardware import vta_descriptor

        return vta_descriptor(_config(args), args[4])

    def measure(self, args: tuple[Any, ...], cfg: Config, p: dict[str, Any]) -> dict[str, Any]:
        """Build with the schedule, run on the device, check against qnn, report cycles."""
        from tessera.compiler.vta import build_qdense
        from tessera.hw.layout import pack_matrix_inp, unpack_matrix
        from tessera.runtime.reference.qnn import qdense

        wkl, hw = _workload(args), _config(args)
        m, n, k = args[:3]
        rng = np.random.default_rng(0)
        x = rng.integers(-8, 8, (m, k), dtype=np.int8)
        wt = rng.integers(-8, 8, (n, k), dtype=np.int8)
        bias = rng.integers(-64, 64, (n,), dtype=np.int32)
        return measure_layer(
            lambda: build_qdense(wkl, wt, bias, 4, True, hw, schedule=cfg.to_dict()),
            args[4], hw, pack_matrix_inp(x, hw), lambda o: unpack_matrix(o, (m, n), hw),
            qdense(x, wt, bias, 4, True), "qnn.qdense", self.features(args, cfg))

    def features(self, args: tuple[Any, ...], cfg: Config) -> list[float]:
        """Knob values and the workload's dimensions (log scale), padded to the CPU length."""
        return knob_features(cfg, args[:3])
