"""Measurements on a Dask cluster (``distributed``): each worker a simulator host or a board.

Every candidate is one Dask task. On the worker it runs through that worker's own
``LocalRunner`` (a spawned measuring process with the same timeouts), so a crashing or hanging
candidate costs the worker a process, never the worker itself.

    runner = DaskRunner("tcp://10.0.0.5:8786")           # or DaskRunner(client)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import Any

from tessera.compiler.autotune.errors import TuningError
from tessera.compiler.autotune.hardware import cpu_descriptor
from tessera.compiler.autotune.measure import (
    LocalRunner,
    MeasureInput,
    MeasureOptions,
    MeasureResult,
    Runner,
)
from tessera.compiler.autotune.task import Task

log = logging.getLogger(__name__)
_WORKER_RUNNER: dict[str, LocalRunner] = {}
_WORKER_LOCK = threading.Lock()


def measure_on_worker(template: str, args: list[Any], config: dict[str, Any],
                      options: MeasureOptions) -> MeasureResult:
    """Runs on a Dask worker: measure one candidate in the worker's measuring process."""
    task = Task(template, tuple(args))
    inp = MeasureInput(task, task.space.from_dict(config))
    with _WORKER_LOCK:  # one measurement at a time per worker, so timings stay clean
        runner = _WORKER_RUNNER.get(repr(options))
        if runner is None:
            runner = _WORKER_RUNNER[repr(options)] = LocalRunner(options)
        return runner.run([inp])[0]


class DaskRunner(Runner):
    """Measure on the workers of a Dask scheduler at ``address`` (or an existing ``Client``)."""

    def __init__(self, address: Any, options: MeasureOptions | None = None,
                 connect_timeout_s: float = 30.0) -> None:
        from distributed import Client

        self.options = options or MeasureOptions()
        try:
            self.client = address if isinstance(address, Client) else Client(
                address, timeout=connect_timeout_s)
        except OSError as err:
            raise TuningError(f"tune: the Dask scheduler at {address!r} must be reachable, "
                              f"not {err}") from err
        self._own = not isinstance(address, Client)
        self.hw = self.client.submit(cpu_descriptor, self.options.threads, pure=False).result()

    def run(self, inputs: Sequence[MeasureInput]) -> list[MeasureResult]:
        futures = [self.client.submit(measure_on_worker, inp.task.template,
                                      list(inp.task.args), inp.config.to_dict(), self.options,
                                      pure=False)
                   for inp in inputs]
        out: list[MeasureResult] = []
        limit = self.options.timeout_s + LocalRunner.startup_s + 60.0
        for fut in futures:
            try:
                out.append(fut.result(timeout=limit))
            except Exception as err:  # noqa: BLE001 - a lost worker or task is a result too
                out.append(MeasureResult((), "crash", f"the Dask task failed: "
                                         f"{type(err).__name__}: {err}"))
        return out

    def close(self) -> None:
        if self._own:
            self.client.close()
