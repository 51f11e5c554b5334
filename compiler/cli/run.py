"""`tessera run OUT.tsr --input name=file.npy ... --output-dir DIR`: run a compiled artifact
(writes out0.npy, out1.npy, ... in the graph's output order)."""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from rich.console import Console

from tessera.runtime.artifact import ArtifactError, load


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("run", help="run a compiled .tsr artifact on .npy inputs")
    p.add_argument("artifact", help=".tsr file from `tessera compile`")
    p.add_argument("--input", action="append", default=[], metavar="NAME=FILE.npy",
                   help="an input tensor (repeatable)")
    p.add_argument("--output-dir", default=".", help="where out0.npy, ... go (default: .)")
    p.add_argument("--device", default=None,
                   help="accelerator device of a vta artifact (fsim, rtl, rtl-fast)")
    p.set_defaults(func=run)


def read_npy_arg(
    spec: str, what: str = "--input", error: type[Exception] = ArtifactError
) -> tuple[str, np.ndarray]:
    """A ``NAME=FILE.npy`` command-line argument -> (name, array); ``error`` names ``what``."""
    name, sep, path = spec.partition("=")
    if not sep or not name or not path:
        raise error(f"{what} must look like NAME=FILE.npy, not {spec!r}")
    try:
        return name, np.load(path, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise error(f"{what} {name}: cannot read {path} as .npy ({err})") from None


def run(args: argparse.Namespace) -> int:
    module = load(args.artifact, device=args.device)
    feeds = dict(read_npy_arg(s) for s in args.input)
    outs = module.run(feeds)
    out_dir = Path(args.output_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    console = Console()
    for k, (name, value) in enumerate(zip(module.outputs, outs)):
        path = out_dir / f"out{k}.npy"
        np.save(path, value)
        console.print(f"{path}: {name} {value.dtype}{list(value.shape)}", highlight=False)
    return 0
