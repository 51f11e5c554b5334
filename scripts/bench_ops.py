#!/usr/bin/env python
"""Benchmark Tessera's CPU operators against numpy/OpenBLAS and onnxruntime.

Prints one JSON list on stdout (one record per case); progress goes to stderr.
Usage: python scripts/bench_ops.py [--quick] [--threads 1,2]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys

from tessera.compiler.ops.bench import run_benchmark


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--quick", action="store_true", help="small sizes (about a minute)")
    p.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    args = p.parse_args()
    logging.basicConfig(level=logging.INFO, stream=sys.stderr, format="%(message)s")
    threads = [int(t) for t in args.threads.split(",")]
    records = run_benchmark(quick=args.quick, threads_list=threads,
                            progress=lambda m: print(m, file=sys.stderr, flush=True))
    json.dump(records, sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
