"""The accelerator side of tuning (knobs from ``tessera.compiler.vta``, cycles from fsim)."""

from __future__ import annotations

from tessera.compiler.autotune.errors import UnsupportedTaskError


def check_vta_available() -> None:
    raise UnsupportedTaskError("tune: target 'vta' must have accelerator templates, which this "
                               "build does not have yet; use --target llvm")
