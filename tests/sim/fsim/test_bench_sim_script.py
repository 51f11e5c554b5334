"""scripts/bench_sim.py prints one JSON list with the fields the issue names (no timing
asserts: only the shape of the report and the correctness check it runs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[3] / "scripts" / "bench_sim.py"


def test_bench_sim_quick_prints_one_json_list() -> None:
    proc = subprocess.run([sys.executable, str(SCRIPT), "--quick", "--repeats", "1"],
                          capture_output=True, text=True, timeout=300, check=True)
    results = json.loads(proc.stdout)
    assert isinstance(results, list) and len(results) == 2
    for r in results:
        assert {"program", "config", "macs", "wall_s", "macs_per_s"} <= set(r)
        assert r["macs_per_s"] == r["macs"] / r["wall_s"]
        assert r["cycles"] >= r["ideal_cycles"] > 0
        assert {"platform", "cpu_flags"} <= set(r["machine"])
        assert "numpy" in r["versions"]
    assert [r["config"] for r in results] == ["default", "small"]
