"""The generated programs: micro-op cache reuse, token balance, DMA padding from bounds,
virtual-thread interleaving and overlap, relocation."""

from __future__ import annotations

from collections import Counter

import numpy as np
from vta_helpers import RESNET18, check_conv, conv_case

import tessera.runtime as rt
from tessera.compiler.vta import Conv2dWorkload, build_qconv2d, default_schedule, knob_space
from tessera.hw import HwConfig
from tessera.hw import isa as I
from tessera.runtime.accel import AccelKernel

CFG = HwConfig.default()
SCHED = {"tile_n": 1, "tile_oc": 2, "tile_h": 14, "tile_w": 14, "tile_ic": 2, "vthreads": 2}


def _kernel(schedule: dict[str, int] = SCHED) -> AccelKernel:
    wkl = RESNET18["C2"]
    _, w, b = conv_case(wkl, 0)
    return build_qconv2d(wkl, w, b, 8, True, CFG, schedule=schedule, name="c2")


def test_micro_op_kernels_are_cached_and_loaded_once() -> None:
    k = _kernel()
    uop_loads = [i for i in k.insns if isinstance(i, I.MemInsn) and i.mem_type == I.MemType.UOP]
    assert len(uop_loads) == 1 and k.insns[0] is uop_loads[0]
    gemms = [i for i in k.insns if isinstance(i, I.GemmInsn) and not i.reset]
    ranges = {(g.uop_bgn, g.uop_end) for g in gemms}
    # 32 tiles x 2 reduction steps, but only (input slot, accumulator slot) pairs differ.
    assert len(gemms) == 64 and len(ranges) == 4
    assert k.meta["uop_words"] == uop_loads[0].x_size == k.tensor("uops").shape[0]
    assert all(g.uop_end - g.uop_bgn == 2 * 2 * 9 for g in gemms)  # tile_oc*tile_ic*KH*KW
    assert all(g.iter_out == 14 and g.iter_in == 14 for g in gemms)


def _tokens(k: AccelKernel) -> tuple[Counter[str], Counter[str]]:
    pushes: Counter[str] = Counter()
    pops: Counter[str] = Counter()
    for insn in k.insns:
        p, q = I.token_queues(insn)
        pops.update(p)
        pushes.update(q)
    return pushes, pops


def test_tokens_balance_per_queue() -> None:
    for v in (1, 2):
        pushes, pops = _tokens(_kernel(dict(SCHED, vthreads=v)))
        steps, tiles = 64, 32
        assert pushes["l2c"] == pops["l2c"] == steps
        assert pushes["c2l"] == steps and pops["c2l"] == steps - v
        assert pushes["c2s"] == pops["c2s"] == tiles
        assert pushes["s2c"] == tiles and pops["s2c"] == tiles - v


def test_padding_comes_from_the_bounds() -> None:
    k = _kernel()
    region = {t.name: t for t in k.tensors}
    base = region["data"].offset // CFG.entry_bytes("inp")
    loads = [i for i in k.insns if isinstance(i, I.MemInsn) and i.mem_type == I.MemType.INP]
    first = loads[0]  # tile (0, 0): top-left corner of channel block 0
    assert (first.y_pad_0, first.y_pad_1, first.x_pad_0, first.x_pad_1) == (1, 0, 1, 0)
    assert (first.y_size, first.x_size, first.x_stride) == (15, 15, 56)
    assert first.dram_base == base
    pads = {(i.y_pad_0, i.y_pad_1, i.x_pad_0, i.x_pad_1) for i in loads}
    assert pads == {(a, b, c, d) for a, b in ((1, 0), (0, 0), (0, 1))
                    for c, d in ((1, 0), (0, 0), (0, 1))}


def test_two_vthreads_interleave_loads_ahead_of_compute() -> None:
    """With two threads step k+1's loads come before step k's GEMM in the stream; with one,
    after it."""
    for v in (1, 2):
        k = _kernel(dict(SCHED, vthreads=v))
        ready = [pc for pc, i in enumerate(k.insns) if isinstance(i, I.MemInsn) and i.push_next
                 and i.unit == "load"]  # the last load of each step
        gemms = [pc for pc, i in enumerate(k.insns) if isinstance(i, I.GemmInsn) and not i.reset]
        assert len(ready) == len(gemms) == 64
        ahead = [ready[s + 1] < gemms[s] for s in range(63)]
        assert all(ahead) if v == 2 else not any(ahead)


def _overlap(res: rt.RunResult) -> int:
    assert res.timeline is not None
    loads = [(a, b) for u, kind, a, b in res.timeline if u == "load" and kind == "busy"]
    comp = [(a, b) for u, kind, a, b in res.timeline if u == "compute" and kind == "busy"]
    return sum(max(0, min(b, d) - max(a, c)) for a, b in loads for c, d in comp)


def test_latency_hiding_overlaps_load_and_compute() -> None:
    wkl = Conv2dWorkload(1, 14, 14, 64, 64, 3, 3, 1, 1, 1, 1)
    x, w, b = conv_case(wkl, 1)
    sched = default_schedule(wkl, CFG, vthreads=2)
    dev = rt.device("fsim", cfg=CFG)
    results = {}
    for v in (1, 2):
        k = build_qconv2d(wkl, w, b, 8, False, CFG, schedule=dict(sched, vthreads=v))
        from tessera.hw import layout
        _, results[v] = k.run(dev, {"data": layout.pack_activation(x, CFG)}, timeline=True)
    assert _overlap(results[2]) > 2 * _overlap(results[1])
    assert results[2].cycles < results[1].cycles


