"""Operator pattern kinds, ordered as in TVM's FuseOps (a smaller kind fuses more freely)."""

from __future__ import annotations

import enum


class Pattern(enum.IntEnum):
    ELEMWISE = 0  # out[i] = f(in[i]) for inputs of the output's shape
    BROADCAST = 1  # elementwise with broadcasting
    INJECTIVE = 2  # each output element comes from one input element (reshape, transpose...)
    REDUCTION = 3  # commutative reduction over some axes
    OUT_FUSABLE = 4  # complex op whose output can take elementwise ops (conv, dense)
    TUPLE = 7
    OPAQUE = 8  # anything else: never fused
