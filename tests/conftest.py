"""Shared pytest configuration for Tessera's tests."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

# Deterministic and bounded property tests by default; `HYPOTHESIS_PROFILE=slow` for more.
settings.register_profile(
    "default", max_examples=30, deadline=None, derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "slow", max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))
