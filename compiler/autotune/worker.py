"""What runs inside a measuring process: build one candidate, check it, time it.

``measure_payload`` is the single entry point (a plain function of plain data, so it runs
in a spawned process of the local pool and on a Dask worker alike). The inputs and the
expected output of a workload are made once per process and kept: the expected output is the
template's numpy reference or, without one, the output of the untuned (default) schedule.
"""

from __future__ import annotations

import logging
import time
import traceback
from typing import Any

import numpy as np

log = logging.getLogger(__name__)
_DATA: dict[str, tuple[list[np.ndarray], np.ndarray]] = {}


def _data(template: Any, task_key: str, args: tuple[Any, ...]) -> tuple[list[np.ndarray],
                                                                        np.ndarray]:
    if task_key not in _DATA:
        from tessera.compiler.codegen import build

        arrays = template.arrays(args, np.random.default_rng(0))
        ref = template.reference(args, arrays)
        if ref is None:
            space = template.space(args)
            sch, tensors = template.instantiate(args, space.from_dict(template.default(args)))
            build(sch, tensors)(*arrays)
            ref = arrays[-1].copy()
        _DATA[task_key] = (arrays, np.asarray(ref))
    return _DATA[task_key]


def _close(out: np.ndarray, ref: np.ndarray) -> bool:
    scale = max(1.0, float(np.abs(ref).max())) if ref.size else 1.0
    return bool(np.all(np.isfinite(out))) and float(np.abs(out - ref).max()) <= 1e-3 * scale


def measure_payload(p: dict[str, Any]) -> dict[str, Any]:
    """Build, check and time one candidate. ``p``: template, args, config, number, repeat,
    threads, min_repeat_s. Returns costs (seconds), error_kind/error_msg, features. Timing
    starts once ``ParallelProbe`` finds the process's threads have their cores, and is taken
    again once when they had lost them by the end (``ops.parallel_probe`` says why)."""
    from tessera.compiler.autotune.features import feature_ir, loop_features
    from tessera.compiler.autotune.templates import get_template
    from tessera.compiler.codegen import build
    from tessera.compiler.ops.parallel_probe import probe_for
    from tessera.runtime.cpu.affinity import bound

    t0 = time.perf_counter()
    out: dict[str, Any] = {"costs": [], "error_kind": None, "error_msg": "", "features": None}
    args = tuple(p["args"])
    try:
        template = get_template(p["template"])
        space = template.space(args)
        cfg = space.from_dict(p["config"])
        if template.custom_measure:
            return _custom(template, args, cfg, p, out)
        sch, tensors = template.instantiate(args, cfg)
        out["features"] = loop_features(feature_ir(sch, tensors))
        kernel = build(sch, tensors)
    except Exception as err:  # noqa: BLE001 - any build failure is a recorded result
        out.update(error_kind="build", error_msg=f"{type(err).__name__}: {err}")
        log.debug("build failed: %s", traceback.format_exc())
        return out
    out["build_s"] = time.perf_counter() - t0
    try:
        arrays, ref = _data(template, p["key"], args)
        work = [a.copy() for a in arrays]
        work[-1][...] = 0
        kernel.num_threads = int(p.get("threads", 1))
        template.before_run(cfg)
        kernel(*work)
        if not _close(work[-1], ref):
            diff = float(np.abs(work[-1] - ref).max())
            out.update(error_kind="wrong", error_msg=f"output differs from the untuned "
                       f"operator's: max abs error {diff:.3g}")
            return out
        ptrs = kernel.check(work)
        probe = probe_for(kernel.num_threads)
        for _ in range(2):  # again once when the cores were taken while timing
            probe.wait()
            with bound(kernel.num_threads):
                out["costs"] = _time(kernel, ptrs, p)
            if probe.healthy():
                break
    except Exception as err:  # noqa: BLE001 - a failing run is a recorded result
        out.update(error_kind="runtime", error_msg=f"{type(err).__name__}: {err}")
    return out


def _time(kernel: Any, ptrs: Any, p: dict[str, Any]) -> list[float]:
    for _ in range(2):
        kernel.call_unchecked(*ptrs)
    t = time.perf_counter()
    kernel.call_unchecked(*ptrs)
    once = time.perf_counter() - t
    # at least ``number`` calls per sample, and enough that a sample lasts ~1 ms
    number = max(1, int(p.get("number", 1)), min(100, int(1e-3 / max(once, 1e-7))))
    costs: list[float] = []
    start = time.perf_counter()
    while (len(costs) < int(p.get("repeat", 3))
           or time.perf_counter() - start < float(p.get("min_repeat_s", 0.0))):
        t = time.perf_counter()
        for _ in range(number):
            kernel.call_unchecked(*ptrs)
        costs.append((time.perf_counter() - t) / number)
        if len(costs) >= 50:
            break
    return costs


def _custom(template: Any, args: tuple[Any, ...], cfg: Any, p: dict[str, Any],
            out: dict[str, Any]) -> dict[str, Any]:
    template.before_run(cfg)
    try:
        return dict(template.measure(args, cfg, p))
    except Exception as err:  # noqa: BLE001 - a failing run is a recorded result
        out.update(error_kind="runtime", error_msg=f"{type(err).__name__}: {err}")
        return out
