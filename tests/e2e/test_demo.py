"""`tessera demo`: the digits CNN on the accelerator, the README's first command."""

from __future__ import annotations

import json

import pytest

from tessera.compiler.cli import main


def _demo(tmp_path, capsys, *args: str) -> tuple[dict, str]:
    out = tmp_path / "demo.json"
    trace = tmp_path / "trace.json"
    rc = main(["demo", *args, "--json", str(out), "--chrome-trace", str(trace)])
    text = capsys.readouterr().out
    result = json.loads(out.read_text())
    events = json.loads(trace.read_text())["traceEvents"]
    assert {e["tid"] for e in events if e.get("cat") in ("busy", "stall")} == {1, 2, 3, 4}
    return {**result, "rc": rc}, text


def test_demo_on_fsim_whole_test_split(tmp_path, capsys):
    r, text = _demo(tmp_path, capsys, "--device", "fsim")
    assert r["rc"] == 0
    assert r["images"] == 450
    assert r["float_accuracy"] == pytest.approx(443 / 450)
    assert r["int8_accuracy"] >= r["float_accuracy"] - 0.01
    assert r["int8_accuracy"] == pytest.approx(443 / 450)
    assert r["bit_exact"]["device"] is None  # no RTL device asked for: skipped, and said so
    assert r["total_cycles"] > 0
    assert r["cycles_per_image"] == pytest.approx(r["total_cycles"] / 450)
    assert r["images_per_s_at_clock"] == pytest.approx(200e6 / r["cycles_per_image"])
    layers = [lp["layer"] for lp in r["profile"]["layers"] if lp["where"] == "vta"]
    assert layers == ["conv1", "conv2", "fc"]
    assert [q["layer"] for q in r["quantization"]] == ["conv1", "conv2", "fc"]
    assert all(q["sqnr_isolated_db"] > 25 for q in r["quantization"])
    assert "float accuracy (CPU)" in text and "98.44%" in text
    assert "skipped (no RTL device)" in text


@pytest.mark.verilator
def test_demo_on_rtl_fast_is_bit_exact_with_fsim(tmp_path, capsys):
    r, text = _demo(tmp_path, capsys, "--device", "rtl-fast", "--check", "8")
    assert r["rc"] == 0
    assert r["device"] == "rtl-fast"
    assert r["bit_exact"] == {"against": "fsim", "device": "rtl-fast", "images": 8,
                              "mismatches": [], "ok": True}
    assert r["float_accuracy"] == pytest.approx(443 / 450)
    assert abs(r["int8_accuracy"] - r["float_accuracy"]) <= 0.01
    assert "yes: 8 images, every step, fsim vs rtl-fast" in text
