"""The three units, their token queues, deadlock detection and the cycle timeline (normative).

Fetch dispatches instructions in program order, up to and including the first FINISH (the
rest of the stream is dropped), into per-unit command queues (``Insn.unit``: load, compute or
store); an instruction is dispatched once fetch has read it (``cycles.fetch_times``) and its
unit's queue has room. A queue holds ``cmd_depth`` instructions (16, as in the RTL; None:
unbounded) that its unit has not taken yet; an idle unit takes the head at once and then waits
there for its tokens, so a full queue stalls fetch, and with it every unit, until the unit
takes one. Each unit runs its queue in order. For one instruction a unit

1. pops one token from each queue named by its pop flags (``isa.token_queues``); a pop from an
   empty queue waits;
2. executes the instruction (atomically, at its start cycle) and stays busy for
   ``cycles.insn_cycles``;
3. pushes one token to each queue named by its push flags; a push to a queue holding
   ``cfg.token_depth`` tokens waits until the other side pops one.

Events are processed in cycle order (ties: fetch, load, compute, store), so instructions execute in
the order of their start cycles; a program whose tokens order every conflicting buffer access
gives the same result under any timing. When FINISH has retired and the load and store queues
have drained, the run ends. When neither fetch nor any unit can make progress before that, the
run is deadlocked: ``DeadlockError`` names each blocked instruction, its unit and the queue it
waits on (and the instruction fetch cannot dispatch, if any). Every step dispatches, starts or
pushes for one instruction, so the loop always terminates.

Counters (``tessera.hw.regmap.COUNTERS``): ``<unit>_busy`` counts cycles executing (DMA
included), ``<unit>_stall`` cycles waiting on a token (empty queue or full queue; time waiting
for fetch is idle, not stall); ``fetch_stall`` counts cycles fetch held a read instruction
because its unit's command queue was full; ``cycles`` is the cycle at which the last unit
finished.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from tessera.hw import isa as I
from tessera.hw.config import HwConfig
from tessera.sim.fsim.cycles import alu_issue_cycles, fetch_times, gemm_issue_cycles, insn_cycles
from tessera.sim.fsim.describe import where
from tessera.sim.fsim.errors import DeadlockError
from tessera.sim.fsim.tokens import token_queues

EXEC_UNITS = ("load", "compute", "store")
CMD_DEPTH = 16  # command-queue depth of the RTL (hw/rtl/tessera_top.v: CMD_LOG_DEPTH = 4)


@dataclass
class _Unit:
    name: str
    queue: deque[int] = field(default_factory=deque)
    free_at: int = 0
    busy: int = 0
    stall: int = 0
    pending: tuple[int, int] | None = None  # (pc, end cycle) waiting to push its tokens
    order: list[int] = field(default_factory=list)  # pcs dispatched to this unit, in order
    taken: list[int] = field(default_factory=list)  # cycle each was taken from the queue


@dataclass
class Schedule:
    """What the scheduler measured."""

    cycles: int
    counters: dict[str, int]
    timeline: list[tuple[str, str, int, int]] | None
    insn_spans: list[tuple[int, str, int, int]] | None  # (pc, unit, start, end)


class _Queues:
    """Push and pop cycles of each token queue; the k-th pop consumes the k-th push."""

    def __init__(self, depth: int) -> None:
        self.depth = depth
        self.pushes: dict[str, list[int]] = {q: [] for q in I.QUEUES}
        self.pops: dict[str, list[int]] = {q: [] for q in I.QUEUES}

    def pop_ready(self, q: str) -> int | None:
        """Cycle from which a pop can happen, or None if no token is there."""
        k = len(self.pops[q])
        return self.pushes[q][k] if k < len(self.pushes[q]) else None

    def push_ready(self, q: str) -> int | None:
        """Cycle from which a push can happen, or None while the queue is full."""
        k = len(self.pushes[q]) - self.depth
        if k < 0:
            return 0
        return self.pops[q][k] if k < len(self.pops[q]) else None


def run_schedule(
    cfg: HwConfig,
    insns: Sequence[I.Insn],
    finish_pc: int,
    execute: Callable[[int, I.Insn], None],
    timeline: bool = False,
    cmd_depth: int | None = CMD_DEPTH,
) -> Schedule:
    """Run ``insns[: finish_pc + 1]`` through the units, calling ``execute(pc, insn)`` at each
    instruction's start, and return the cycle counts."""
    count = finish_pc + 1
    ready, bursts = fetch_times(cfg, count)
    units = {name: _Unit(name) for name in EXEC_UNITS}
    tokens = {pc: token_queues(insns[pc]) for pc in range(count)}
    queues = _Queues(cfg.token_depth)
    fetch = _Fetch(cmd_depth)
    tl: list[tuple[str, str, int, int]] | None = None
    spans: list[tuple[int, str, int, int]] | None = None
    if timeline:
        tl = [("fetch", "busy", a, b) for a, b in bursts]
        spans = []
    gemm = alu = done = 0
    finished = False

    while True:
        best: tuple[int, int, _Unit | None] | None = None
        if fetch.next < count:
            t = fetch.candidate(units[insns[fetch.next].unit], ready[fetch.next])
            if t is not None:
                best = (t, -1, None)
        for order, unit in enumerate(units.values()):
            t = _candidate(unit, tokens, queues, fetch.dispatch)
            if t is not None and (best is None or (t, order) < best[:2]):
                best = (t, order, unit)
        if best is None:
            break
        t, _, chosen = best
        if chosen is None:  # fetch dispatches the next instruction
            pc = fetch.next
            unit = units[insns[pc].unit]
            waited = t - max(ready[pc], fetch.last)
            if waited > 0 and tl is not None:
                tl.append(("fetch", "stall", t - waited, t))
            fetch.stall += waited
            fetch.dispatch.append(t)
            fetch.last = t
            fetch.next += 1
            unit.queue.append(pc)
            unit.order.append(pc)
            continue
        unit = chosen
        if unit.pending is not None:  # push the tokens of a finished instruction
            pc, end = unit.pending
            for q in tokens[pc][1]:
                queues.pushes[q].append(t)
            if t > end:
                unit.stall += t - end
                if tl is not None:
                    tl.append((unit.name, "stall", end, t))
            unit.pending = None
            unit.free_at = t
            continue
        pc = unit.queue.popleft()
        insn = insns[pc]
        arrive = max(unit.free_at, fetch.dispatch[pc])
        unit.taken.append(arrive)
        for q in tokens[pc][0]:
            queues.pops[q].append(t)
        if t > arrive:
            unit.stall += t - arrive
            if tl is not None:
                tl.append((unit.name, "stall", arrive, t))
        execute(pc, insn)
        cost = insn_cycles(cfg, insn)
        end = t + cost
        unit.busy += cost
        if tl is not None and spans is not None:
            tl.append((unit.name, "busy", t, end))
            spans.append((pc, unit.name, t, end))
        if isinstance(insn, I.GemmInsn):
            gemm += gemm_issue_cycles(insn)
        elif isinstance(insn, I.AluInsn):
            alu += alu_issue_cycles(insn)
        done += 1
        finished = finished or pc == finish_pc
        unit.free_at = end
        if tokens[pc][1]:
            unit.pending = (pc, end)

    blocked = [u for u in units.values() if u.queue or u.pending is not None]
    if blocked or not finished or fetch.next < count:
        raise _deadlock(blocked, insns, tokens, queues, fetch)
    fetch_busy = sum(b - a for a, b in bursts)
    cycles = max([u.free_at for u in units.values()] + [bursts[-1][1] if bursts else 0])
    counters = {"cycles": cycles, "fetch_busy": fetch_busy, "fetch_stall": fetch.stall}
    for u in units.values():
        counters[f"{u.name}_busy"] = u.busy
        counters[f"{u.name}_stall"] = u.stall
    counters.update(gemm_cycles=gemm, alu_cycles=alu, insn_done=done)
    return Schedule(cycles, counters, tl, spans)


