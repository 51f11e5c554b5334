"""Errors raised by Tessera.

Every message says what is wrong, where, and what was expected, in the form
"<where>: <what> must be <expected>, not <actual>" wherever that reads naturally.

- ``CompileError``: a bad model or operator (user input).
- ``ScheduleError``: an illegal schedule (names the stage and loop).
- ``UnsupportedError``: valid input that Tessera does not support yet.
- ``InternalError``: a bug in Tessera; always a failed invariant.

The hardware, simulator and runtime layers raise their own subclasses of ``TesseraError``
(defined in ``tessera.hw.errors``) so that they need not import the compiler; this module
re-exports the base class so users can catch everything with one ``except``.
"""

from __future__ import annotations

from tessera.hw.errors import TesseraError


class CompileError(TesseraError):
    """A model, graph or operator is malformed."""


class ScheduleError(TesseraError):
    """A schedule primitive was applied where its preconditions do not hold."""


class UnsupportedError(TesseraError):
    """The input is valid but not supported (yet)."""


class InternalError(TesseraError):
    """An invariant of Tessera itself failed: a bug, please report it."""


__all__ = ["TesseraError", "CompileError", "ScheduleError", "UnsupportedError", "InternalError"]
