"""Replaying a schedule trace on fresh tensors (loops and stages are named in the trace)."""

from __future__ import annotations

from tessera.compiler.errors import ScheduleError
from tessera.compiler.tensor.schedule import Schedule, TraceStep, create_schedule
from tessera.compiler.tensor.tensor import Tensor, thread_axis


def _find_tensor(sch: Schedule, name: str) -> Tensor:
    from tessera.compiler.tensor.schedule import op_inputs

    for st in sch.stages:
        if st.name == name:
            return Tensor(st.op)
        for t in op_inputs(st.op):
            if t.name == name:
                return t
    raise ScheduleError(f"replay: tensor {name!r} must exist in the schedule, not be unknown")


def replay(trace: list[TraceStep], outputs: Tensor | list[Tensor]) -> Schedule:
    """Apply ``trace`` (``Schedule.trace`` of another schedule) to a fresh schedule."""
    sch = create_schedule(outputs)
    for step in trace:
        kw = dict(step.kwargs)
        if step.primitive == "cache_read":
            name, scope, readers = step.args
            sch.cache_read(_find_tensor(sch, name), scope,
                           [Tensor(sch[r].op) for r in readers])
            continue
        st = sch[step.stage]
        if step.primitive == "cache_write":
            sch.cache_write(Tensor(st.op), step.args[0])
        elif step.primitive == "rfactor":
            sch.rfactor(Tensor(st.op), st._leaf(step.args[0], "rfactor"))
        elif step.primitive == "compute_at":
            st.compute_at(sch[step.args[0]], step.args[1])
        elif step.primitive == "compute_inline":
            st.compute_inline()
        elif step.primitive == "bind":
            st.bind(step.args[0], thread_axis(step.args[1]))
        else:
            getattr(st, step.primitive)(*step.args, **kw)
    return sch
