"""tessera_token_queue and tessera_fifo against a Python model: push, pop, full, empty, count.

The pytest wrapper builds each module as the toplevel and runs only its own test.
"""

from __future__ import annotations

import random
from collections import deque
from typing import Any

import cocotb
from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, FallingEdge, RisingEdge


async def _reset(dut: Any) -> None:
    Clock(dut.clk_i, 10, unit="ns").start()
    dut.rst_ni.value = 0
    dut.clear_i.value = 0
    dut.push_i.value = 0
    dut.pop_i.value = 0
    await ClockCycles(dut.clk_i, 3)
    dut.rst_ni.value = 1
    await FallingEdge(dut.clk_i)


@cocotb.test()
async def token_queue_counts_tokens(dut: Any) -> None:
    depth = 1 << int(dut.LOG_DEPTH.value)
    await _reset(dut)
    model = 0
    rnd = random.Random(1)
    assert int(dut.empty_o.value) == 1 and int(dut.full_o.value) == 0
    for step in range(2000):
        # bias towards filling, then towards draining, so both ends are reached
        bias = 0.8 if (step // 200) % 2 == 0 else 0.2
        push = rnd.random() < bias
        pop = rnd.random() < 1 - bias
        dut.push_i.value = int(push)
        dut.pop_i.value = int(pop)
        full, empty = model == depth, model == 0
        assert int(dut.full_o.value) == int(full), f"step {step}: full must be {full}"
        assert int(dut.empty_o.value) == int(empty), f"step {step}: empty must be {empty}"
        model += int(push and not full) - int(pop and not empty)
        await RisingEdge(dut.clk_i)
        await FallingEdge(dut.clk_i)
        assert int(dut.count_o.value) == model, f"step {step}: count must be {model}"
    dut.clear_i.value = 1
    await RisingEdge(dut.clk_i)
    await FallingEdge(dut.clk_i)
    assert int(dut.count_o.value) == 0 and int(dut.empty_o.value) == 1


@cocotb.test()
async def fifo_keeps_order(dut: Any) -> None:
    depth = 1 << int(dut.LOG_DEPTH.value)
    width = int(dut.WIDTH.value)
    await _reset(dut)
    model: deque[int] = deque()
    rnd = random.Random(2)
    for step in range(2000):
        bias = 0.75 if (step // 100) % 2 == 0 else 0.25
        push = rnd.random() < bias
        pop = rnd.random() < 1 - bias
        data = rnd.randrange(1 << width)
        dut.push_i.value = int(push)
        dut.pop_i.value = int(pop)
        dut.wdata_i.value = data
        full, empty = len(model) == depth, not model
        assert int(dut.full_o.value) == int(full), f"step {step}: full must be {full}"
        assert int(dut.empty_o.value) == int(empty), f"step {step}: empty must be {empty}"
        if not empty:
            assert int(dut.rdata_o.value) == model[0], f"step {step}: head must be {model[0]}"
        if pop and not empty:
            model.popleft()
        if push and not full:
            model.append(data)
        await RisingEdge(dut.clk_i)
        await FallingEdge(dut.clk_i)
        assert int(dut.count_o.value) == len(model)
