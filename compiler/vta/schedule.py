"""The schedule knobs of an accelerator layer, their legal values, and the buffer-fit check.

A schedule is a dict of knobs (the auto-tuner searches over them)::

    tile_n    batch blocks per output tile          (divisors of N/batch)
    tile_oc   output-channel blocks per tile        (divisors of Cout/block_out)
    tile_h    output rows per tile                  (divisors of OH)
    tile_w    output columns per tile               (divisors of OW)
    tile_ic   input-channel blocks per reduction step (divisors of Cin/block_in)
    vthreads  virtual threads: 1 (latency hiding off) or 2 (loads and stores overlap compute)

with ``tile_n == 1 or tile_h == 1`` (the GEMM's outer loop walks one of the two). A tile's
buffers: input ``vthreads x tile_n*tile_ic*Y*X`` entries (``Y = (tile_h-1)*stride_h +
kernel_h``, ``X`` likewise: the padded input window; a 1-row kernel with a row stride loads
only the ``tile_h`` rows it reads), weights ``vthreads x
tile_oc*tile_ic*KH*KW`` (or all the layer's weights once, when a tile holds them all),
accumulators ``vthreads x tile_n*tile_oc*tile_h*tile_w`` plus one entry per output-channel
block of bias. ``check_schedule`` rejects an illegal point with a ``ScheduleError`` before
anything is built; an overflowing buffer is named with the amount.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from tessera.compiler.errors import ScheduleError
from tessera.compiler.vta.workload import Problem
from tessera.hw.config import HwConfig

KNOBS = ("tile_n", "tile_oc", "tile_h", "tile_w", "tile_ic", "vthreads")
VTHREADS = (1, 2)


def divisors(n: int) -> tuple[int, ...]:
    return tuple(d for d in range(1, n + 1) if n % d == 0)


def problem_knob_space(p: Problem) -> dict[str, tuple[int, ...]]:
    return {
        "tile_n": divisors(p.nb), "tile_oc": divisors(p.ocb), "tile_h": divisors(p.oh),
        "tile_w": divisors(p.ow), "tile_ic": divisors(p.icb), "vthreads": VTHREADS,
    }


@dataclass(frozen=True)
class Tiling:
    """A checked schedule point and the on-chip footprint it implies (in entries)."""

    tile_n: int
    tile_oc: int
    tile_h: int
    tile_w: int
    tile_ic: int
    vthreads: int
    win_h: int        # Y: input rows of a tile's window (padding included)
    row_skip: bool    # 1-row kernel with stride_h > 1: the window holds only the rows read
    win_w: int        # X
    inp_slot: int     # input entries of one virtual thread
    wgt_slot: int     # weight entries of one virtual thread (0 when resident)
    wgt_resident: bool
    wgt_total: int    # weight entries on chip (all threads)
    acc_per_oc: int   # accumulator entries of one output-channel block of a tile
    acc_slot: int     # accumulator entries of one virtual thread
    bias_base: int    # first accumulator entry of the bias (after the threads' slots)
    has_bias: bool

    def knobs(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in KNOBS}


def _describe(p: Problem) -> str:
    return f"{p.kind} {p.name!r}"


def _fit(p: Problem, buffer: str, need: int, depth: int, detail: str) -> None:
    if need > depth:
        raise ScheduleError(
            f"{_describe(p)}: the schedule overflows {buffer}: it needs {need} entries "
            f"({detail}), {need - depth} more than its {depth}"
        )


def check_schedule(
    p: Problem, cfg: HwConfig, schedule: Mapping[str, int], has_bias: bool, uop_words: int = 0
) -> Tiling:
    """The ``Tiling`` of ``schedule`` for ``p``; an unknown or missing knob, an illegal value
    or a tile that does not fit a buffer raises ScheduleError."""
    unknown = sorted(set(schedule) - set(KNOBS))
    if unknown:
        raise ScheduleError(
            f"{_describe(p)}: schedule knobs must be among {list(KNOBS)}, not {unknown}"
        )
    missing = [k for k in KNOBS if k not in schedule]
    if missing:
        raise ScheduleError(f"{_describe(p)}: schedule is missing knob(s) {missing}")
    space = problem_knob_space(p)
    for knob in KNOBS:
        value = schedule[knob]
        if value not in space[knob] or isinstance(value, bool):
            raise ScheduleError(
                f"{_describe(p)}: schedule knob {knob} must be one of {list(space[knob])}, "
                f"not {value!r}"
            )
    tn, toc, th, tw, tic, v = (int(schedule[k]) for k in KNOBS)
    if tn != 1 and th != 1:
        raise ScheduleError(
            f"{_describe(p)}: schedule knobs tile_n and tile_h must not both exceed 1 "
            f"(the GEMM's outer loop walks one of them), not tile_n={tn}, tile_h={th}"
        )
    row_skip = p.kh == 1 and p.stride_h > 1
    win_h = th if row_skip else (th - 1) * p.stride_h + p.kh
    win_w = (tw - 1) * p.stride_w + p.kw
    inp_slot = tn * tic * win_h * win_w
    _fit(p, "inp_buffer", v * inp_slot, cfg.inp_depth,
         f"{v} thread(s) x {tn}x{tic} blocks x a {win_h}x{win_w} window")
    resident = toc == p.ocb and tic == p.icb
    wgt_slot = 0 if resident else toc * tic * p.kh * p.kw
    wgt_total = p.ocb * p.icb * p.kh * p.kw if resident else v * wgt_slot
    _fit(p, "wgt_buffer", wgt_total, cfg.wgt_depth,
         f"{toc}x{tic} blocks x {p.kh}x{p.kw}" + ("" if resident else f" x {v} thread(s)"))
    acc_per_oc = tn * th * tw
    acc_slot = toc * acc_per_oc
    bias = p.ocb if has_bias else 0
    _fit(p, "acc_buffer", v * acc_slot + bias, cfg.acc_depth,
         f"{v} thread(s) x {toc}x{tn}x{th}x{tw}" + (f" + {bias} bias" if bias else ""))
    if uop_words:
        _fit(p, "uop_buffer", uop_words, cfg.uop_depth, "every distinct micro-op kernel")
    return Tiling(tn, toc, th, tw, tic, v, win_h, row_skip, win_w, inp_slot, wgt_slot, resident,
                  wgt_total, acc_per_oc, acc_slot, v * acc_slot, has_bias)
