"""The error hierarchy's root, and the errors of the hardware layer.

``tessera.hw`` sits at the bottom of the dependency order, so the base class lives here; the
compiler's errors (``tessera.compiler.errors``) and the simulators' and runtime's errors derive
from it.
"""

from __future__ import annotations


class TesseraError(Exception):
    """Base class of every error Tessera raises on purpose."""


class ConfigError(TesseraError, ValueError):
    """A hardware configuration field is invalid (names the field and why)."""


class EncodingError(TesseraError, ValueError):
    """An instruction or micro-op field does not fit its width (names field, value, range)."""


class AsmError(TesseraError, ValueError):
    """A line of accelerator assembly could not be parsed (names the line)."""
