"""The tuning curve: best-so-far throughput against trials, one line per task."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from tessera.compiler.autotune.tuner import TuneResult


def plot_best_so_far(results: Sequence[TuneResult], path: str | Path,
                     title: str = "tuning progress") -> Path:
    """Write a PNG of best-so-far GFLOPS (accelerator: MACs per cycle) per trial for every
    task; returns the path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 5))
    cycles = bool(results) and all(r.task.target == "vta" for r in results)
    for res in results:
        flops = res.task.flops
        xs, ys = [], []
        for k, best in enumerate(res.best_so_far(), 1):
            if best is not None:
                xs.append(k)
                ys.append(flops / 2 / best if cycles else flops / best / 1e9)
        if xs:
            ax.step(xs, ys, where="post", label=str(res.task)[:60])
    ax.set_xlabel("trials")
    ax.set_ylabel("best so far (MACs per cycle)" if cycles else "best so far (GFLOPS)")
    ax.set_title(title)
    ax.grid(True, alpha=0.3)
    if results:
        ax.legend(fontsize=6, loc="lower right")
    out = Path(path)
    fig.tight_layout()
    fig.savefig(out, dpi=100)
    plt.close(fig)
    return out
