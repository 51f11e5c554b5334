"""TimedAxiRam: cocotbext-axi's RAM storage behind the DRAM timing contract.

cocotbext-axi's ``AxiRam`` answers with whatever timing its internal queues give (no latency
or bandwidth knob), so its cycle counts could not match the native harness. This class keeps
cocotbext-axi's pieces -- ``AxiBus`` for the signals and ``Memory`` (sparse) for the bytes,
with AxiRam's ``read``/``write``/``hexdump`` API -- and drives the five channels from
``tessera.sim.dram_timing.DramTiming``, the same state machine as the C++ model.

Per cycle: on the falling edge the outputs are driven from the state; in the ReadOnly phase
(everything settled, before the rising edge) the handshakes are sampled and the state
advances.
"""

from __future__ import annotations

from typing import Any

import cocotb
from cocotb.triggers import FallingEdge, ReadOnly
from cocotbext.axi import AxiBus
from cocotbext.axi.memory import Memory

from tessera.sim.dram_timing import DramTiming, Request


class TimedAxiRam(Memory):
    """An AXI4 slave RAM with a read/write latency and a data-bus width (from the bus)."""

    def __init__(self, bus: AxiBus, clock: Any, size: int, read_latency: int,
                 write_latency: int) -> None:
        super().__init__(size)
        self.bus = bus
        self.clock = clock
        self.bus_bytes = len(bus.read.r.rdata) // 8
        self.model = DramTiming(self, self.bus_bytes, read_latency, write_latency)
        self._task = cocotb.start_soon(self._serve())

    def stop(self) -> None:
        self._task.cancel()

    async def _serve(self) -> None:
        ar_ch, r_ch = self.bus.read.ar, self.bus.read.r
        aw_ch, w_ch, b_ch = self.bus.write.aw, self.bus.write.w, self.bus.write.b
        model = self.model
        falling, settled = FallingEdge(self.clock), ReadOnly()
        last: dict[str, int] = {}
        outs = {
            "arready": ar_ch.arready, "awready": aw_ch.awready, "wready": w_ch.wready,
            "rvalid": r_ch.rvalid, "rdata": r_ch.rdata, "rlast": r_ch.rlast,
            "rresp": r_ch.rresp, "rid": r_ch.rid, "bvalid": b_ch.bvalid,
            "bresp": b_ch.bresp, "bid": b_ch.bid,
        }
        while True:
            await falling
            o = model.outputs()
            for name, sig in outs.items():
                value = getattr(o, name)
                if last.get(name) != value:
                    sig.value = value
                    last[name] = value
            await settled
            ar = aw = None
            w = None
            if o.arready and ar_ch.arvalid.value:
                ar = Request(int(ar_ch.araddr.value), int(ar_ch.arlen.value),
                             int(ar_ch.arsize.value), int(ar_ch.arburst.value),
                             int(ar_ch.arid.value))
            if o.awready and aw_ch.awvalid.value:
                aw = Request(int(aw_ch.awaddr.value), int(aw_ch.awlen.value),
                             int(aw_ch.awsize.value), int(aw_ch.awburst.value),
                             int(aw_ch.awid.value))
            if o.wready and w_ch.wvalid.value:
                w = (int(w_ch.wdata.value), int(w_ch.wstrb.value))
            r = bool(o.rvalid and r_ch.rready.value)
            b = bool(o.bvalid and b_ch.bready.value)
            model.step(ar, r, aw, w, b)
