"""Auto-tuning benchmark: tuned kernels against numpy / onnxruntime, and how many trials each
search needs (random, XGBoost from an empty database, XGBoost with other workloads' records).

    python scripts/bench_tune.py [--minutes 30] [--trials-matmul 64] [--trials-conv 256]
                                 [--seeds 5]

Prints one JSON list on stdout (logs on stderr), one object per case with the issue's fields
``case, tuned_ms, reference, reference_ms, ratio, trials_to_95 {random, xgb, xgb_transfer},
trials``; a search that was not run for a case is null there and listed under ``not_run``.
Every case also carries machine, versions, budget_minutes, elapsed_s, ``unfinished`` (the
whole run stays inside ``--minutes``; what did not fit is listed there) and ``exhausted``
(searches that stopped below the trial count because every point of the task's space was
measured, with the space's size).
The matmul case runs each search once per seed, cold (the library's schedule is not trial 1),
and reports medians over the seeds (``trials_to_95_seeds`` per seed, ``trials_to_90``,
``best_at_trial_1/8``); the conv cases tune as ``tessera tune`` does (default first).
Tuned kernels and references are timed alternately in this process, at ``--threads``, each
block once ``parallel_probe`` sees the threads get their cores (``parallel_probe`` stats in
every case).
Each ResNet-18 conv case is the fused group's task (conv plus its epilogue, as
``extract_tasks`` names it) against onnxruntime running the same nodes; the ``resnet18 end
to end`` case compiles the whole model with the tuning database (``compile(...,
tuning_db=...)``) and times ``run`` against onnxruntime on the whole model.
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
from tessera.compiler.ops.bench import interleaved_medians, interleaved_medians_n, machine, versions
from tessera.runtime.cpu.affinity import bound

SCRIPTS = Path(__file__).resolve().parent
sys.path.insert(0, str(SCRIPTS))  # the sibling modules and build_resnet18
from bench_tune_refs import conv_model, epilogue_steps, nchw_arrays, ort_session  # noqa: E402
from bench_tune_stats import median_of, quality_at, trials_to_95, trials_to_seeds  # noqa: E402

log = logging.getLogger("bench_tune")
MATMUL = Task("matmul", (1024, 1024, 1024, "float32"))
MATMUL_SOURCES = [Task("matmul", (512, 512, 512, "float32")),
                  Task("matmul", (256, 1024, 512, "float32")),
                  Task("matmul", (1024, 512, 256, "float32"))]
REP_CONV = (1, 64, 56, 56, 64, 3, 3, 1, 1, "float32")  # the 64x56x56 3x3 anchor


class Budget:
    def __init__(self, minutes: float) -> None:
        self.start = time.monotonic()
        self.end = self.start + 60.0 * minutes
        self.unfinished: list[str] = []
        self.exhausted: dict[str, int] = {}  # search -> its space's size, all measured

    def left(self) -> float:
        return self.end - time.monotonic()

    def short(self, task: Task, search: str, ran: int, trials: int) -> None:
        """Record a search that ran fewer than ``trials``: out of time (unfinished), or
        because the task's space has no more points (every point measured: exhausted)."""
        size = len(task.space)
        if ran >= size:
            self.exhausted[f"{task} {search}"] = size
        else:
            self.unfinished.append(f"{task} {search}: {ran} of {trials} trials")

    def share(self, fraction: float) -> float:
        """A deadline ``fraction`` of the time left from now."""
        return time.monotonic() + max(0.0, self.left()) * fraction


def _search(name: str, task: Task, runner: LocalRunner, db: Database, trials: int,
            strategy: str, deadline: float, budget: Budget, seed: int,
            default_first: bool = True) -> TuneResult:
    t0 = time.monotonic()
    res = tune_task(task, runner, db, trials, strategy=strategy, seed=seed, deadline=deadline,
                    default_first=default_first)
    log.info("%s %s: %d trials in %.0f s, best %s ms, errors %s", task, name, res.trials,
             time.monotonic() - t0, f"{res.best_cost * 1e3:.3f}" if res.best_cost else "-",
             res.errors)
    if res.trials < trials:
        budget.short(task, name, res.trials, trials)
    return res


