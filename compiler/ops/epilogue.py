"""Fused conv epilogues: the elementwise tail of a conv group, described as plain data.

An *epilogue* is a tuple of steps applied in order to the conv's output, each a tuple whose
first item names it:

    ("bias",)              + a bias operand: 1-D (C,) along the channel axis 1, else numpy
                             broadcasting (NCHWc's (C/b, 1, 1, b) bias)
    ("add",)               + an operand broadcast to the output (a residual, numpy rules)
    ("relu",)              max(x, 0)
    ("clip", lo, hi)       min(max(x, lo), hi); ``None`` leaves that side open

It is hashable and JSON-able (lists read back from JSON are frozen into tuples by
``epilogue_of``) because it is part of a tuning task's key. ``apply_epilogue`` builds the
steps as te stages after the conv (tag ``conv_epilogue``); the conv schedules inline all of
them but the last and attach the conv's register tile under the last one, so the output is
written once. ``reference`` is the numpy meaning, for tests and the tuner.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from tessera.compiler.errors import CompileError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import tensor as T
from tessera.compiler.tensor.schedule import Schedule, op_inputs

Step = tuple[Any, ...]
Epilogue = tuple[Step, ...]
TAG = "conv_epilogue"
ARITY = {"bias": 1, "add": 1, "relu": 0, "clip": 2}  # parameters after the name
WITH_OPERAND = ("bias", "add")


def _bound(v: Any, where: str) -> float | None:
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        raise CompileError(f"epilogue: {where} must be a number or None, not {v!r}")
    return float(v)


def epilogue_of(steps: Sequence[Any] | None) -> Epilogue:
    """``steps`` checked and frozen into the canonical tuple of tuples."""
    out: list[Step] = []
    for k, step in enumerate(steps or ()):
        if isinstance(step, str) or not isinstance(step, (list, tuple)) or not step:
            raise CompileError(f"epilogue: step {k} must be a non-empty tuple like ('relu',), "
                               f"not {step!r}")
        name, params = step[0], tuple(step[1:])
        if name not in ARITY:
            raise CompileError(f"epilogue: step {k} must be one of {sorted(ARITY)}, not "
                               f"{name!r}")
        want = 2 if name == "clip" else 0
        if len(params) != want:
            raise CompileError(f"epilogue: step {k} ({name}) must have {want} parameters, not "
                               f"{len(params)}")
        if name == "clip":
            params = (_bound(params[0], f"step {k} clip min"),
                      _bound(params[1], f"step {k} clip max"))
        out.append((name, *params))
    return tuple(out)


def num_operands(epilogue: Epilogue) -> int:
    """How many tensor operands the epilogue reads (bias, residuals), in step order."""
    return sum(1 for s in epilogue if s[0] in WITH_OPERAND)


def _read(t: T.Tensor, idx: tuple[E.Var, ...], channel_1d: bool) -> E.Expr:
    if channel_1d and t.ndim == 1:
        return t[(idx[1],)]
    off = len(idx) - t.ndim
    return t[tuple(E.as_expr(0) if n == 1 else idx[off + d] for d, n in enumerate(t.shape))]


def _check_operand(t: T.Tensor, shape: tuple[int, ...], dtype: str, k: int, kind: str) -> None:
    if t.dtype != dtype:
        raise CompileError(f"epilogue: step {k} ({kind}) operand must have dtype {dtype}, not "
                           f"{t.dtype}")
    if kind == "bias" and t.ndim == 1:
        if t.shape[0] not in (1, shape[1]):
            raise CompileError(f"epilogue: step {k} (bias) must have {shape[1]} channels, not "
                               f"{t.shape[0]}")
        return
    ok = t.ndim <= len(shape) and all(
        n in (1, shape[len(shape) - t.ndim + d]) for d, n in enumerate(t.shape))
    if not ok:
        raise CompileError(f"epilogue: step {k} ({kind}) operand {t.shape} must broadcast to "
                           f"the output {shape}")


def _value(step: Step, v: E.Expr, operand: E.Expr | None) -> E.Expr:
    """One step applied to the element ``v`` (``operand``: the bias or residual element)."""
    if operand is not None:
        return v + operand
    if step[0] == "relu":
        return E.maximum(v, E.as_expr(0.0, v.dtype))
    lo, hi = step[1], step[2]
    if lo is not None:
        v = E.maximum(v, E.as_expr(lo, v.dtype))
    if hi is not None:
        v = E.minimum(v, E.as_expr(hi, v.dtype))
    return v


def apply_epilogue(x: T.Tensor, epilogue: Sequence[Any], operands: Sequence[T.Tensor],
                   name: str = "epi") -> T.Tensor:
    """``x`` followed by one te stage per step (tag ``conv_epilogue``); ``x`` itself when
    the epilogue is empty."""
    epi = epilogue_of(epilogue)
    if len(operands) != num_operands(epi):
        raise CompileError(f"epilogue: {[s[0] for s in epi]} must have {num_operands(epi)} "
                           f"operands, not {len(operands)}")
    rest = list(operands)
    out = x
    for k, step in enumerate(epi):
        prev = out
        arg = rest.pop(0) if step[0] in WITH_OPERAND else None
        if arg is not None:
            _check_operand(arg, prev.shape, prev.dtype, k, step[0])

        def body(*i: E.Var, p: T.Tensor = prev, a: T.Tensor | None = arg,
                 st: Step = step) -> E.Expr:
            return _value(st, p[i], None if a is None else _read(a, i, st[0] == "bias"))

        out = T.compute(prev.shape, body, name=f"{name}{k}_{step[0]}", tag=TAG,
                        attrs={"step": step})
    return out


def split_epilogue(out: T.Tensor) -> tuple[T.Tensor, list[T.Tensor]]:
    """(the conv's own output, the epilogue stages from first to last) of a fused output;
    ``(out, [])`` for a plain conv. Each step reads the previous value as its first input."""
    chain: list[T.Tensor] = []
    t = out
    while getattr(t.op, "tag", "") == TAG:
        chain.append(t)
        t = op_inputs(t.op)[0]
    return t, chain[::-1]


def inline_epilogue(s: Schedule, out: T.Tensor) -> T.Tensor:
    """Inline every epilogue stage but the output into its consumer; the conv's own output
    is returned (the caller inlines or attaches it)."""
    anchor, chain = split_epilogue(out)
    for t in chain[:-1]:
        s[t].compute_inline()
    return anchor


def reference(y: np.ndarray, epilogue: Sequence[Any], operands: Sequence[np.ndarray]
              ) -> np.ndarray:
    """The numpy meaning of ``epilogue`` applied to the conv output ``y``."""
    rest = list(operands)
    for step in epilogue_of(epilogue):
        kind = step[0]
        if kind in WITH_OPERAND:
            a = rest.pop(0)
            if kind == "bias" and a.ndim == 1:
                a = a.reshape((1, -1) + (1,) * (y.ndim - 2))
            y = y + a
        elif kind == "relu":
            y = np.maximum(y, 0)
        else:
            if step[1] is not None:
                y = np.maximum(y, step[1])
            if step[2] is not None:
                y = np.minimum(y, step[2])
    return y
