"""The graph executor: runs a compiled model's execution plan step by step.

A *plan* is plain data (JSON-able): the model's inputs and outputs and a list of *steps*, one
per fused group, each with its nodes (op, inputs, outputs, normalized attributes), the
strategy chosen for it (``"numpy"``: the reference kernels; ``"compiled"``: a kernel of the
tensor compiler, loaded through a kernel provider) and the values that die after it (memory
planning). The executor needs no compiler: ``tessera.runtime.load`` builds one from a file.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from tessera.hw.errors import TesseraError
from tessera.runtime.reference import run_kernel

log = logging.getLogger(__name__)

StepKernel = Callable[[list[np.ndarray]], list[np.ndarray]]
# Builds the callable of a compiled step from the step's plan entry and the artifact's code.
KernelProvider = Callable[[Mapping[str, Any], Mapping[str, bytes]], StepKernel]

_PROVIDERS: dict[str, KernelProvider] = {}
_JIT_CACHE: dict[str, Any] = {}  # JIT-compiled kernels by code and signature, process-wide


@functools.cache
def _blas_controller() -> Any:
    """threadpoolctl's view of the BLAS libraries loaded (built once: ~2 ms; a limit then
    costs ~20 us per run)."""
    from threadpoolctl import ThreadpoolController

    return ThreadpoolController()



class ExecutorError(TesseraError, ValueError):
    """A model was run with wrong inputs, or its plan is inconsistent."""


def register_provider(kind: str, provider: KernelProvider) -> None:
    """Make ``provider`` build the kernels of steps whose strategy is ``kind``."""
    _PROVIDERS[kind] = provider


def _numpy_step(step: Mapping[str, Any]) -> StepKernel:
    nodes = list(step["nodes"])
    inputs = list(step["inputs"])
    outputs = list(step["outputs"])

    def kernel(args: list[np.ndarray]) -> list[np.ndarray]:
        env = dict(zip(inputs, args))
        for node in nodes:
            outs = run_kernel(node["op"], [env[i] for i in node["inputs"]], node["attrs"])
            env.update(zip(node["outputs"], outs))
        return [env[o] for o in outputs]

    return kernel


_IN_PLACE_BINARY = {"Add": np.add, "Sub": np.subtract, "Mul": np.multiply}


def _in_place(op: str, ins: list[np.ndarray]) -> bool:
    """Apply a Relu or a same-shape binary epilogue into its first input's buffer, exactly as
    the reference kernel would compute it; False when it does not apply."""
    x = ins[0]
    if op == "Relu" and len(ins) == 1:
        np.maximum(x, 0, out=x)
        return True
    fn = _IN_PLACE_BINARY.get(op)
    if fn is None or len(ins) != 2 or ins[1].dtype != x.dtype:
        return False
    if np.broadcast_shapes(x.shape, ins[1].shape) != x.shape:
        return False
    fn(x, ins[1], out=x)
    return True


def _llvm_step(step: Mapping[str, Any], code: Mapping[str, bytes]) -> StepKernel:
    """A step whose master node(s) run as JIT-compiled LLVM kernels of the tensor compiler
    (``step["compiled"][node] = {symbol, code, object, target, params, args, bias}``: linked
    from the object code where it was built for this host, else compiled from the LLVM IR
    member ``code``; ``runtime/cpu/artifact_code.py``), the rest of its nodes
    (epilogues) with the numpy reference kernels. A kernel that computes a fused epilogue too
    names the nodes it covers (``spec["fused"]``) and the value it writes (``spec["output"]``);
    those nodes do not run again."""
    from tessera.runtime.cpu.artifact_code import load_member_kernel

    compiled: dict[str, Any] = {}
    for name, spec in step["compiled"].items():
        member = spec["code"]
        if member not in code:
            raise ExecutorError(f"step {step['name']}: code member {member} is missing")
        params = [(p[0], p[1], tuple(p[2])) for p in spec["params"]]
        key = hashlib.sha256(code[member] + repr((spec["symbol"], params)).encode()).hexdigest()
        if key not in _JIT_CACHE:
            _JIT_CACHE[key] = load_member_kernel(spec, code, params)
        compiled[name] = (_JIT_CACHE[key], spec)
    fused = {n for spec in step["compiled"].values() for n in spec.get("fused", ())}
    nodes = [n for n in step["nodes"] if n["name"] not in fused]
    inputs, outputs = list(step["inputs"]), list(step["outputs"])
    uses: dict[str, int] = {}
    for node in nodes:
        for i in node["inputs"]:
            uses[i] = uses.get(i, 0) + 1

    def private(value: str) -> bool:
        """Used once, by the next epilogue node, and not a step output: may be overwritten."""
        return uses.get(value, 0) == 1 and value not in outputs

    class _Kernel:
        num_threads = 0

        def __init__(self) -> None:
            # each kernel's output buffer, allocated on the first run and reused after: a
            # fresh np.empty per run pays first-touch page faults inside the kernel (ResNet-18
            # at 2 threads measured ~1.5 ms faster of ~20 with reuse, within noise of a shared
            # machine)
            self.buffers: dict[str, np.ndarray] = {}

        def __call__(self, args: list[np.ndarray]) -> list[np.ndarray]:
            env = dict(zip(inputs, args))
            owned: set[str] = set()  # values in buffers this step allocated
            for node in nodes:
                entry = compiled.get(node["name"])
                if entry is None:
                    ins = [env[i] for i in node["inputs"]]
                    first = node["inputs"][0] if node["inputs"] else ""
                    if first in owned and private(first) and _in_place(node["op"], ins):
                        env[node["outputs"][0]] = ins[0]
                        owned.add(node["outputs"][0])
                        continue
                    env.update(zip(node["outputs"], run_kernel(node["op"], ins,
                                                               node["attrs"])))
                    continue
                kernel, spec = entry
                if self.num_threads:
                    kernel.num_threads = self.num_threads
                out = self.buffers.get(node["name"])
                if out is None:
                    out_spec = kernel.params[-1]
                    out = self.buffers[node["name"]] = np.empty(out_spec.shape, out_spec.dtype)
                kernel(*[np.ascontiguousarray(env[a]) for a in spec["args"]], out)
                if spec.get("bias"):
                    out += env[spec["bias"]].reshape(spec["bias_shape"])
                value = spec.get("output", node["outputs"][0])
                env[value] = out.reshape(spec["out_shape"])
                owned.add(value)
            return [env[o] for o in outputs]

    return _Kernel()


class GraphModule:
    """A runnable model: ``run({"x": array}) -> [outputs]`` in the graph's output order."""

    def __init__(
        self, plan: Mapping[str, Any], constants: Mapping[str, np.ndarray],
        code: Mapping[str, bytes] | None = None,
    ):
        self.plan = dict(plan)
        self.constants = dict(constants)
        self.code = dict(code or {})
        self.inputs: list[dict[str, Any]] = list(plan["inputs"])
        self.outputs: list[str] = list(plan["outputs"])
        self._kernels: list[StepKernel] = []
        self._num_threads = 0
        self.strategies: list[str] = []
        for step in plan["steps"]:
            kind = step.get("strategy", "numpy")
            if kind != "numpy" and kind in _PROVIDERS:
                try:
                    self._kernels.append(_PROVIDERS[kind](step, self.code))
                    self.strategies.append(kind)
                    continue
                except (TesseraError, RuntimeError, ValueError, OSError) as err:
                    # llvmlite reports bad IR as RuntimeError; the step still runs, in numpy
                    log.warning("step %s: %s kernel unavailable (%s); numpy fallback",
                                step["name"], kind, err)
            elif kind != "numpy":
                log.warning("step %s: no provider for %r; numpy fallback", step["name"], kind)
            self._kernels.append(_numpy_step(step))
            self.strategies.append("numpy")

    @property
    def num_threads(self) -> int:
        """Threads of the compiled kernels' parallel loops."""
        return self._num_threads

    @num_threads.setter
    def num_threads(self, n: int) -> None:
        if not isinstance(n, int) or n < 1:
            raise ExecutorError(f"num_threads must be a positive int, not {n!r}")
        self._num_threads = n
        for kernel in self._kernels:
            if hasattr(kernel, "num_threads"):
                kernel.num_threads = n

    # ------------------------------------------------------------------ running
    def _check_inputs(self, feeds: Mapping[str, Any]) -> dict[str, np.ndarray]:
        names = [i["name"] for i in self.inputs]
        unknown = sorted(set(feeds) - set(names))
        if unknown:
            raise ExecutorError(f"unknown input {unknown[0]!r}: inputs must be among {names}")
        env: dict[str, np.ndarray] = {}
        for spec in self.inputs:
            name = spec["name"]
            if name not in feeds:
                raise ExecutorError(f"input {name!r} is missing: inputs are {names}")
            value = np.asarray(feeds[name])
            shape, dtype = tuple(spec["shape"]), np.dtype(spec["dtype"])
            if value.shape != shape:
                raise ExecutorError(
                    f"input {name!r} must have shape {list(shape)}, not {list(value.shape)}"
                )
            if value.dtype != dtype:
                if not np.can_cast(value.dtype, dtype, casting="same_kind"):
                    raise ExecutorError(
                        f"input {name!r} must have dtype {dtype}, not {value.dtype}"
                    )
                value = value.astype(dtype)
            env[name] = value
        return env

    @contextlib.contextmanager
    def _compiled_run(self) -> Iterator[None]:
        """What a run with compiled (parallel) kernels needs around it:
        - numpy's BLAS kept to one thread: OpenBLAS workers busy-wait for about 0.1 s after
          each call (a small Gemm step), and on a machine with few cores they take the cores
          the next compiled kernels' parallel loops need (ResNet-18 at 2 threads: 31 -> 19 ms);
        - the parallel loops' threads on distinct CPUs (``runtime.cpu.affinity`` says why)."""
        if "llvm" not in self.strategies:
            yield
            return
        from tessera.runtime.cpu.affinity import bound
        from tessera.runtime.cpu.kernel import default_num_threads

        with _blas_controller().limit(limits=1, user_api="blas"), \
                bound(self._num_threads or default_num_threads()):
            yield

    def run(self, feeds: Mapping[str, Any]) -> list[np.ndarray]:
        with self._compiled_run():
            return self._run(feeds)

    def _run(self, feeds: Mapping[str, Any]) -> list[np.ndarray]:
        env: dict[str, np.ndarray] = dict(self.constants)
        env.update(self._check_inputs(feeds))
        for step, kernel in zip(self.plan["steps"], self._kernels):
            outs = kernel([env[i] for i in step["inputs"]])
            env.update(zip(step["outputs"], outs))
            for dead in step.get("free", ()):
                env.pop(dead, None)
        # compiled steps write into buffers they keep across runs: hand out copies
        return [np.array(env[o]) for o in self.outputs]

    def profile(self, feeds: Mapping[str, Any], repeat: int = 3) -> list[dict[str, Any]]:
        """Median wall time of each step over ``repeat`` runs."""
        times: list[list[float]] = [[] for _ in self._kernels]
        with self._compiled_run():
            self._profile_runs(feeds, repeat, times)
        return [
            {"step": s["name"], "ops": [n["op"] for n in s["nodes"]], "strategy": st,
             "ms": float(np.median(t)) * 1e3}
            for s, st, t in zip(self.plan["steps"], self.strategies, times)
        ]

    def _profile_runs(self, feeds: Mapping[str, Any], repeat: int,
                      times: list[list[float]]) -> None:
        for _ in range(repeat):
            env: dict[str, np.ndarray] = dict(self.constants)
            env.update(self._check_inputs(feeds))
            for k, (step, kernel) in enumerate(zip(self.plan["steps"], self._kernels)):
                t0 = time.perf_counter()
                outs = kernel([env[i] for i in step["inputs"]])
                times[k].append(time.perf_counter() - t0)
                env.update(zip(step["outputs"], outs))

    # ------------------------------------------------------------------ reporting
    def info(self) -> dict[str, Any]:
        """What runs how: op counts by strategy (a node of a compiled step counts as compiled
        only when it is one of the step's compiled nodes), steps, memory plan, target."""
        by: dict[str, dict[str, int]] = {}
        for step, kind in zip(self.plan["steps"], self.strategies):
            compiled = step.get("compiled", {}) if kind != "numpy" else {}
            covered = set(compiled) | {n for s in compiled.values() for n in s.get("fused", ())}
            for node in step["nodes"]:
                k = kind if node["name"] in covered else "numpy"
                by.setdefault(k, {})
                by[k][node["op"]] = by[k].get(node["op"], 0) + 1
        weights = sum(int(v.nbytes) for v in self.constants.values())
        return {
            "name": self.plan.get("name", "model"),
            "target": self.plan.get("target", "llvm"),
            "inputs": self.inputs,
            "outputs": self.outputs,
            "steps": len(self.plan["steps"]),
            "nodes": sum(len(s["nodes"]) for s in self.plan["steps"]),
            "ops_by_strategy": by,
            "weights_bytes": weights,
            "memory": self.plan.get("memory", {}),
        }

    def save(self, path: str | Path) -> Path:
        from tessera.runtime.artifact import save_artifact

        return save_artifact(path, self.plan, self.constants, self.code)


register_provider("llvm", _llvm_step)


def run_module(module: GraphModule, feeds: Mapping[str, Any]) -> Sequence[np.ndarray]:
    return module.run(feeds)