def round_robin(tasks: list[Task], runner: LocalRunner, db: Database, trials: int,
                deadline: float, budget: Budget, seed: int,
                batch: int = 8) -> dict[Task, TuneResult]:
    """Tune ``tasks`` in turns of ``batch`` trials until each has ``trials`` or time is up;
    one cost model, retrained on the whole database, guides them all."""
    from tessera.compiler.autotune.cost_model import CostModel

    model = CostModel(seed=seed)
    results: dict[Task, TuneResult] = {}
    goal = dict.fromkeys(tasks, 0)
    active = list(tasks)
    while active and time.monotonic() < deadline:
        for t in list(active):
            if time.monotonic() >= deadline:
                break
            goal[t] = min(trials, goal[t] + batch)
            res = tune_task(t, runner, db, goal[t], strategy="xgb", seed=seed,
                            batch_size=batch, deadline=deadline, model=model)
            results[t] = res
            if res.trials >= trials or res.trials < goal[t]:
                active.remove(t)  # done, or its space (or the time) ran out
    for t, res in results.items():
        log.info("%s xgb_transfer: %d trials, best %s ms, errors %s", t, res.trials,
                 f"{res.best_cost * 1e3:.3f}" if res.best_cost else "-", res.errors)
        if res.trials < trials:
            budget.short(t, "xgb_transfer", res.trials, trials)
    return results


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
                 seeds: list[int], deadline: float) -> dict[str, Any]:
    """Matmul 1024^3: each search (random, xgb from an empty database, xgb from a database
    holding other matmul workloads' records) once per seed, each in its own database, all
    *cold*: the library's schedule is not measured first (it is within a few percent of the
    best on AVX-512 hosts, so a default-first search reaches 95% at trial 1 whatever the
    strategy, and the count would say nothing about the search). ``trials_to_95`` is the
    median over the seeds (each against the best any search found), ``trials_to_95_seeds``
    the per-seed counts; ``untuned_ms`` is the library schedule timed in the same rounds as
    the tuned kernel and numpy. The source database is what an earlier tuning session would
    have left: xgb-tuned neighbouring workloads."""
    from threadpoolctl import threadpool_limits

    per = (deadline - time.monotonic()) / (1 + 3 * len(seeds))
    src = Database(work / "mm_src.db")
    for t in MATMUL_SOURCES:  # other workloads' records for the transfer search
        _search("source", t, runner, src, trials // 2, "xgb",
                time.monotonic() + per / len(MATMUL_SOURCES), budget, seeds[0])
    runs: dict[str, list[TuneResult | None]] = {"random": [], "xgb": [], "xgb_transfer": []}
    dbs: list[Database] = []
    for seed in seeds:
        for name in runs:
            path = work / f"mm_{name}_{seed}.db"
            db = _copy_db(src, path) if name == "xgb_transfer" else Database(path)
            dbs.append(db)
            runs[name].append(_search(f"{name} seed {seed}", MATMUL, runner, db, trials,
                                      "random" if name == "random" else "xgb",
                                      time.monotonic() + per, budget, seed,
                                      default_first=False))
    db, _ = _best_of(MATMUL, dbs, runner.hw)
    kernel = build_best(MATMUL, db, runner.hw, threads=threads)
    untuned = build_best(MATMUL, Database(work / "mm_empty.db"), runner.hw, threads=threads)
    a, b, c = MATMUL.impl.arrays(MATMUL.args, np.random.default_rng(0))
    ref, c0 = np.empty_like(c), np.empty_like(c)
    ptrs, ptrs0 = kernel.check([a, b, c]), untuned.check([a, b, c0])
    with threadpool_limits(limits=threads, user_api="blas"):
        t_tuned, t_ref, t_untuned = interleaved_medians_n(
            [lambda: kernel.call_unchecked(*ptrs), lambda: np.matmul(a, b, out=ref),
             lambda: untuned.call_unchecked(*ptrs0)], threads=threads,
            around=[lambda: bound(threads), None, lambda: bound(threads)])
    np.testing.assert_allclose(c, ref, rtol=1e-3, atol=1e-3)
    np.testing.assert_allclose(c0, ref, rtol=1e-3, atol=1e-3)
    per_seed = trials_to_seeds(runs, 0.95)
    first = {k: v[0] for k, v in runs.items()}
    return _case("matmul 1024x1024x1024", t_tuned, "numpy", t_ref, median_of(per_seed),
                 trials, first, trials_to_95_seeds=per_seed, seeds=seeds, start="cold",
                 trials_to_90=median_of(trials_to_seeds(runs, 0.90)),
                 best_at_trial_1=quality_at(runs, 1), best_at_trial_8=quality_at(runs, 8),
                 untuned_ms=round(t_untuned * 1e3, 4),
                 speedup_over_untuned=round(t_untuned / t_tuned, 3),
                 sources=[str(t) for t in MATMUL_SOURCES])


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


CONV_TEMPLATES = ("conv2d_nchw", "conv2d_nchwc")


