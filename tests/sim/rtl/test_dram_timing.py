"""The DRAM timing contract (tessera.sim.dram_timing), cycle by cycle, without a simulator."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera.sim.dram_timing import READ_QUEUE_DEPTH, DramTiming, Request


class Bytes:
    """A plain byte memory with the interface the model needs."""

    def __init__(self, size: int) -> None:
        self.data = bytearray(size)
        self.size = size

    def read(self, address: int, length: int) -> bytes:
        return bytes(self.data[address : address + length])

    def write(self, address: int, data: bytes) -> None:
        self.data[address : address + len(data)] = data


def model(read_latency: int = 32, write_latency: int = 32, bus_bytes: int = 8,
          size: int = 1 << 16) -> DramTiming:
    mem = Bytes(size)
    mem.data[:] = bytes(k % 251 for k in range(size))
    return DramTiming(mem, bus_bytes, read_latency, write_latency)


def read_burst(m: DramTiming, addr: int, beats: int, size: int = 3) -> list[tuple[int, int]]:
    """Issue one read burst now and take every beat as soon as it is valid: (cycle, data)."""
    out: list[tuple[int, int]] = []
    ar: Request | None = Request(addr, beats - 1, size, 1, 0)
    start = m.now
    while len(out) < beats and m.now - start < 10_000:
        o = m.outputs()
        if o.rvalid:
            out.append((m.now - start, o.rdata))
        m.step(ar if o.arready else None, bool(o.rvalid), None, None, False)
        ar = None
    return out


@pytest.mark.parametrize("latency", [1, 2, 32, 100])
def test_first_read_beat_comes_latency_cycles_after_the_handshake(latency: int) -> None:
    m = model(read_latency=latency)
    beats = read_burst(m, 0x100, 4)
    assert [c for c, _ in beats] == [latency, latency + 1, latency + 2, latency + 3]
    assert beats[0][1] == int.from_bytes(bytes(k % 251 for k in range(0x100, 0x108)), "little")


def test_zero_latency_still_answers_a_cycle_later() -> None:
    assert [c for c, _ in read_burst(model(read_latency=0), 0, 2)] == [1, 2]


def test_outstanding_reads_stream_back_to_back() -> None:
    m = model(read_latency=10)
    seen = []
    for n in range(6):
        o = m.outputs()
        if n < READ_QUEUE_DEPTH:
            assert o.arready
        ar = Request(0x40 * n, 1, 3, 1, 0) if o.arready and n < READ_QUEUE_DEPTH else None
        m.step(ar, False, None, None, False)
    assert not m.outputs().arready  # four bursts outstanding: the queue is full
    for _ in range(40):
        o = m.outputs()
        if o.rvalid:
            seen.append(m.now)
        m.step(None, bool(o.rvalid), None, None, False)
    # 4 bursts x 2 beats, the first at cycle 10, then one beat per cycle with no gaps.
    assert seen == list(range(10, 18))


def test_write_response_comes_latency_cycles_after_the_last_beat() -> None:
    m = model(write_latency=7)
    m.step(None, False, Request(0x200, 1, 3, 1, 1), None, False)  # AW at cycle 0
    assert m.outputs().wready
    m.step(None, False, None, ((1 << 64) - 1, 0xFF), False)  # beat 0 at cycle 1
    m.step(None, False, None, (0x1122334455667788, 0x0F), False)  # last beat at cycle 2
    cycles = []
    for _ in range(20):
        o = m.outputs()
        if o.bvalid:
            cycles.append((m.now, o.bid, o.bresp))
        m.step(None, False, None, None, bool(o.bvalid))
    assert cycles == [(9, 1, 0)]
    assert m.mem.read(0x200, 8) == b"\xff" * 8
    # strobe 0x0F: only the low four bytes of the second beat are written
    assert m.mem.read(0x208, 8) == bytes([0x88, 0x77, 0x66, 0x55]) + bytes(
        k % 251 for k in range(0x20C, 0x210))
    assert m.written == {0}


@pytest.mark.parametrize(
    "req",
    [
        Request(0xFF8, 1, 3, 1, 0),        # crosses 4 KiB
        Request((1 << 16) - 8, 1, 3, 1, 0),  # leaves the memory
        Request(0x0, 1, 3, 2, 0),          # WRAP
        Request(0x0, 1, 4, 1, 0),          # 16-byte beats on an 8-byte bus
    ],
)
def test_bad_bursts_answer_slverr_with_zero_data(req: Request) -> None:
    m = model(read_latency=1)
    m.step(req, False, None, None, False)
    o = m.outputs()
    assert (o.rvalid, o.rresp, o.rdata) == (1, 2, 0)


@given(addr=st.integers(0, (1 << 16) - 8 * 16), beats=st.integers(1, 16),
       latency=st.integers(0, 40))
def test_any_legal_burst_returns_memory_in_order(addr: int, beats: int, latency: int) -> None:
    addr &= ~7
    if (addr >> 12) != ((addr + 8 * beats - 1) >> 12):
        addr &= ~0xFFF
    m = model(read_latency=latency)
    got = read_burst(m, addr, beats)
    assert [c for c, _ in got] == [max(1, latency) + k for k in range(beats)]
    want = [int.from_bytes(m.mem.read(addr + 8 * k, 8), "little") for k in range(beats)]
    assert [d for _, d in got] == want
