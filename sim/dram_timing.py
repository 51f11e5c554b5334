"""The DRAM model's timing contract, as a cycle-level state machine in Python.

Both DRAM models implement exactly this machine, so ``rtl`` and ``rtl-fast`` report the same
cycle counts: this class (used by the cocotb bench through ``TimedAxiRam``) and its C++ twin
in ``sim/native/harness.cpp``. Per clock cycle ``now``:

1. Outputs are a function of the state only (Moore):
   ``arready = len(read bursts) < 4``, ``awready = len(write bursts) < 4``,
   ``wready = a write burst is waiting for data``,
   ``rvalid = the head read burst's ready cycle <= now`` (data: the bus word of its next beat),
   ``bvalid = the head write response's ready cycle <= now``.
2. The handshakes of the cycle (valid and ready both high just before the rising edge) update
   the state: an AR handshake queues a read burst whose first beat may appear
   ``max(1, read_latency)`` cycles later; then one beat per cycle while RREADY is high (bursts
   in order, back to back). A W handshake writes the beat (WSTRB lanes) into memory; after the
   last beat, the B response appears ``max(1, write_latency)`` cycles later.
3. A burst that is not INCR, is wider than the bus, crosses a 4 KiB boundary or leaves the
   memory answers SLVERR (reads return zeros, writes are dropped).

Beat addresses follow AXI (and cocotbext-axi's AxiRam): beat ``n`` of a burst of size ``s``
covers the bus word holding ``align(addr, 2**s) + n * 2**s``.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Protocol

READ_QUEUE_DEPTH = 4
WRITE_QUEUE_DEPTH = 4
RESP_OKAY = 0
RESP_SLVERR = 2
BURST_INCR = 1


class ByteMemory(Protocol):
    """Byte storage: cocotbext-axi's ``Memory`` has this interface."""

    size: int

    def read(self, address: int, length: int) -> bytes: ...

    def write(self, address: int, data: bytes) -> None: ...


@dataclass
class Burst:
    addr: int
    beats: int
    step: int
    id: int
    ready: int
    err: bool
    beat: int = 0

    def word(self, bus_bytes: int) -> int:
        return (self.addr + self.beat * self.step) & ~(bus_bytes - 1)


@dataclass(frozen=True)
class Outputs:
    arready: int
    awready: int
    wready: int
    rvalid: int
    rdata: int
    rlast: int
    rresp: int
    rid: int
    bvalid: int
    bresp: int
    bid: int


@dataclass(frozen=True)
class Request:
    """An AR or AW channel beat: the address fields of a burst."""

    addr: int
    len: int
    size: int
    burst: int
    id: int


class DramTiming:
    """The AXI4 slave's state machine over a byte memory (see the module docstring)."""

    def __init__(self, mem: ByteMemory, bus_bytes: int, read_latency: int,
                 write_latency: int) -> None:
        self.mem = mem
        self.bus_bytes = bus_bytes
        self.read_latency = max(1, read_latency)
        self.write_latency = max(1, write_latency)
        self.now = 0
        self.rq: deque[Burst] = deque()
        self.wq: deque[Burst] = deque()
        self.bq: deque[tuple[int, int, int]] = deque()  # (id, ready, resp)
        self.written: set[int] = set()  # 4 KiB pages written by the design

    def reset(self) -> None:
        self.rq.clear()
        self.wq.clear()
        self.bq.clear()

    def _burst(self, req: Request, ready: int) -> Burst:
        step = 1 << req.size
        addr = req.addr & ~(step - 1)
        beats = req.len + 1
        total = beats * step
        last_word = (addr + total - 1) & ~(self.bus_bytes - 1)
        err = (
            req.burst != BURST_INCR
            or step > self.bus_bytes
            or (addr >> 12) != ((addr + total - 1) >> 12)
            or last_word + self.bus_bytes > self.mem.size
        )
        return Burst(addr, beats, step, req.id, ready, err)

    def outputs(self) -> Outputs:
        rvalid = rdata = rlast = rresp = rid = 0
        if self.rq and self.rq[0].ready <= self.now:
            head = self.rq[0]
            rvalid, rid = 1, head.id
            rlast = int(head.beat + 1 == head.beats)
            if head.err:
                rresp = RESP_SLVERR
            else:
                word = head.word(self.bus_bytes)
                rdata = int.from_bytes(self.mem.read(word, self.bus_bytes), "little")
        bvalid = bresp = bid = 0
        if self.bq and self.bq[0][1] <= self.now:
            bid, _, bresp = self.bq[0]
            bvalid = 1
        return Outputs(
            arready=int(len(self.rq) < READ_QUEUE_DEPTH),
            awready=int(len(self.wq) < WRITE_QUEUE_DEPTH),
            wready=int(bool(self.wq)),
            rvalid=rvalid, rdata=rdata, rlast=rlast, rresp=rresp, rid=rid,
            bvalid=bvalid, bresp=bresp, bid=bid,
        )

    def step(self, ar: Request | None, r: bool, aw: Request | None,
             w: tuple[int, int] | None, b: bool) -> None:
        """Apply this cycle's handshakes (``w``: (data, strobe)) and advance one cycle."""
        if r:
            head = self.rq[0]
            head.beat += 1
            if head.beat == head.beats:
                self.rq.popleft()
        if ar is not None:
            self.rq.append(self._burst(ar, self.now + self.read_latency))
        if w is not None:
            head = self.wq[0]
            if not head.err:
                data, strobe = w
                raw = data.to_bytes(self.bus_bytes, "little")
                word = head.word(self.bus_bytes)
                full = (1 << self.bus_bytes) - 1
                if strobe & full == full:
                    self.mem.write(word, raw)
                else:
                    for i in range(self.bus_bytes):
                        if strobe >> i & 1:
                            self.mem.write(word + i, raw[i : i + 1])
                self.written.add(word >> 12)
            head.beat += 1
            if head.beat == head.beats:
                resp = RESP_SLVERR if head.err else RESP_OKAY
                self.bq.append((head.id, self.now + self.write_latency, resp))
                self.wq.popleft()
        if aw is not None:
            self.wq.append(self._burst(aw, 0))
        if b:
            self.bq.popleft()
        self.now += 1
