"""ResNet-18 build and artifact-load times: cold vs warm on-disk kernel cache, and artifacts
with object code vs IR only (what every artifact was before object code was stored).

Each figure is one fresh process (the in-process kernel caches start empty), timed inside
the process (imports excluded). For each ``kernels`` mode:

- ``build_cold_s``: ``compile`` with an empty ``$TESSERA_CACHE``;
- ``build_warm_s``: the same again, the cache now holding every kernel;
- ``load_objects_s``: ``tessera.runtime.load`` of the saved artifact, kernel cache off;
- ``load_ir_only_s``: the same artifact with its object code removed, cache off (every
  kernel compiled from IR: the old behaviour); ``load_ir_warm_s``: that, cache warm.

Prints one JSON document on stdout; progress on stderr.

    python scripts/bench_kernel_cache.py [--modes compiled,auto] [--repeat 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def _child(argv: list[str]) -> None:
    """Run in a fresh process: ``compile MODEL MODE OUT`` or ``load ARTIFACT``."""
    if argv[0] == "compile":
        from tessera.compiler import compile
        from tessera.runtime.cpu.kernel import STATS

        t0 = time.perf_counter()
        m = compile(argv[1], kernels=argv[2])
        seconds = time.perf_counter() - t0
        m.save(argv[3])
        compiled = sum(len(s.get("compiled", {})) for s in m.module.plan["steps"])
        print(json.dumps({"s": seconds, "kernels": compiled, **STATS}))
    else:
        import tessera.runtime as rt
        from tessera.runtime.cpu.kernel import STATS

        t0 = time.perf_counter()
        rt.load(argv[1])
        print(json.dumps({"s": time.perf_counter() - t0, **STATS}))


def _run(args: list[str], cache: Path, use_cache: bool = True) -> dict[str, Any]:
    env = {**os.environ, "TESSERA_CACHE": str(cache)}
    if not use_cache:
        env["TESSERA_NO_KERNEL_CACHE"] = "1"
    proc = subprocess.run([sys.executable, __file__, "--child", *args], env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit(f"child {args} failed:\n{proc.stderr}")
    return dict(json.loads(proc.stdout.strip().splitlines()[-1]))


def strip_objects(path: Path, out: Path) -> Path:
    """``path`` without object code: plan fields and ``.o`` members removed, checksums kept
    right (an artifact as written before object code was stored)."""
    with zipfile.ZipFile(path) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    plan = json.loads(members["plan.json"])
    for step in plan["steps"]:
        for spec in step.get("compiled", {}).values():
            members.pop(f"code/{spec.pop('object')}", None)
            spec.pop("target", None)
    members["plan.json"] = json.dumps(plan, sort_keys=True).encode()
    manifest = json.loads(members["manifest.json"])
    manifest["sha256"] = {n: hashlib.sha256(b).hexdigest() for n, b in members.items()
                          if n != "manifest.json"}
    members["manifest.json"] = json.dumps(manifest, indent=1, sort_keys=True).encode()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        for n, b in members.items():  # weights stored, as save_artifact writes them
            zf.writestr(n, b, compress_type=zipfile.ZIP_STORED if n == "weights.npz" else None)
    return out


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child(sys.argv[2:])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--modes", default="compiled,auto")
    args = ap.parse_args()
    sys.path.insert(0, str(HERE))
    import llvmlite
    import onnx
    from build_resnet18 import build_resnet18

    from tessera.runtime.cpu.target import host_target

    records = []
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        model = work / "resnet18.onnx"
        onnx.save(build_resnet18(seed=0), str(model))
        for mode in args.modes.split(","):
            cache = work / f"cache-{mode}"
            art = work / f"r18-{mode}.tsr"
            print(f"{mode}: cold build", file=sys.stderr)
            cold = _run(["compile", str(model), mode, str(art)], cache)
            print(f"{mode}: warm build", file=sys.stderr)
            warm = _run(["compile", str(model), mode, str(art)], cache)
            ir_only = strip_objects(art, work / f"r18-{mode}-ir.tsr")
            print(f"{mode}: loads", file=sys.stderr)
            objs = _run(["load", str(art)], cache, use_cache=False)
            ir = _run(["load", str(ir_only)], cache, use_cache=False)
            ir_warm = _run(["load", str(ir_only)], cache)
            records.append({
                "model": "resnet18", "kernels": mode, "compiled_kernels": cold["kernels"],
                "build_cold_s": round(cold["s"], 2), "build_warm_s": round(warm["s"], 2),
                "build_cold_llvm_compiles": cold["compiled"],
                "build_warm_llvm_compiles": warm["compiled"],
                "load_objects_s": round(objs["s"], 3), "load_objects_llvm_compiles":
                    objs["compiled"],
                "load_ir_only_s": round(ir["s"], 2), "load_ir_warm_s": round(ir_warm["s"], 3),
                "artifact_bytes": art.stat().st_size,
                "artifact_ir_only_bytes": ir_only.stat().st_size,
            })
    print(json.dumps({
        "records": records, "loadavg": os.getloadavg(),
        "machine": {"platform": platform.platform(), "cpu": host_target().cpu,
                    "cpus": os.cpu_count()},
        "versions": {"python": platform.python_version(), "llvmlite": llvmlite.__version__},
    }, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
