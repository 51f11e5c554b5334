"""Search spaces: knobs on a schedule template, and the configurations they span.

A ``ConfigSpace`` is an ordered list of ``Knob``s, each a name and a tuple of legal values
(split factors, loop orders, unroll flags, vector widths, parallel axes, ...). A point of the
space is a ``Config``: its index in mixed radix over the knobs and the chosen values. Points
that the template cannot schedule are rejected *before* building by the space's ``check``
function, which returns the reason (recorded in the tuning database).
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from tessera.compiler.autotune.errors import TuningError

KnobValue = Any  # int | str | bool, JSON-serializable


_REQUIRED = object()


@dataclass(frozen=True)
class Knob:
    """A named choice. ``implied``: the value a config that does not name the knob means (a
    knob added to a template later: records written before it ran with that value, and
    stay valid); without it, every config must name the knob."""

    name: str
    values: tuple[KnobValue, ...]
    implied: KnobValue = _REQUIRED

    def __post_init__(self) -> None:
        if not self.values:
            raise TuningError(f"knob {self.name!r}: values must be non-empty, not ()")
        if self.implied is not _REQUIRED and self.implied not in self.values:
            raise TuningError(f"knob {self.name!r}: implied value must be one of "
                              f"{list(self.values)}, not {self.implied!r}")


@dataclass(frozen=True)
class Config:
    """One point of a space: ``index`` in the space and ``values`` by knob name."""

    index: int
    values: Mapping[str, KnobValue] = field(hash=False, compare=False)

    def __getitem__(self, name: str) -> KnobValue:
        return self.values[name]

    def to_dict(self) -> dict[str, KnobValue]:
        return dict(self.values)


def divisors(n: int, limit: int | None = None) -> list[int]:
    top = n if limit is None else min(n, limit)
    return [d for d in range(1, top + 1) if n % d == 0]


class ConfigSpace:
    """The product of ``knobs``; ``check(config) -> reason or None`` rejects illegal points."""

    def __init__(self, knobs: Sequence[Knob],
                 check: Callable[[Config], str | None] | None = None) -> None:
        names = [k.name for k in knobs]
        if len(set(names)) != len(names):
            raise TuningError(f"config space: knob names must be distinct, not {names}")
        self.knobs = tuple(knobs)
        self._check = check

    def __len__(self) -> int:
        return math.prod(len(k.values) for k in self.knobs)

    def __repr__(self) -> str:
        inner = ", ".join(f"{k.name}={list(k.values)}" for k in self.knobs)
        return f"ConfigSpace({len(self)} points: {inner})"

    def get(self, index: int) -> Config:
        if not 0 <= index < len(self):
            raise TuningError(f"config index must be in [0, {len(self)}), not {index}")
        values: dict[str, KnobValue] = {}
        rest = index
        for k in self.knobs:
            rest, r = divmod(rest, len(k.values))
            values[k.name] = k.values[r]
        return Config(index, values)

    def from_dict(self, values: Mapping[str, KnobValue]) -> Config:
        """The config with these knob values (every knob named or implied, every value
        legal)."""
        index = 0
        scale = 1
        for k in self.knobs:
            if k.name not in values and k.implied is _REQUIRED:
                raise TuningError(f"config: knob {k.name!r} must be given, not missing")
            v = values.get(k.name, k.implied)
            if v not in k.values:
                raise TuningError(f"config: knob {k.name!r} must be one of {list(k.values)}, "
                                  f"not {v!r}")
            index += k.values.index(v) * scale
            scale *= len(k.values)
        extra = set(values) - {k.name for k in self.knobs}
        if extra:
            raise TuningError(f"config: knobs must be among {[k.name for k in self.knobs]}, "
                              f"not {sorted(extra)}")
        return self.get(index)

    def check(self, cfg: Config) -> str | None:
        """Why ``cfg`` is not a legal schedule, or None when it is."""
        return self._check(cfg) if self._check else None

    def neighbor(self, cfg: Config, rng: random.Random) -> Config:
        """``cfg`` with one knob (that has an alternative) moved to another value."""
        movable = [k for k in self.knobs if len(k.values) > 1]
        if not movable:
            return cfg
        k = rng.choice(movable)
        vals = dict(cfg.values)
        vals[k.name] = rng.choice([v for v in k.values if v != cfg.values[k.name]])
        return self.from_dict(vals)

    def __iter__(self) -> Iterator[Config]:
        return (self.get(i) for i in range(len(self)))

    def knob_vector(self, cfg: Config) -> list[float]:
        """Numeric features of the knob values (value, or position for non-numbers)."""
        out: list[float] = []
        for k in self.knobs:
            v = cfg.values[k.name]
            if isinstance(v, (int, float)) and not isinstance(v, bool):
                out.append(math.log2(1 + abs(float(v))))
            else:
                out.append(float(k.values.index(v)))
        return out
