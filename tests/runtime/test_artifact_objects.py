"""Object code in artifacts: a compiled step carries its LLVM IR and its host object code; a
load on the building host links the objects and compiles nothing, a host of another CPU (or
an artifact without objects, from before they were stored) compiles the IR instead."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
from test_artifact import small_model

from tessera.compiler import compile
from tessera.runtime.cpu import host_target

X = np.random.default_rng(3).standard_normal((2, 2, 5, 5)).astype(np.float32)


@pytest.fixture()
def saved(tmp_path):
    m = compile(small_model(), kernels="compiled")
    return m, m.save(tmp_path / "small.tsr")


def _compiled_specs(plan: dict) -> list[dict]:
    return [s for step in plan["steps"] for s in step.get("compiled", {}).values()]


def _edit_plan(path: Path, out: Path, edit, members_edit=None) -> Path:
    """Rewrite plan.json with ``edit`` (and drop the members it names; ``members_edit`` may
    change the others), keeping the checksums right, as an older or a foreign build, or
    another tool, would have written the file."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    plan = json.loads(members["plan.json"])
    for name in edit(plan) or ():
        members.pop(name)
    if members_edit is not None:
        members_edit(plan, members)
    members["plan.json"] = json.dumps(plan, sort_keys=True).encode()
    manifest = json.loads(members["manifest.json"])
    manifest["sha256"] = {n: hashlib.sha256(b).hexdigest() for n, b in members.items()
                          if n != "manifest.json"}
    members["manifest.json"] = json.dumps(manifest).encode()
    with zipfile.ZipFile(out, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    return out


def _load_in_fresh_process(path: Path, tmp_path: Path) -> tuple[dict, str]:
    """Load and run ``path`` in a new process with the kernel cache off (so nothing can hide a
    compilation); the kernel STATS, and what it logged."""
    code = (
        "import json, numpy as np, sys, tessera.runtime as rt\n"
        "from tessera.runtime.cpu.kernel import STATS\n"
        f"m = rt.load({str(path)!r})\n"
        f"out = m.run({{'x': np.load({str(tmp_path / 'x.npy')!r})}})\n"
        f"np.save({str(tmp_path / 'y.npy')!r}, out[1])\n"
        "print(json.dumps({**STATS, 'strategies': m.strategies}))\n"
    )
    np.save(tmp_path / "x.npy", X)
    env = {**os.environ, "TESSERA_NO_KERNEL_CACHE": "1"}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), proc.stderr


def test_every_compiled_step_stores_ir_and_host_object_code(saved) -> None:
    m, path = saved
    specs = _compiled_specs(m.module.plan)
    assert len(specs) >= 3  # conv, gemm, sigmoid
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    for spec in specs:
        assert {f"code/{spec['code']}", f"code/{spec['object']}"} <= names
        assert spec["object"].endswith(".o") and spec["target"] == host_target().key


def test_load_on_the_building_host_links_objects_and_compiles_nothing(saved, tmp_path) -> None:
    m, path = saved
    stats, _ = _load_in_fresh_process(path, tmp_path)
    n = len(_compiled_specs(m.module.plan))
    assert stats["compiled"] == 0 and stats["cached"] == 0 and stats["linked"] == n
    assert "numpy" not in {s for s, step in zip(stats["strategies"], m.module.plan["steps"])
                           if step.get("compiled")}
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), m.run({"x": X})[1])


def test_another_cpu_compiles_the_ir_and_says_so(saved, tmp_path) -> None:
    m, path = saved

    def foreign(plan: dict) -> None:
        for spec in _compiled_specs(plan):
            spec["target"] = "x86_64-unknown-linux-gnu|othercpu|+sse2"

    stats, log = _load_in_fresh_process(_edit_plan(path, tmp_path / "f.tsr", foreign), tmp_path)
    n = len(_compiled_specs(m.module.plan))
    assert stats["compiled"] == n and stats["linked"] == n
    assert f"object code was built for othercpu, this host is {host_target().cpu}" in log
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), m.run({"x": X})[1])


def test_an_artifact_without_object_code_still_loads(saved, tmp_path) -> None:
    m, path = saved

    def strip(plan: dict) -> list[str]:
        dropped = []
        for spec in _compiled_specs(plan):
            dropped.append(f"code/{spec.pop('object')}")
            spec.pop("target")
        return dropped

    stats, _ = _load_in_fresh_process(_edit_plan(path, tmp_path / "old.tsr", strip), tmp_path)
    assert stats["compiled"] == len(_compiled_specs(m.module.plan))
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), m.run({"x": X})[1])


def test_object_code_that_is_not_an_object_falls_back_to_the_ir(saved, tmp_path) -> None:
    """Checksums guard against damage; a member that was never an object file (another
    tool's output under the right name and sum) is refused before LLVM sees it."""
    m, path = saved

    def junk(plan: dict, members: dict[str, bytes]) -> None:
        for spec in _compiled_specs(plan):
            members[f"code/{spec['object']}"] = b"\x7fELF" + bytes(100)

    bad = _edit_plan(path, tmp_path / "junk.tsr", lambda plan: None, junk)
    stats, log = _load_in_fresh_process(bad, tmp_path)
    assert stats["compiled"] == len(_compiled_specs(m.module.plan))
    assert "object code must be a relocatable ELF object" in log
    np.testing.assert_array_equal(np.load(tmp_path / "y.npy"), m.run({"x": X})[1])
