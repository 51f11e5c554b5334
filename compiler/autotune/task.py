"""Tuning tasks: one schedule template applied to one workload on one target.

A ``Task`` is plain data (template name, workload arguments, target), so it pickles to
measurement processes and Dask workers, and its ``key`` names the workload in the database.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tessera.compiler.autotune.errors import UnsupportedTaskError

if TYPE_CHECKING:
    from tessera.compiler.autotune.space import ConfigSpace
    from tessera.compiler.autotune.templates.base import Template

TARGETS = ("llvm", "vta")


@dataclass(frozen=True)
class Task:
    """``template`` applied to the workload ``args`` for ``target``."""

    template: str
    args: tuple[Any, ...]
    target: str = "llvm"

    def __post_init__(self) -> None:  # args read back from JSON hold lists: keep it hashable
        object.__setattr__(self, "args", _frozen(self.args))

    @property
    def key(self) -> str:
        """The workload key: template and arguments (the target is stored apart)."""
        return json.dumps([self.template, list(self.args)], separators=(",", ":"))

    @staticmethod
    def from_key(key: str, target: str = "llvm") -> Task:
        name, args = json.loads(key)
        return Task(name, tuple(args), target)

    @property
    def impl(self) -> Template:
        from tessera.compiler.autotune.templates import get_template

        return get_template(self.template)

    @property
    def space(self) -> ConfigSpace:
        return self.impl.space(self.args)

    @property
    def flops(self) -> float:
        return self.impl.flops(self.args)

    def __str__(self) -> str:
        return f"{self.template}{tuple(self.args)}"


def _frozen(value: Any) -> Any:
    if isinstance(value, (list, tuple)):
        return tuple(_frozen(v) for v in value)
    return value


def check_target(target: str) -> str:
    if target not in TARGETS:
        raise UnsupportedTaskError(f"tune: target must be one of {list(TARGETS)}, not "
                                   f"{target!r}")
    return target