def test_kernel_runs_at_any_region_and_reuses_its_constants() -> None:
    wkl = Conv2dWorkload(1, 6, 6, 8, 8, 3, 3, 1, 1, 1, 1)
    small = HwConfig.small()
    dev = rt.device("fsim", cfg=small)
    dev.alloc(5 * 4096)
    y1, _, k = check_conv(wkl, small, dev, seed=3)
    region = k.load(dev)
    x, w, b = conv_case(wkl, 3)
    from tessera.hw import layout
    for _ in range(2):
        outs, _ = k.run(dev, {"data": layout.pack_activation(x, small)}, region=region)
        y = layout.unpack_activation(outs["out"], (1, 8, 6, 6), small, "out")
        np.testing.assert_array_equal(y, y1)


def test_knob_space_and_default_schedule_are_legal() -> None:
    space = knob_space(RESNET18["C2"], CFG)
    assert space == {"tile_n": (1,), "tile_oc": (1, 2, 4), "tile_h": (1, 2, 4, 7, 8, 14, 28, 56),
                     "tile_w": (1, 2, 4, 7, 8, 14, 28, 56), "tile_ic": (1, 2, 4),
                     "vthreads": (1, 2)}
    for wkl in RESNET18.values():
        for v in (1, 2):
            sched = default_schedule(wkl, CFG, vthreads=v)
            assert sched["vthreads"] == v
            assert all(sched[k] in vals for k, vals in knob_space(wkl, CFG).items())


def test_kernel_meta_records_the_te_schedule() -> None:
    """The trace names the storage scopes, tile splits, vthread, pragmas and tensorize (the
    exact print format is the tensor compiler's)."""
    k = _kernel()
    lines = k.meta["te_schedule"].splitlines()
    for tokens in (("cache_write", "res_gem", "'acc_buffer'"),
                   ("cache_read", "'data_pad'", "'inp_buffer'"),  # the padding stage
                   ("cache_read", "'kernel'", "'wgt_buffer'"),
                   ("tensorize", "'b.c'", "'gemm'"),
                   ("split", "'ic'", "factor=2"),
                   ("split", "'i2'", "factor=14"),
                   ("bind", "'vthread'"),
                   ("data_pad.inp_buffer", "pragma", "'dma_copy'"),
                   ("res_add", "compute_at", "'res'"),
                   ("res_add", "set_scope", "'acc_buffer'"),
                   ("res_min", "pragma", "'alu'")):
        assert any(all(t in line for t in tokens) for line in lines), tokens
    assert k.meta["schedule"] == SCHED and k.meta["macs"] == RESNET18["C2"].macs
    assert k.meta["workload"]["in_channels"] == 64


def test_verifier_rejects_broken_kernels() -> None:
    import dataclasses
    import re

    import pytest

    from tessera.compiler.errors import InternalError
    from tessera.compiler.vta.verify import verify_kernel

    k = _kernel()
    verify_kernel(k)
    pc = next(i for i, x in enumerate(k.insns)
              if isinstance(x, I.MemInsn) and x.mem_type == I.MemType.INP)
    insns = list(k.insns)
    insns[pc] = dataclasses.replace(insns[pc], dram_base=insns[pc].dram_base + 10**5)
    with pytest.raises(InternalError, match=re.escape(
            f"kernel 'c2': instruction {pc}: DRAM bytes [")):
        verify_kernel(dataclasses.replace(k, insns=tuple(insns)))
    gpc = next(i for i, x in enumerate(k.insns) if isinstance(x, I.GemmInsn) and not x.reset)
    insns = list(k.insns)
    insns[gpc] = dataclasses.replace(insns[gpc], iter_out=200)
    with pytest.raises(InternalError, match=re.escape(
            f"kernel 'c2': instruction {gpc}: dst index must stay below 2048, not reach")):
        verify_kernel(dataclasses.replace(k, insns=tuple(insns)))
    insns = [dataclasses.replace(x, push_prev=False) if isinstance(x, I.GemmInsn) else x
             for x in k.insns]
    with pytest.raises(InternalError, match=re.escape(
            "kernel 'c2': queue c2l must balance (pops <= pushes <= pops + 64), not 0 pushes "
            "and 62 pops")):
        verify_kernel(dataclasses.replace(k, insns=tuple(insns)))


def test_estimator_tracks_the_fsim_cycle_model() -> None:
    """The default-schedule estimator within 3% of fsim's cycles, threads on and off."""
    from tessera.compiler.vta import estimate_cycles

    dev = rt.device("fsim", cfg=CFG)
    for name in ("C5", "C9", "C10"):
        wkl = RESNET18[name]
        for v in (1, 2):
            sched = default_schedule(wkl, CFG, vthreads=v)
            _, res, _ = check_conv(wkl, CFG, dev, schedule=sched, relu=True)
            est = estimate_cycles(wkl, CFG, sched)
            assert abs(est - res.cycles) <= 0.03 * res.cycles, (name, v, est, res.cycles)
