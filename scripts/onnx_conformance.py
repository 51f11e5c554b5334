"""Run the ONNX backend node test cases shipped with the onnx package through Tessera.

Prints one JSON object on stdout:
``{"passed", "failed", "unsupported", "total", "failures": [names], "unsupported_ops": [ops],
"seconds", "onnx"}``. ``failed`` counts cases of supported operators that crash or give wrong
numbers; a case whose operator or attribute Tessera does not support must raise
``UnsupportedError`` and counts as ``unsupported``. Inputs that fix shapes or attributes
(``tessera.compiler.frontend.STATIC_INPUTS``) are frozen to the case's values, as a user
would with ``compile(..., freeze=...)``.

    python scripts/onnx_conformance.py [--filter SUBSTRING] [--budget SECONDS] [-v]
"""

from __future__ import annotations

import argparse
import json
import logging
import re
import signal
import sys
import time
from typing import Any

import numpy as np
import onnx
from onnx import numpy_helper
from onnx.backend.test.case.node import collect_testcases

from tessera.compiler.build import compile
from tessera.compiler.errors import UnsupportedError
from tessera.compiler.frontend import STATIC_INPUTS

log = logging.getLogger("onnx_conformance")
CASE_TIMEOUT_S = 60


class CaseTimeout(Exception):
    pass


def _array(value: Any) -> Any:
    """TensorProtos as arrays; sequences and optionals stay as they are (Tessera rejects
    models that take or return them with UnsupportedError)."""
    if isinstance(value, onnx.TensorProto):
        return numpy_helper.to_array(value)
    return value


def _frozen_inputs(model: onnx.ModelProto, feeds: dict[str, Any]) -> dict[str, Any]:
    static = set()
    for node in model.graph.node:
        for pos in STATIC_INPUTS.get(node.op_type, ()):
            if pos < len(node.input) and node.input[pos] in feeds:
                static.add(node.input[pos])
    return {k: v for k, v in feeds.items() if k in static}


def run_case(case: Any) -> tuple[str, str]:
    """('passed' | 'failed' | 'unsupported', detail)."""
    model = case.model
    init = {i.name for i in model.graph.initializer}
    names = [i.name for i in model.graph.input if i.name not in init]
    out_names = [o.name for o in model.graph.output]
    for raw_inputs, raw_outputs in case.data_sets:
        inputs = [_array(x) for x in raw_inputs]
        outputs = [_array(x) for x in raw_outputs]
        feeds = dict(zip(names, inputs))
        frozen = _frozen_inputs(model, feeds)
        shapes = {
            k: v.shape for k, v in feeds.items() if k not in frozen and isinstance(v, np.ndarray)
        }
        try:
            m = compile(model, target="llvm", input_shapes=shapes, freeze=frozen)
        except UnsupportedError as err:
            return "unsupported", str(err)
        got = m.run({k: v for k, v in feeds.items() if k not in frozen})
        if len(got) != len(outputs):
            return "failed", f"{len(got)} outputs, expected {len(outputs)} ({out_names})"
        for k, (g, ref) in enumerate(zip(got, outputs)):
            if g.shape != ref.shape:
                return "failed", f"output {k} shape {g.shape}, expected {ref.shape}"
            if g.dtype != ref.dtype:
                return "failed", f"output {k} dtype {g.dtype}, expected {ref.dtype}"
            if ref.dtype.kind in "fc":
                ok = np.allclose(g, ref, rtol=case.rtol, atol=case.atol, equal_nan=True)
            else:
                ok = np.array_equal(g, ref)
            if not ok:
                err = np.max(np.abs(g.astype(np.float64) - ref.astype(np.float64)))
                return "failed", f"output {k} differs (max abs error {err:g})"
    return "passed", ""


def _alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--filter", default="", help="only cases whose name contains this")
    ap.add_argument("--budget", type=float, default=1800, help="total time budget, seconds")
    ap.add_argument("-v", "--verbose", action="store_true", help="log each case to stderr")
    args = ap.parse_args()
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING,
                        stream=sys.stderr, format="%(message)s")
    logging.getLogger("tessera").setLevel(logging.ERROR)
    cases = [c for c in collect_testcases() if c.kind == "node" and args.filter in c.name]
    counts = {"passed": 0, "failed": 0, "unsupported": 0}
    failures: list[str] = []
    unsupported_ops: set[str] = set()
    details: dict[str, str] = {}
    start = time.perf_counter()
    signal.signal(signal.SIGALRM, _alarm)
    skipped = 0
    for case in sorted(cases, key=lambda c: c.name):
        if time.perf_counter() - start > args.budget:
            skipped += 1
            continue
        signal.alarm(CASE_TIMEOUT_S)
        try:
            status, detail = run_case(case)
        except CaseTimeout:
            status, detail = "failed", f"timed out after {CASE_TIMEOUT_S} s"
        except UnsupportedError as err:
            status, detail = "unsupported", str(err)
        except Exception as err:  # noqa: BLE001 - any crash is a failure to report
            status, detail = "failed", f"{type(err).__name__}: {err}"
        finally:
            signal.alarm(0)
        counts[status] += 1
        if status == "failed":
            failures.append(case.name)
            details[case.name] = detail
        if status == "unsupported":
            named = re.search(r"\((\w+), opset \d+\)", detail)
            if named:  # the node the UnsupportedError names
                unsupported_ops.add(named.group(1))
            else:  # a model-level reason (domain, element type): the case's own ops
                unsupported_ops.update(n.op_type for n in case.model.graph.node)
        log.info("%-60s %s %s", case.name, status, detail[:200])
    for name in failures:
        log.warning("FAILED %s: %s", name, details[name][:300])
    result = {
        **counts, "total": len(cases), "failures": failures,
        "unsupported_ops": sorted(unsupported_ops), "skipped_for_budget": skipped,
        "seconds": round(time.perf_counter() - start, 1), "onnx": onnx.__version__,
    }
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
