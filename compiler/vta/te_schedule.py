"""The conv2d/dense schedule template as a tensor-expression schedule (VTA's vta_conv2d).

The layer is declared on the blocked layouts: the input as the convolution reads it (inline
stages ``data_pad``, the zero padding as a select, and ``data_rows``, the rows a strided
1-row kernel reads), the GEMM stage ``res_gem`` (``intrin.conv2d_blocked``), the epilogue
stages ``res_add`` (bias), ``res_shr``, ``res_min``, ``res_max`` and the int8 cast ``res``.
``conv2d_te_schedule`` applies one schedule point::

    res:      split n, oc, y, x by the tile knobs; tile loops outside; fuse the tile loops and
              split off ``vthreads`` of them, bound to a ``vthread`` axis; pragma dma_copy on
              the tile's store
    epilogue: compute_at the vthread loop (a chain: each stage reads the previous), in
              acc_buffer (in place on the accumulators), pragma alu; the bias cache_read
              into acc_buffer (pragma dma_copy, at the root: loaded once)
    res_gem:  cache_write into acc_buffer, compute_at the vthread loop; split ic by
              tile_ic, reduction steps outside; tensorize the (b, o, k) block onto ``gemm``
    data, kernel: cache_read into inp_buffer / wgt_buffer at the reduction step, pragma
              dma_copy (the DMA windows, padding from the bounds)

This schedule drives code generation: ``te_lower.loop_ir`` lowers it (bound inference
through the compute_at chain) and the accelerator passes turn the loop IR into the
program. ``build`` also checks its tensorize annotation against the intrinsic
(``check_tensorize``) and records the trace in ``kernel.meta["te_schedule"]``.
"""

from __future__ import annotations

from collections.abc import Callable

from tessera.compiler import tensor as te
from tessera.compiler.errors import ScheduleError
from tessera.compiler.tensor.schedule import Schedule
from tessera.compiler.tensor.tensor import Tensor
from tessera.compiler.vta.intrin import conv2d_blocked, gemm_intrin, tensorize
from tessera.compiler.vta.lower import Epilogue
from tessera.compiler.vta.schedule import Tiling
from tessera.compiler.vta.workload import Problem
from tessera.hw.config import HwConfig

INTRINSICS: dict[str, Callable[[HwConfig], Tensor]] = {"gemm": gemm_intrin}
SCOPES = {"data": "inp_buffer", "kernel": "wgt_buffer", "gemm": "acc_buffer"}


def _data(p: Problem, cfg: HwConfig) -> tuple[Tensor, list[Tensor]]:
    """The input as the convolution reads it, and the inline stages that make it so: the
    zero padding (``data_pad``, a select the DMA turns into padded loads) and, for a 1-row
    kernel with a row stride, the rows it reads (``data_rows``: its windows skip rows)."""
    data = te.placeholder((p.nb, p.icb, p.h, p.w, cfg.batch, cfg.block_in), "int8",
                          name="data")
    cur, stages = data, []
    pt, pl = p.pad_h, p.pad_w
    hp, wp = p.h + pt + p.pad_b, p.w + pl + p.pad_r
    if (hp, wp) != (p.h, p.w):
        src = cur
        cur = te.compute((p.nb, p.icb, hp, wp, cfg.batch, cfg.block_in), lambda n, c, y, x, b, k:
                         te.select(te.all_of(y >= pt, y < p.h + pt, x >= pl, x < p.w + pl),
                                   src[n, c, y - pt, x - pl, b, k], te.const(0, "int8")),
                         name="data_pad")
        stages.append(cur)
    if p.kh == 1 and p.stride_h > 1:
        src = cur
        cur = te.compute((p.nb, p.icb, p.oh, wp, cfg.batch, cfg.block_in),
                         lambda n, c, y, x, b, k: src[n, c, y * p.stride_h, x, b, k],
                         name="data_rows")
        stages.append(cur)
    return cur, stages


