"""The devices' DRAM allocator (``Device.alloc``/``free``): first fit over the gaps between
live buffers. Freed space is reused, so a model whose constants stay loaded runs any number of
times in bounded DRAM, and the same allocations get the same addresses (cycle counts depend on
DMA addresses, so they stay reproducible run after run)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import tessera.runtime as rt
from tessera.hw import isa as I
from tessera.hw.config import HwConfig
from tessera.runtime.device import ALIGN, DeviceError, Program

SMALL = HwConfig.small()


def test_a_per_run_buffer_beside_a_loaded_region_gets_the_same_address_every_run() -> None:
    dev = rt.device("fsim", cfg=SMALL, dram_bytes=1 << 16)
    region = dev.alloc(10_000)  # a layer's constants, loaded once
    addrs = set()
    for _ in range(100):  # 100 runs of 4 KiB streams would not fit a bump allocator
        buf = dev.alloc(4096)
        addrs.add(buf.addr)
        dev.free(buf)
    assert addrs == {-(-(region.addr + region.nbytes) // ALIGN) * ALIGN}
    prog = Program((I.AluInsn(alu_op=I.AluOp.ADD, use_imm=True, imm=1), I.FinishInsn()), SMALL)
    for _ in range(2000):  # each run allocates, writes and frees its instruction stream
        dev.run(prog)
    assert dev.alloc(64).addr < 1 << 15


def test_freed_gaps_are_reused_first_fit_and_aligned() -> None:
    dev = rt.device("fsim", cfg=SMALL, dram_bytes=1 << 16)
    a, b, c = dev.alloc(100), dev.alloc(300), dev.alloc(100)
    assert (a.addr, b.addr, c.addr) == (64, 192, 512)
    dev.free(b)
    assert dev.alloc(200).addr == 192  # the gap b left
    assert dev.alloc(100).addr == 640  # 448..548 would overlap c (512..612): after c
    with pytest.raises(DeviceError) as err:
        dev.alloc(1 << 16)
    assert str(err.value) == "fsim: out of DRAM: 65536 bytes requested, 64768 of 65536 left"
    dev.free(a)
    with pytest.raises(DeviceError) as err:
        dev.free(a)
    assert str(err.value) == "fsim: buffer at 0x40 is not allocated"


@given(st.lists(st.tuples(st.booleans(), st.integers(1, 5000), st.sampled_from([64, 128, 4096])),
                max_size=60))
def test_live_buffers_never_overlap(ops: list[tuple[bool, int, int]]) -> None:
    dev = rt.device("fsim", cfg=SMALL, dram_bytes=1 << 18)
    live = []
    for free, size, align in ops:
        if free and live:
            dev.free(live.pop(size % len(live)))
            continue
        try:
            buf = dev.alloc(size, align)
        except DeviceError:
            continue
        assert buf.addr % align == 0 and buf.addr >= ALIGN
        assert buf.addr + buf.nbytes <= dev.dram_bytes
        live.append(buf)
        spans = sorted((x.addr, x.addr + x.nbytes) for x in live)
        assert all(e0 <= s1 for (_, e0), (s1, _) in zip(spans, spans[1:]))
