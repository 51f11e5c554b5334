"""Schedules: one Stage per compute operation (``stage.py``), in producer order, and the
trace of primitives applied to them.
"""

from __future__ import annotations

from tessera.compiler.errors import ScheduleError
from tessera.compiler.tensor.stage import Fuse, Split, Stage, TraceStep, op_inputs
from tessera.compiler.tensor.tensor import DATA_PAR, IterVar, Operation, Tensor


class Schedule:
    """Stages in producer-before-consumer order, plus the trace of primitives applied."""

    def __init__(self, outputs: list[Tensor]) -> None:
        from tessera.compiler.tensor.schedule_cache import collect_ops

        self.outputs = list(outputs)
        self.trace: list[TraceStep] = []
        self.stages: list[Stage] = []
        self._stage_of: dict[Operation, Stage] = {}
        for op in collect_ops(self.outputs):
            st = Stage(op, self)
            st.is_output = any(t.op is op for t in self.outputs)
            self.stages.append(st)
            self._stage_of[op] = st

    def __getitem__(self, t: Tensor | Operation | str) -> Stage:
        if isinstance(t, str):
            for st in self.stages:
                if st.name == t:
                    return st
            raise ScheduleError(f"schedule: stage name must be one of "
                                f"{', '.join(s.name for s in self.stages)}, not {t!r}")
        op = t.op if isinstance(t, Tensor) else t
        stage = self._stage_of.get(op)
        if stage is None:
            raise ScheduleError(f"schedule: tensor {op.name} must be computed by this schedule, "
                                f"not a placeholder or foreign tensor")
        return stage

    def stage_of(self, op: Operation) -> Stage | None:
        return self._stage_of.get(op)

    def reads(self, consumer: Stage, producer: Stage) -> bool:
        """Whether ``consumer`` reads ``producer``, directly or through inlined stages."""
        for t in self.inputs_of(consumer):
            st = self.stage_of(t.op)
            if st is producer or (st is not None and st.attach_type == "inline"
                                  and self.reads(st, producer)):
                return True
        return False

    def reads_within(self, parent: Stage, producer: Stage) -> bool:
        """Whether ``parent`` or a stage attached (transitively) inside it reads ``producer``."""
        if self.reads(parent, producer):
            return True
        return any(st.attach_stage is parent and st is not producer
                   and self.reads_within(st, producer) for st in self.stages)

    def inputs_of(self, st: Stage) -> list[Tensor]:
        return [st.read_redirect.get(t, t) for t in op_inputs(st.op)]

    def cache_read(self, tensor: Tensor, scope: str, readers: list[Tensor]) -> Tensor:
        from tessera.compiler.tensor.schedule_cache import cache_read

        return cache_read(self, tensor, scope, readers)

    def cache_write(self, tensor: Tensor, scope: str) -> Tensor:
        from tessera.compiler.tensor.schedule_cache import cache_write

        return cache_write(self, tensor, scope)

    def rfactor(self, tensor: Tensor, axis: IterVar) -> Tensor:
        from tessera.compiler.tensor.schedule_rfactor import rfactor

        return rfactor(self, tensor, axis)

    def trace_text(self) -> str:
        return "\n".join(str(s) for s in self.trace)

    def __repr__(self) -> str:
        return f"Schedule({', '.join(s.name for s in self.stages)})\n{self.trace_text()}"


def create_schedule(outputs: Tensor | list[Tensor]) -> Schedule:
    """A default schedule (each stage's loops in axis order, all at the root)."""
    outs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    return Schedule(outs)


__all__ = ["DATA_PAR", "Fuse", "Schedule", "Split", "Stage", "TraceStep", "create_schedule",
           "op_inputs"]