def _epilogue(res: Tensor, p: Problem, cfg: HwConfig, epi: Epilogue) -> list[Tensor]:
    shape = res.shape
    stages = [res]
    if epi.bias:
        bias = te.placeholder((p.ocb, cfg.batch, cfg.block_out), "int32", name="bias")
        prev = stages[-1]
        stages.append(te.compute(shape, lambda n, c, y, x, b, o:
                                 prev[n, c, y, x, b, o] + bias[c, b, o], name="res_add"))
    if epi.shift:
        prev, div = stages[-1], 1 << epi.shift
        stages.append(te.compute(shape, lambda *i: prev[i] // div, name="res_shr"))
    prev = stages[-1]
    stages.append(te.compute(shape, lambda *i: te.minimum(prev[i], 127), name="res_min"))
    prev, lo = stages[-1], 0 if epi.relu else -128
    stages.append(te.compute(shape, lambda *i: te.maximum(prev[i], lo), name="res_max"))
    prev = stages[-1]
    stages.append(te.compute(shape, lambda *i: te.cast("int8", prev[i]), name="res"))
    return stages


def conv2d_te_schedule(p: Problem, cfg: HwConfig, t: Tiling, epi: Epilogue
                       ) -> tuple[Schedule, list[Tensor]]:
    """The schedule of ``p`` at point ``t`` and its stages (GEMM first, output last)."""
    src, views = _data(p, cfg)
    row_skip = p.kh == 1 and p.stride_h > 1
    res = conv2d_blocked(cfg, p.nb, p.icb, p.ocb, src.shape[2], src.shape[3], p.kh, p.kw,
                         (1 if row_skip else p.stride_h, p.stride_w), name="res_gem",
                         data=src)
    stages = _epilogue(res, p, cfg, epi)
    out = stages[-1]
    s = te.create_schedule(out)
    for view in views:
        s[view].compute_inline()
    data, kernel = (x for x in s.inputs_of(s[res]))
    gem = s.cache_write(res, SCOPES["gemm"])
    s[res].compute_inline()
    n, oc, y, x, b, o = s[out].op.axis
    no, ni = s[out].split(n, factor=t.tile_n)
    oco, oci = s[out].split(oc, factor=t.tile_oc)
    yo, yi = s[out].split(y, factor=t.tile_h)
    xo, xi = s[out].split(x, factor=t.tile_w)
    s[out].reorder(no, oco, yo, xo, ni, oci, yi, xi, b, o)
    tiles = s[out].fuse(s[out].fuse(s[out].fuse(no, oco), yo), xo)
    _, thread = s[out].split(tiles, factor=t.vthreads)
    s[out].bind(thread, te.thread_axis("vthread", t.vthreads))
    s[out].pragma(ni, "dma_copy")
    for stage in reversed(stages[1:-1]):  # consumers first: each is read inside the tile
        s[stage].compute_at(s[out], thread)
        s[stage].set_scope(SCOPES["gemm"])  # in place on the tile's accumulators
        s[stage].pragma(s[stage].op.axis[0], "alu")
    s[gem].compute_at(s[out], thread)
    if epi.bias:
        bias = next(x for x in s.inputs_of(s[stages[1]]) if x.name == "bias")
        cache = s.cache_read(bias, SCOPES["gemm"], [stages[1]])
        s[cache].pragma(s[cache].op.axis[0], "dma_copy")
    g = s[gem]
    gn, goc, gy, gx, gb, go = g.op.axis
    ic, kh, kw, k = g.op.reduce_axis
    ico, ici = g.split(ic, factor=t.tile_ic)
    g.reorder(ico, gn, goc, gy, gx, ici, kh, kw, gb, go, k)
    for tensor, scope in ((data, SCOPES["data"]), (kernel, SCOPES["kernel"])):
        cache = s.cache_read(tensor, scope, [gem])
        s[cache].compute_at(g, ico)
        s[cache].pragma(s[cache].op.axis[0], "dma_copy")
    g.tensorize(gb, "gemm")
    return s, [gem, *stages[1:]]


def check_tensorize(s: Schedule, cfg: HwConfig) -> int:
    """Run the structural match of every ``tensorize`` annotation in ``s`` against its
    intrinsic; returns how many were checked."""
    checked = 0
    for stage in s.stages:
        for iv, attrs in stage.iter_attrs.items():
            name = attrs.get("tensorize")
            if name is None:
                continue
            if name not in INTRINSICS:
                raise ScheduleError(
                    f"stage {stage.name}: tensorize intrinsic must be one of "
                    f"{sorted(INTRINSICS)}, not {name!r}"
                )
            intrin = INTRINSICS[name](cfg)
            inner = stage.leaf_iter_vars[stage.leaf_iter_vars.index(iv):]
            want = len(intrin.op.axis) + len(intrin.op.reduce_axis)
            if len(inner) != want:
                raise ScheduleError(
                    f"stage {stage.name}: tensorize at loop {iv.name} covers loops "
                    f"({', '.join(v.name for v in inner)}), but intrinsic {name} covers "
                    f"{want} loops (b, o, k)"
                )
            tensorize(Tensor(stage.op), intrin)
            checked += 1
    return checked
