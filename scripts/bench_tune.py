"""Auto-tuning benchmark: tuned kernels against numpy / onnxruntime, and how many trials each
search needs (random, XGBoost from an empty database, XGBoost with other workloads' records).

    python scripts/bench_tune.py [--minutes 30] [--trials-matmul 64] [--trials-conv 256]

Prints one JSON list on stdout (logs on stderr), one object per case with the issue's fields
``case, tuned_ms, reference, reference_ms, ratio, trials_to_95 {random, xgb, xgb_transfer},
trials``; a search that was not run for a case is null there and listed under ``not_run``.
Every case also carries machine, versions, budget_minutes, elapsed_s and ``unfinished``:
the whole run stays inside ``--minutes``, and what did not fit is listed there.
Tuned kernels and references are timed alternately in this process, at ``--threads``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from tessera.compiler.autotune import Database, LocalRunner, MeasureOptions, Task, tune_task
from tessera.compiler.autotune.dispatch import build_best
from tessera.compiler.autotune.extract import extract_tasks
from tessera.compiler.autotune.tuner import TuneResult
from tessera.compiler.ops.bench import machine, versions

log = logging.getLogger("bench_tune")
SCRIPTS = Path(__file__).resolve().parent
MATMUL = Task("matmul", (1024, 1024, 1024, "float32"))
MATMUL_SOURCES = [Task("matmul", (512, 512, 512, "float32")),
                  Task("matmul", (256, 1024, 512, "float32"))]
REP_CONV = (1, 64, 56, 56, 64, 3, 3, 1, 1, "float32")  # the 64x56x56 3x3 anchor


def interleaved_medians(fa: Any, fb: Any, rounds: int = 7, block: int = 3,
                        pause_s: float = 0.05) -> tuple[float, float]:
    """Medians of ``fa`` and ``fb`` timed in alternating blocks, with a pause between blocks
    so that thread pools spinning after one side (OpenBLAS, onnxruntime) do not steal the
    cores from the other; a shared, loaded machine hits both sides alike."""
    ta: list[float] = []
    tb: list[float] = []
    for _ in range(rounds):
        for f, out in ((fa, ta), (fb, tb)):
            f()  # warm-up of this block
            for _ in range(block):
                t0 = time.perf_counter()
                f()
                out.append(time.perf_counter() - t0)
            time.sleep(pause_s)
    return float(np.median(ta)), float(np.median(tb))


class Budget:
    def __init__(self, minutes: float) -> None:
        self.start = time.monotonic()
        self.end = self.start + 60.0 * minutes
        self.unfinished: list[str] = []

    def left(self) -> float:
        return self.end - time.monotonic()

    def share(self, fraction: float) -> float:
        """A deadline ``fraction`` of the time left from now."""
        return time.monotonic() + max(0.0, self.left()) * fraction


def _trials_to_95(results: dict[str, TuneResult | None]) -> dict[str, int | None]:
    best = min((r.best_cost for r in results.values() if r and r.best_cost), default=None)
    return {k: (r.trials_to(0.95, best) if r is not None else None) for k, r in results.items()}


def _search(name: str, task: Task, runner: LocalRunner, db: Database, trials: int,
            strategy: str, deadline: float, budget: Budget, seed: int) -> TuneResult:
    t0 = time.monotonic()
    res = tune_task(task, runner, db, trials, strategy=strategy, seed=seed, deadline=deadline)
    log.info("%s %s: %d trials in %.0f s, best %s ms, errors %s", task, name, res.trials,
             time.monotonic() - t0, f"{res.best_cost * 1e3:.3f}" if res.best_cost else "-",
             res.errors)
    if res.trials < trials:
        budget.unfinished.append(f"{task} {name}: {res.trials} of {trials} trials")
    return res


def _copy_db(src: Database, path: Path) -> Database:
    dump = path.with_suffix(".jsonl")
    src.export_jsonl(dump)
    db = Database(path)
    db.import_jsonl(dump)
    return db


def _best_of(task: Task, dbs: list[Database], hw: dict[str, Any]) -> tuple[Database, float]:
    from tessera.compiler.autotune.hardware import hw_key

    cands = [(db.best(task.key, task.target, hw_key(hw)), db) for db in dbs]
    rec, db = min(((r, d) for r, d in cands if r is not None), key=lambda x: x[0].cost or 0)
    return db, float(rec.cost or 0.0)


def bench_matmul(runner: LocalRunner, work: Path, budget: Budget, trials: int, threads: int,
                 seed: int, deadline: float) -> dict[str, Any]:
    from threadpoolctl import threadpool_limits

    per = (deadline - time.monotonic()) / 5.0
    src = Database(work / "mm_src.db")
    for t in MATMUL_SOURCES:  # other workloads' records for the transfer search
        _search("source", t, runner, src, trials // 2, "random", time.monotonic() + per / 2,
                budget, seed)
    dbs = {"random": Database(work / "mm_random.db"), "xgb": Database(work / "mm_xgb.db"),
           "xgb_transfer": _copy_db(src, work / "mm_transfer.db")}
    results: dict[str, TuneResult | None] = {}
    for name, db in dbs.items():
        results[name] = _search(name, MATMUL, runner, db, trials,
                                "random" if name == "random" else "xgb",
                                time.monotonic() + per, budget, seed)
    db, _ = _best_of(MATMUL, list(dbs.values()), runner.hw)
    kernel = build_best(MATMUL, db, runner.hw, threads=threads)
    a, b, c = MATMUL.impl.arrays(MATMUL.args, np.random.default_rng(0))
    ref = np.empty_like(c)
    ptrs = kernel.check([a, b, c])
    with threadpool_limits(limits=threads, user_api="blas"):
        t_tuned, t_ref = interleaved_medians(lambda: kernel.call_unchecked(*ptrs),
                                             lambda: np.matmul(a, b, out=ref))
    np.testing.assert_allclose(c, ref, rtol=1e-3, atol=1e-3)
    return _case("matmul 1024x1024x1024", t_tuned, "numpy", t_ref, _trials_to_95(results),
                 trials, results)


def _case(name: str, tuned: float, ref_name: str, ref: float, t95: dict[str, int | None],
          trials: int, results: dict[str, TuneResult | None], **extra: Any) -> dict[str, Any]:
    out = {"case": name, "tuned_ms": round(tuned * 1e3, 4), "reference": ref_name,
           "reference_ms": round(ref * 1e3, 4), "ratio": round(ref / tuned, 3),
           "trials_to_95": t95, "trials": trials,
           "trials_run": {k: (r.trials if r else None) for k, r in results.items()},
           "untuned_ms": next((round(r.default_cost * 1e3, 4) for r in results.values()
                               if r is not None and r.default_cost), None),
           "tuning_best_ms": min((round(r.best_cost * 1e3, 4) for r in results.values()
                                  if r is not None and r.best_cost), default=None),
           "not_run": [k for k, r in results.items() if r is None]}
    out.update(extra)
    return out


def ort_session(model: Any, threads: int) -> Any:
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(model.SerializeToString(), so,
                                providers=["CPUExecutionProvider"])


def conv_model(args: tuple[Any, ...], weight: np.ndarray) -> Any:
    from onnx import TensorProto, helper, numpy_helper

    from tessera.compiler.autotune.templates.conv2d import out_size

    n, c, h, w, o, kh, kw, stride, pad, _ = args
    oh, ow = out_size(args)
    node = helper.make_node("Conv", ["x", "w"], ["y"], pads=[pad] * 4, strides=[stride] * 2)
    graph = helper.make_graph(
        [node], "conv", [helper.make_tensor_value_info("x", TensorProto.FLOAT, [n, c, h, w])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [n, o, oh, ow])],
        [numpy_helper.from_array(weight, "w")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])


def time_conv(task: Task, db: Database, hw: dict[str, Any], threads: int) -> tuple[float, float]:
    kernel = build_best(task, db, hw, threads=threads)
    x, w, y = task.impl.arrays(task.args, np.random.default_rng(0))
    sess = ort_session(conv_model(task.args, w), threads)
    ptrs = kernel.check([x, w, y])
    t_tuned, t_ref = interleaved_medians(lambda: kernel.call_unchecked(*ptrs),
                                         lambda: sess.run(None, {"x": x}))
    want = sess.run(None, {"x": x})[0]
    np.testing.assert_allclose(y, want, rtol=1e-3, atol=1e-3)
    return t_tuned, t_ref


def bench_resnet(runner: LocalRunner, work: Path, budget: Budget, trials: int, threads: int,
                 seed: int, deadline: float) -> list[dict[str, Any]]:
    sys.path.insert(0, str(SCRIPTS))
    from build_resnet18 import build_resnet18

    model = build_resnet18()
    weighted = extract_tasks(model)
    convs = [w for w in weighted if w.task.template == "conv2d_nchw"]
    rep = next(w for w in convs if w.task.args == REP_CONV)
    # The continual database: every layer starts from the records of the layers before it.
    shared = Database(work / "resnet.db")
    order = [w for w in convs if w is not rep]
    order.insert(min(2, len(order)), rep)  # the anchor layer after two others: transfer
    cases: list[dict[str, Any]] = []
    tuned_s: dict[Task, float] = {}
    ref_s: dict[Task, float] = {}
    n_left = len(order) + 2
    for w in order:
        t = w.task
        if budget.left() < 20 or time.monotonic() > deadline:
            budget.unfinished.append(f"{t}: not tuned (time budget)")
            n_left -= 1 + 2 * (w is rep)
            continue
        share = (deadline - time.monotonic()) / max(1, n_left)
        results: dict[str, TuneResult | None] = {"random": None, "xgb": None,
                                                 "xgb_transfer": None}
        if w is rep:
            results["random"] = _search("random", t, runner, Database(work / "rep_random.db"),
                                        trials, "random", time.monotonic() + share, budget, seed)
            results["xgb"] = _search("xgb", t, runner, Database(work / "rep_xgb.db"), trials,
                                     "xgb", time.monotonic() + share, budget, seed)
            n_left -= 2
        results["xgb_transfer"] = _search("xgb_transfer", t, runner, shared, trials, "xgb",
                                          time.monotonic() + share, budget, seed)
        n_left -= 1
        t_tuned, t_ref = time_conv(t, shared, runner.hw, threads)
        tuned_s[t] = t_tuned
        ref_s[t] = t_ref
        cases.append(_case(f"resnet18 conv {_conv_name(t.args)}", t_tuned, "onnxruntime", t_ref,
                           _trials_to_95(results), trials, results, weight=w.weight))
    cases.append(_end_to_end(model, weighted, tuned_s, ref_s, shared, runner, threads,
                             budget))
    return cases


def _conv_name(a: tuple[Any, ...]) -> str:
    return f"{a[1]}x{a[2]}x{a[3]} -> {a[4]} k{a[5]} s{a[7]} p{a[8]}"


def _end_to_end(model: Any, weighted: list[Any], tuned_s: dict[Task, float],
                ref_s: dict[Task, float], db: Database, runner: LocalRunner, threads: int,
                budget: Budget) -> dict[str, Any]:
    """ResNet-18 composed: ``compile()`` does not run tuned kernels yet, so the tuned figure
    is the sum over the tasks of count x tuned kernel time (each timed above against its
    onnxruntime layer), and ``ratio`` compares it with the same sum of the onnxruntime layer
    times (the dense layer counted on both sides from Tessera's kernel). onnxruntime running
    the whole model (pooling, residual adds and epilogues included, timed apart) is reported
    as ``whole_model_reference_ms``."""
    from tessera.compiler.ops.bench import median_time

    total = 0.0
    ref_total = 0.0
    missing = []
    for w in weighted:
        if w.task in tuned_s:
            total += w.weight * tuned_s[w.task]
            ref_total += w.weight * ref_s[w.task]
        elif w.task.template == "matmul":
            k = build_best(w.task, db, runner.hw, threads=threads)
            arrs = w.task.impl.arrays(w.task.args, np.random.default_rng(0))
            ptrs = k.check(arrs)
            t = w.weight * median_time(lambda k=k, p=ptrs: k.call_unchecked(*p), 20)
            total += t
            ref_total += t
        else:
            missing.append(str(w.task))
    sess = ort_session(model, threads)
    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    t_ref = median_time(lambda: sess.run(None, {"data": x}), 10, warmup=2)
    # the composed figure adds kernel times measured apart from onnxruntime
    case = {"case": "resnet18 end to end (composed)", "tuned_ms": round(total * 1e3, 3),
            "reference": "onnxruntime (same layers, summed)",
            "reference_ms": round(ref_total * 1e3, 3),
            "ratio": round(ref_total / total, 3) if total else None,
            "whole_model_reference_ms": round(t_ref * 1e3, 3),
            "trials_to_95": {"random": None, "xgb": None, "xgb_transfer": None},
            "trials": None, "composed": True,
            "method": "sum over the 12 tasks of count x kernel time, tuned Tessera vs "
                      "onnxruntime layer by layer; pooling, adds and epilogues left out"}
    if missing:
        case["ratio"] = None
        case["missing_tasks"] = missing
        budget.unfinished.append(f"resnet18 end to end: {len(missing)} tasks not tuned")
    return case


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--trials-matmul", type=int, default=64)
    p.add_argument("--trials-conv", type=int, default=256)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", choices=("matmul", "resnet"), help="run one part")
    p.add_argument("--workdir", help="keep the tuning databases here")
    a = p.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s: %(message)s")
    budget = Budget(a.minutes)
    runner = LocalRunner(MeasureOptions(timeout_s=60.0, threads=a.threads, repeat=5))
    tmp = tempfile.TemporaryDirectory(prefix="bench_tune_")
    work = Path(a.workdir or tmp.name)
    work.mkdir(parents=True, exist_ok=True)
    cases: list[dict[str, Any]] = []
    try:
        if a.only in (None, "matmul"):
            frac = 1.0 if a.only else 0.3
            cases.append(bench_matmul(runner, work, budget, a.trials_matmul, a.threads, a.seed,
                                      budget.share(frac)))
        if a.only in (None, "resnet"):
            cases += bench_resnet(runner, work, budget, a.trials_conv, a.threads, a.seed,
                                  budget.share(0.93))
    finally:
        runner.close()
    meta = {"budget_minutes": a.minutes,
            "elapsed_s": round(time.monotonic() - budget.start, 1),
            "threads": a.threads, "unfinished": budget.unfinished, "machine": machine(),
            "versions": {**versions(), "xgboost": __import__("xgboost").__version__}}
    for c in cases:
        c.update(meta)
    print(json.dumps(cases, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
