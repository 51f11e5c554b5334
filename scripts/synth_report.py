"""Resource report of the accelerator from Yosys, for both shipped configurations.

Prints one JSON list on stdout: ``[{"config", "target", "lut", "ff", "bram", "dsp",
"latches"}, ...]`` (Xilinx 7-series by default; ``--target ecp5`` for Lattice ECP5; bram in
RAMB36 / DP16KD units). Progress goes to stderr. The default configuration takes minutes.

    python scripts/synth_report.py [--config default --config small] [--target xilinx]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time

from tessera.hw.config import HwConfig
from tessera.hw.synth import TARGETS, synthesize


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", action="append", choices=["default", "small"])
    parser.add_argument("--target", default="xilinx", choices=TARGETS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr)
    rows = []
    for name in args.config or ["default", "small"]:
        started = time.monotonic()
        report = synthesize(HwConfig.named(name), target=args.target)
        row = report.summary()
        row["synth_s"] = round(time.monotonic() - started, 1)
        logging.info("%s: %s", name, row)
        rows.append(row)
    json.dump(rows, sys.stdout, indent=2)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
