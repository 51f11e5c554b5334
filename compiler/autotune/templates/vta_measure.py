"""What the accelerator templates (``vta_conv2d``, ``vta_dense``) share: the search space of a
layer (``compiler.vta``'s knobs, each point validated), building a layer at a schedule point,
running it on a device, checking the output bit for bit against the numpy spec of the
quantized math, and their features (knob values and workload dimensions)."""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np

from tessera.compiler.autotune.features import N_LOOP_FEATURES
from tessera.compiler.autotune.space import Config, ConfigSpace, Knob
from tessera.compiler.errors import TesseraError


def layer_space(wkl: Any, hw: Any) -> ConfigSpace:
    """The schedule knobs of layer ``wkl`` on configuration ``hw``; a point the accelerator
    schedule rejects (buffer overflow, ...) is rejected with its reason."""
    from tessera.compiler.vta import knob_space, validate_schedule

    def check(point: Config) -> str | None:
        try:
            validate_schedule(wkl, hw, point.to_dict())
        except TesseraError as err:
            return str(err)
        return None

    return ConfigSpace([Knob(k, tuple(v)) for k, v in knob_space(wkl, hw).items()], check)


def knob_features(cfg: Config, dims: tuple[Any, ...]) -> list[float]:
    """Knob values and workload dimensions (log scale), padded to the CPU feature length."""
    vals = [math.log2(1 + float(v)) for v in cfg.to_dict().values()]
    feats = (vals + [math.log2(1 + float(a)) for a in dims])[:N_LOOP_FEATURES]
    return feats + [0.0] * (N_LOOP_FEATURES - len(feats))


def measure_layer(build: Callable[[], Any], device: str, hw: Any, packed: np.ndarray,
                  unpack: Callable[[np.ndarray], np.ndarray], want: np.ndarray, spec: str,
                  features: list[float]) -> dict[str, Any]:
    """Build the kernel (a build error is recorded, not raised), run it on ``device`` with
    ``packed`` as its data, and report its cycles, or ``"wrong"`` when ``unpack(out)``
    differs from ``want`` (the ``spec`` function's result)."""
    import tessera.runtime as rt

    out: dict[str, Any] = {"costs": [], "error_kind": None, "error_msg": "",
                           "features": features}
    try:
        kernel = build()
    except TesseraError as err:
        out.update(error_kind="build", error_msg=f"{type(err).__name__}: {err}")
        return out
    dev = rt.device(device, cfg=hw)
    try:
        outs, res = kernel.run(dev, {"data": packed})
    finally:
        close = getattr(dev, "close", None)
        if close is not None:
            close()
    got = unpack(outs["out"])
    if not np.array_equal(got, want):
        out.update(error_kind="wrong", error_msg=f"output differs from {spec} in "
                   f"{int(np.sum(got != want))} values")
        return out
    out["costs"] = [float(res.cycles)]
    return out