class _Fetch:
    """Dispatch state: the next instruction, when each was dispatched, and command-queue
    room (a unit's queue holds at most ``depth`` instructions the unit has not taken yet)."""

    def __init__(self, depth: int | None) -> None:
        self.depth = depth
        self.next = 0
        self.last = 0
        self.stall = 0
        self.dispatch: list[int] = []

    def candidate(self, unit: _Unit, arrived: int) -> int | None:
        t = max(arrived, self.last)
        j = len(unit.order)  # this instruction's position in the unit's stream
        if self.depth is None or j < self.depth:
            return t
        taken = _taken(unit, j - self.depth, self.dispatch)
        return None if taken is None else max(t, taken)


def _taken(unit: _Unit, j: int, dispatch: list[int]) -> int | None:
    """When the unit took its ``j``-th instruction out of its command queue, if it has: an
    idle unit takes its queue's head at once (and then waits there for its tokens)."""
    if j < len(unit.taken):
        return unit.taken[j]
    if j == len(unit.taken) and unit.pending is None and unit.queue:
        return max(unit.free_at, dispatch[unit.queue[0]])
    return None


def _candidate(
    unit: _Unit,
    tokens: dict[int, tuple[tuple[str, ...], tuple[str, ...]]],
    queues: _Queues,
    dispatch: list[int],
) -> int | None:
    """The cycle of the unit's next step, or None if it cannot make one now."""
    if unit.pending is not None:
        pc, end = unit.pending
        t = end
        for q in tokens[pc][1]:
            r = queues.push_ready(q)
            if r is None:
                return None
            t = max(t, r)
        return t
    if not unit.queue:
        return None
    pc = unit.queue[0]
    t = max(unit.free_at, dispatch[pc])
    for q in tokens[pc][0]:
        r = queues.pop_ready(q)
        if r is None:
            return None
        t = max(t, r)
    return t


def _deadlock(
    blocked: list[_Unit],
    insns: Sequence[I.Insn],
    tokens: dict[int, tuple[tuple[str, ...], tuple[str, ...]]],
    queues: _Queues,
    fetch: _Fetch,
) -> DeadlockError:
    parts: list[str] = []
    first: int | None = None
    for unit in blocked:
        if unit.pending is not None:
            pc = unit.pending[0]
            q = next(q for q in tokens[pc][1] if queues.push_ready(q) is None)
            what = f"waits for room in a full {q} queue that no pending instruction will drain"
        else:
            pc = unit.queue[0]
            q = next(q for q in tokens[pc][0] if queues.pop_ready(q) is None)
            what = f"waits on an empty {q} queue that no pending instruction will fill"
        name = where(pc, insns[pc])[:-1]  # "instruction 3 (GEMM" ...
        parts.append(f"{name} on {unit.name}) {what}")
        first = pc if first is None else min(first, pc)
    if fetch.next < len(tokens):
        pc = fetch.next
        unit = insns[pc].unit
        parts.append(f"fetch cannot dispatch {where(pc, insns[pc])}: the {unit} command queue "
                     f"is full ({fetch.depth} instructions)")
        first = pc if first is None else min(first, pc)
    return DeadlockError("deadlock: " + "; ".join(parts), first)
