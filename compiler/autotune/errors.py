"""Errors of the auto-tuner (subclasses of ``tessera.compiler.errors``)."""

from __future__ import annotations

from tessera.compiler.errors import CompileError, UnsupportedError


class TuningDatabaseError(CompileError):
    """A tuning database file is corrupt, not a database, or of another schema version."""


class TuningError(CompileError):
    """A tuning task or search space is malformed (bad knob value, unknown template)."""


class UnsupportedTaskError(UnsupportedError):
    """A workload has no tuning template."""


__all__ = ["TuningDatabaseError", "TuningError", "UnsupportedTaskError"]
