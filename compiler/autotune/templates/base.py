"""The schedule-template contract: a knob space, a schedule per point, inputs and a reference."""

from __future__ import annotations

from typing import Any

import numpy as np

from tessera.compiler.autotune.space import Config, ConfigSpace
from tessera.compiler.tensor.schedule import Schedule
from tessera.compiler.tensor.tensor import Tensor


class Template:
    """A parameterized schedule of one operator. Subclasses set ``name`` and implement the
    methods; ``args`` is the workload (shapes, dtype, strides) as a tuple of JSON values."""

    name = ""
    custom_measure = False  # True: ``measure`` builds, runs and checks (accelerator targets)

    def space(self, args: tuple[Any, ...]) -> ConfigSpace:
        raise NotImplementedError

    def default(self, args: tuple[Any, ...]) -> dict[str, Any]:
        """Knob values of the operator library's hand-written (untuned) schedule."""
        raise NotImplementedError

    def instantiate(self, args: tuple[Any, ...], cfg: Config) -> tuple[Schedule, list[Tensor]]:
        """The schedule of point ``cfg`` and the kernel's tensors (inputs, then output)."""
        raise NotImplementedError

    def flops(self, args: tuple[Any, ...]) -> float:
        raise NotImplementedError

    def arrays(self, args: tuple[Any, ...], rng: np.random.Generator) -> list[np.ndarray]:
        """Random inputs and a zeroed output, in kernel parameter order."""
        raise NotImplementedError

    def reference(self, args: tuple[Any, ...], arrays: list[np.ndarray]) -> np.ndarray | None:
        """The expected output for ``arrays``, or None: then the untuned schedule's output."""
        return None

    def before_run(self, cfg: Config) -> None:
        """A hook run in the measuring process just before the kernel (fault injection)."""

    def hardware(self, args: tuple[Any, ...]) -> dict[str, Any] | None:
        """The descriptor of the hardware the workload names (accelerators), or None: the
        runner's."""
        return None

    def measure(self, args: tuple[Any, ...], cfg: Config, p: dict[str, Any]) -> dict[str, Any]:
        """For ``custom_measure`` templates: costs, error_kind, error_msg and features."""
        raise NotImplementedError

    def features(self, args: tuple[Any, ...], cfg: Config) -> list[float] | None:
        """For ``custom_measure`` templates: the model's features of a point."""
        return None
