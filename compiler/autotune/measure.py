"""Runners: measure candidates in separate processes, with timeouts and failure isolation.

``LocalRunner`` keeps a pool of spawned processes (``n_parallel`` of them; 1 by default, so
timings do not disturb each other). Each candidate is built, checked against the untuned
operator and timed in a worker (``worker.measure_payload``). A candidate that kills its
worker is recorded as ``crash``, one that runs past ``timeout_s`` as ``timeout`` (its worker
is killed); either way the pool is made afresh and the run goes on.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing as mp
import statistics
import time
from collections.abc import Sequence
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any

from tessera.compiler.autotune.hardware import cpu_descriptor
from tessera.compiler.autotune.space import Config
from tessera.compiler.autotune.task import Task
from tessera.compiler.autotune.worker import measure_payload

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class MeasureInput:
    task: Task
    config: Config


@dataclass(frozen=True)
class MeasureResult:
    """``costs`` in seconds (empty on error); ``error_kind`` None on success."""

    costs: tuple[float, ...] = ()
    error_kind: str | None = None
    error_msg: str = ""
    features: tuple[float, ...] | None = field(default=None, hash=False)

    @property
    def cost(self) -> float | None:
        return statistics.median(self.costs) if self.costs and not self.error_kind else None


@dataclass(frozen=True)
class MeasureOptions:
    timeout_s: float = 30.0
    number: int = 1
    repeat: int = 5
    min_repeat_s: float = 0.0
    threads: int = 2


def payload(inp: MeasureInput, opt: MeasureOptions) -> dict[str, Any]:
    return {"template": inp.task.template, "args": list(inp.task.args), "key": inp.task.key,
            "config": inp.config.to_dict(), "number": opt.number, "repeat": opt.repeat,
            "min_repeat_s": opt.min_repeat_s, "threads": opt.threads}


def result_of(d: dict[str, Any]) -> MeasureResult:
    feats = d.get("features")
    return MeasureResult(tuple(d.get("costs", ())), d.get("error_kind"), d.get("error_msg", ""),
                         None if feats is None else tuple(feats))


class Runner:
    """Measures batches of candidates; ``hw`` describes what it measures on."""

    hw: dict[str, Any]

    def run(self, inputs: Sequence[MeasureInput]) -> list[MeasureResult]:
        raise NotImplementedError

    def close(self) -> None:
        """Release processes or connections."""


class LocalRunner(Runner):
    startup_s = 15.0  # allowance for a fresh process's start and imports

    def __init__(self, options: MeasureOptions | None = None, n_parallel: int = 1) -> None:
        self.options = options or MeasureOptions()
        self.n_parallel = max(1, n_parallel)
        self.hw = cpu_descriptor(self.options.threads)
        self._pool: cf.ProcessPoolExecutor | None = None
        self._fresh = False
        self.restarts = 0

    def _get_pool(self) -> cf.ProcessPoolExecutor:
        if self._pool is None:
            self._pool = cf.ProcessPoolExecutor(self.n_parallel,
                                                mp_context=mp.get_context("spawn"))
            self._fresh = True
        return self._pool

    def _kill_pool(self) -> None:
        pool, self._pool = self._pool, None
        if pool is None:
            return
        self.restarts += 1
        # The executor has no public way to stop a running task: end its processes.
        procs = list(getattr(pool, "_processes", {}).values())
        for proc in procs:
            if proc.is_alive():
                proc.kill()
        pool.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            proc.join(timeout=5)

    def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def run(self, inputs: Sequence[MeasureInput]) -> list[MeasureResult]:
        out: list[MeasureResult] = []
        for i in range(0, len(inputs), self.n_parallel):
            out += self._run_chunk(inputs[i:i + self.n_parallel], retry_alone=True)
        return out

    def _run_chunk(self, chunk: Sequence[MeasureInput], retry_alone: bool) -> list[MeasureResult]:
        opt = self.options
        pool = self._get_pool()
        # The first task of a fresh pool also pays for starting the process and its imports.
        futures = [pool.submit(measure_payload, payload(inp, opt)) for inp in chunk]
        deadline = time.monotonic() + opt.timeout_s + self.startup_s * self._fresh
        self._fresh = False
        results: list[MeasureResult | None] = [None] * len(chunk)
        broken = False
        for k, fut in enumerate(futures):
            try:
                results[k] = result_of(fut.result(timeout=max(0.0, deadline - time.monotonic())))
            except cf.TimeoutError:
                results[k] = MeasureResult((), "timeout", f"did not finish within "
                                           f"{opt.timeout_s:g} s")
            except BrokenProcessPool:
                broken = True
            except Exception as err:  # noqa: BLE001 - e.g. an unpicklable result
                results[k] = MeasureResult((), "runtime", f"{type(err).__name__}: {err}")
        if broken or any(r is not None and r.error_kind == "timeout" for r in results):
            self._kill_pool()
        if broken:
            lost = [k for k, r in enumerate(results) if r is None]
            if len(lost) > 1 and retry_alone:
                for k in lost:  # find out which one of them crashed the pool
                    results[k] = self._run_chunk([chunk[k]], retry_alone=False)[0]
            for k in lost:
                if results[k] is None:
                    results[k] = MeasureResult((), "crash", "the measuring process died "
                                               "(a crash in the candidate's kernel)")
        return [r for r in results if r is not None]
