"""The accelerator's int8 conv2d as a tuning template: knobs from ``tessera.compiler.vta``
(tile sizes, virtual threads), cost = cycles of a real run on a device (``fsim``'s cycle
model or ``rtl-fast``), output checked bit for bit against ``runtime.reference.qnn``.

args: (N, C, H, W, O, KH, KW, stride, pad, hw_config_name, device).
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
    from tessera.compiler.vta import Conv2dWorkload

    n, c, h, w, o, kh, kw, stride, pad = args[:9]
    return Conv2dWorkload(n, h, w, c, o, kh, kw, pad, pad, stride, stride)


def _config(args: tuple[Any, ...]) -> Any:
    from tessera.hw.config import HwConfig

    return HwConfig.named(args[9])


class VtaConv2dTemplate(Template):
    name = "vta_conv2d"
    custom_measure = True

    def space(self, args: tuple[Any, ...]) -> ConfigSpace:
        return layer_space(_workload(args), _config(args))

    def default(self, args: tuple[Any, ...]) -> dict[str, Any]:
        from tessera.compiler.vta import default_schedule

        return dict(default_schedule(_workload(args), _config(args)))

    def flops(self, args: tuple[Any, ...]) -> float:
        n, c, h, w, o, kh, kw, stride, pad = args[:9]
        oh = (h + 2 * pad - kh) // stride + 1
        ow = (w + 2 * pad - kw) // stride + 1
        return 2.0 * n * o * oh * ow * c * kh * kw

    def hardware(self, args: tuple[Any, ...]) -> dict[str, Any] | None:
        from tessera.compiler.autotune.hardware import vta_descriptor

        return vta_descriptor(_config(args), args[10])

    def measure(self, args: tuple[Any, ...], cfg: Config, p: dict[str, Any]) -> dict[str, Any]:
        """Build with the schedule, run on the device, check against qnn, report cycles."""
        from tessera.compiler.vta import build_qconv2d
        from tessera.hw.layout import pack_activation, unpack_activation
        from tessera.runtime.reference.qnn import qconv2d

        wkl, hw = _workload(args), _config(args)
        n, c, h, w, o, kh, kw, stride, pad = args[:9]
        rng = np.random.default_rng(0)
        x = rng.integers(-8, 8, (n, c, h, w), dtype=np.int8)
        wt = rng.integers(-8, 8, (o, c, kh, kw), dtype=np.int8)
        bias = rng.integers(-64, 64, (o,), dtype=np.int32)
        shape = (n, o, (h + 2 * pad - kh) // stride + 1, (w + 2 * pad - kw) // stride + 1)
        return measure_layer(
            lambda: build_qconv2d(wkl, wt, bias, 4, True, hw, schedule=cfg.to_dict()),
            args[10], hw, pack_activation(x, hw),
            lambda out: unpack_activation(out, shape, hw, kind="out"),
            qconv2d(x, wt, bias, 4, True, (stride, stride), (pad, pad, pad, pad)),
            "qnn.qconv2d", self.features(args, cfg))

    def features(self, args: tuple[Any, ...], cfg: Config) -> list[float]:
        """Knob values and the workload's dimensions (log scale), padded to the CPU length."""
        return knob_features(cfg, args[:9])
