"""A tiny elementwise template whose ``fault`` knob makes candidates misbehave on purpose.

It exists to prove the measurement machinery: ``abort`` kills the measuring process
(``os.abort``), ``hang`` sleeps past any timeout, ``wrong`` builds a kernel that adds 2
instead of 1 (caught by the check against the reference), ``raise`` fails in the build.
``none`` is a correct kernel, so a tuning run over this space finds real timings too.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np

from tessera.compiler import tensor as te
from tessera.compiler.autotune.space import Config, ConfigSpace, Knob
from tessera.compiler.autotune.templates.base import Template
from tessera.compiler.errors import ScheduleError
from tessera.compiler.tensor.schedule import Schedule
from tessera.compiler.tensor.tensor import Tensor


class FaultyTemplate(Template):
    """args: (n,). ``Y = X + 1`` over n float32 values."""

    name = "faulty_add"

    def space(self, args: tuple[Any, ...]) -> ConfigSpace:
        return ConfigSpace([Knob("fault", ("none", "abort", "hang", "wrong", "raise")),
                            Knob("vec", (1, 4, 8))])

    def default(self, args: tuple[Any, ...]) -> dict[str, Any]:
        return {"fault": "none", "vec": 1}

    def flops(self, args: tuple[Any, ...]) -> float:
        return float(args[0])

    def arrays(self, args: tuple[Any, ...], rng: np.random.Generator) -> list[np.ndarray]:
        return [rng.standard_normal(args[0]).astype("float32"), np.zeros(args[0], "float32")]

    def reference(self, args: tuple[Any, ...], arrays: list[np.ndarray]) -> np.ndarray | None:
        return arrays[0] + 1.0

    def instantiate(self, args: tuple[Any, ...], cfg: Config) -> tuple[Schedule, list[Tensor]]:
        if cfg["fault"] == "raise":
            raise ScheduleError("faulty_add: fault 'raise' must fail the build, as it did")
        X = te.placeholder((args[0],), "float32", "X")
        delta = 2.0 if cfg["fault"] == "wrong" else 1.0
        Y = te.compute((args[0],), lambda i: X[i] + delta, name="Y")
        s = te.create_schedule(Y)
        if cfg["vec"] > 1:
            _, xi = s[Y].split(s[Y].op.axis[0], factor=int(cfg["vec"]))
            s[Y].vectorize(xi)
        return s, [X, Y]

    def before_run(self, cfg: Config) -> None:
        if cfg["fault"] == "abort":
            os.abort()
        if cfg["fault"] == "hang":
            time.sleep(3600)
