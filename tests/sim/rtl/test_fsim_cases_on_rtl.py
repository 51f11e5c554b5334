"""Every unit case of the functional simulator (tests/sim/fsim), run on the RTL as well.

The fsim test functions are collected here a second time with ``FSim`` replaced by
``DifferentialFSim``: each of their runs also executes on rtl-fast from the same DRAM and
on-chip state and must end the same way, bit for bit (see ``rtl_helpers``). Cycle counts of
both go to the report at the end of the session.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest
from rtl_helpers import requires_top

FSIM_TESTS = Path(__file__).resolve().parents[1] / "fsim"
sys.path.insert(0, str(FSIM_TESTS))

pytestmark = [pytest.mark.verilator, requires_top]


def _modules() -> list[ModuleType]:
    import importlib

    names = sorted(p.stem for p in FSIM_TESTS.glob("test_fsim_*.py"))
    return [importlib.import_module(name) for name in names]


MODULES = _modules() if FSIM_TESTS.exists() else []


for _module in MODULES:
    for _name, _func in vars(_module).items():
        if _name.startswith("test_") and callable(_func):
            globals()[f"{_name}__{_module.__name__.removeprefix('test_fsim_')}"] = _func


@pytest.fixture(autouse=True)
def _on_rtl(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from rtl_helpers import DifferentialFSim

    for module in MODULES:
        if hasattr(module, "FSim"):
            monkeypatch.setattr(module, "FSim", DifferentialFSim)
    yield