def time_conv(task: Task, db: Database, hw: dict[str, Any], threads: int) -> tuple[float, float]:
    """The task's best kernel against onnxruntime running the same conv and epilogue on the
    same values (NCHW; a blocked task's arrays converted), timed alternately."""
    kernel = build_best(task, db, hw, threads=threads)
    arrays = task.impl.arrays(task.args, np.random.default_rng(0))
    plain = nchw_arrays(task, arrays)
    model, names = conv_model(task.args, plain)
    sess = ort_session(model, threads)
    feeds = {"x": plain[0]}
    feeds.update({nm: plain[int(nm[1:])] for nm in names[1:]})
    ptrs = kernel.check(arrays)
    t_tuned, t_ref = interleaved_medians(lambda: kernel.call_unchecked(*ptrs),
                                         lambda: sess.run(None, feeds), rounds=11, block=5,
                                         threads=threads, around=[lambda: bound(threads)])
    want = sess.run(None, feeds)[0]
    np.testing.assert_allclose(nchw_arrays(task, arrays)[-1], want, rtol=1e-3, atol=1e-3)
    return t_tuned, t_ref


def bench_resnet(runner: LocalRunner, work: Path, budget: Budget, trials: int, threads: int,
                 seed: int, deadline: float) -> list[dict[str, Any]]:
    from build_resnet18 import build_resnet18

    model = build_resnet18()
    weighted = extract_tasks(model)  # what compile builds by default (NCHWc and the stem)
    convs = [w for w in weighted if w.task.template in CONV_TEMPLATES]
    others = [w for w in weighted if w.task.template not in CONV_TEMPLATES]
    rep = next(w for w in convs if tuple(w.task.args[:10]) == REP_CONV)
    # The continual database: every layer starts from the records of the layers before it.
    shared = Database(work / "resnet.db")
    cases: list[dict[str, Any]] = []
    e2e_reserve = 120.0  # seconds kept for timing the layers and compiling the whole model
    for w in others:  # the dense layer: cheap, tuned first so the end to end build has it
        _search("xgb_transfer", w.task, runner, shared, min(trials, 32), "xgb",
                time.monotonic() + 0.03 * (deadline - time.monotonic()), budget, seed)
    # The anchor's searches from an empty database (random, xgb), one layer's share each.
    share = (deadline - time.monotonic() - e2e_reserve) / (len(convs) + 2)
    rep_results: dict[str, TuneResult | None] = {
        "random": _search("random", rep.task, runner, Database(work / "rep_random.db"), trials,
                          "random", time.monotonic() + share, budget, seed),
        "xgb": _search("xgb", rep.task, runner, Database(work / "rep_xgb.db"), trials, "xgb",
                       time.monotonic() + share, budget, seed)}
    # Every conv task in the shared database, round robin in batches: each layer gets an
    # equal part of the time whatever the order, and the one cost model learns from all.
    transfer = round_robin([w.task for w in convs], runner, shared, trials,
                           deadline - e2e_reserve, budget, seed)
    for w in convs:
        t = w.task
        results: dict[str, TuneResult | None] = {"random": None, "xgb": None,
                                                 "xgb_transfer": transfer.get(t)}
        if w is rep:
            results.update(rep_results)
        if results["xgb_transfer"] is None:
            budget.unfinished.append(f"{t}: not tuned (time budget)")
            continue
        t_tuned, t_ref = time_conv(t, shared, runner.hw, threads)
        cases.append(_case(f"resnet18 conv {_conv_name(t)}", t_tuned, "onnxruntime", t_ref,
                           trials_to_95(results), trials, results, weight=w.weight,
                           workload=t.key))
    try:
        cases.append(end_to_end(model, work / "resnet.db", threads, budget, weighted))
    except Exception as err:  # noqa: BLE001 - the JSON must still say what ran
        log.exception("resnet18 end to end failed")
        budget.unfinished.append(f"resnet18 end to end: {type(err).__name__}: {err}")
    return cases


def _conv_name(task: Task) -> str:
    a = task.args
    epi = "+".join(str(s[0]) for s in epilogue_steps(a))
    lay = " NCHWc" if task.template == "conv2d_nchwc" else ""
    return (f"{a[1]}x{a[2]}x{a[3]} -> {a[4]} k{a[5]} s{a[7]} p{a[8]}{lay}"
            + (f" +{epi}" if epi else ""))


def _from_db(model: Any) -> int:
    return sum(spec["tuning"]["source"] == "tuning database"
               for st in model.module.plan["steps"]
               for spec in st.get("compiled", {}).values() if "tuning" in spec)


def end_to_end(model: Any, db_path: Path, threads: int, budget: Budget,
               weighted: list[Any]) -> dict[str, Any]:
    """ResNet-18 end to end: ``compile(model, tuning_db=db)`` (default layout: the tasks
    ``extract_tasks`` named, which the run tuned) against onnxruntime running the whole
    model, same input, same threads, timed alternately in this process; the untuned
    ``compile(model)`` is timed in the same rounds."""
    from threadpoolctl import threadpool_limits

    from tessera.compiler import compile

    x = np.random.default_rng(0).standard_normal((1, 3, 224, 224)).astype(np.float32)
    t0 = time.monotonic()
    tuned = compile(model, tuning_db=db_path)
    compile_s = time.monotonic() - t0
    untuned = compile(model)
    for m in (tuned, untuned):
        m.module.num_threads = threads
    sess = ort_session(model, threads)
    want = sess.run(None, {"data": x})[0]
    np.testing.assert_allclose(tuned.run({"data": x})[0], want, rtol=1e-3, atol=1e-3)
    n_tasks = sum(w.weight for w in weighted)
    if _from_db(tuned) < n_tasks:
        budget.unfinished.append(f"resnet18 end to end: {_from_db(tuned)} of {n_tasks} "
                                 f"tunable groups built from the tuning database")
    with threadpool_limits(limits=threads):
        t_tuned, t_ref, t_untuned = interleaved_medians_n(
            [lambda: tuned.run({"data": x}), lambda: sess.run(None, {"data": x}),
             lambda: untuned.run({"data": x})], rounds=7, block=3, threads=threads)
    return {"case": "resnet18 end to end", "tuned_ms": round(t_tuned * 1e3, 3),
            "reference": "onnxruntime", "reference_ms": round(t_ref * 1e3, 3),
            "ratio": round(t_ref / t_tuned, 3),
            "trials_to_95": {"random": None, "xgb": None, "xgb_transfer": None},
            "trials": None, "groups_from_tuning_db": _from_db(tuned),
            "tunable_groups": n_tasks, "untuned_ms": round(t_untuned * 1e3, 3),
            "untuned_ratio": round(t_ref / t_untuned, 3), "compile_s": round(compile_s, 1),
            "method": "compile(resnet18, tuning_db=DB).run vs onnxruntime InferenceSession.run, "
                      "whole model, interleaved medians (7 rounds of 3); untuned: "
                      "compile(resnet18)"}


def bench_retime(work: Path, threads: int, budget: Budget, layers: bool,
                 hw: dict[str, Any]) -> list[dict[str, Any]]:
    """The end to end case (and with ``layers`` every conv layer) timed again from the
    tuning database a previous run left in ``--workdir`` (``resnet.db``): no tuning, so
    the trial fields are null; a way to see how much of a ratio is the machine's noise."""
    from build_resnet18 import build_resnet18

    model = build_resnet18()
    weighted = extract_tasks(model)
    cases: list[dict[str, Any]] = []
    if layers:
        db = Database(work / "resnet.db")
        for w in weighted:
            if w.task.template not in CONV_TEMPLATES or db.best(w.task.key, "llvm") is None:
                continue
            t_tuned, t_ref = time_conv(w.task, db, hw, threads)
            cases.append(_case(f"resnet18 conv {_conv_name(w.task)}", t_tuned,
                               "onnxruntime", t_ref, {"random": None, "xgb": None,
                                                      "xgb_transfer": None}, 0, {},
                               weight=w.weight, workload=w.task.key, retimed=True))
    return [*cases, end_to_end(model, work / "resnet.db", threads, budget, weighted)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=30.0)
    p.add_argument("--trials-matmul", type=int, default=64)
    p.add_argument("--trials-conv", type=int, default=256)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--seeds", type=int, default=5,
                   help="matmul: run each search with this many seeds (seed, seed+1, ...)")
    p.add_argument("--only", choices=("matmul", "resnet", "e2e", "retime"),
                   help="run one part (e2e: the end to end case alone; retime: every conv "
                        "layer and the end to end case; both from the resnet.db a previous "
                        "run left in --workdir, without tuning)")
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
            frac = 1.0 if a.only else 0.25
            seeds = list(range(a.seed, a.seed + max(1, a.seeds)))
            cases.append(bench_matmul(runner, work, budget, a.trials_matmul, a.threads, seeds,
                                      budget.share(frac)))
        if a.only in ("e2e", "retime"):
            if not (work / "resnet.db").is_file():
                p.error(f"--only {a.only} needs {work / 'resnet.db'} from a previous run")
            cases += bench_retime(work, a.threads, budget, a.only == "retime", runner.hw)
        if a.only in (None, "resnet"):
            cases += bench_resnet(runner, work, budget, a.trials_conv, a.threads, a.seed,
                                  budget.share(0.93))
    finally:
        runner.close()
    from tessera.compiler.ops.parallel_probe import probe_for

    meta = {"budget_minutes": a.minutes, "parallel_probe": probe_for(a.threads).stats,
            "elapsed_s": round(time.monotonic() - budget.start, 1),
            "threads": a.threads, "unfinished": budget.unfinished,
            "exhausted": budget.exhausted, "machine": machine(),
            "versions": {**versions(), "xgboost": __import__("xgboost").__version__}}
    for c in cases:
        c.update(meta)
    print(json.dumps(cases, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
