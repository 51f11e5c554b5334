"""Stages: the schedule of one compute operation and the primitives that rewrite its loops.

Every primitive checks its preconditions (a ``ScheduleError`` naming the stage and loop) and
appends itself to ``Schedule.trace``; ``str(sch.trace_text())`` prints it and
``replay(trace, outputs)`` rebuilds the same schedule on fresh tensors. Loop names follow
TVM: ``i.outer`` / ``i.inner`` for a split, ``i.j.fused`` for a fuse.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from tessera.compiler.errors import ScheduleError
from tessera.compiler.tensor.expr import TensorRead, Var
from tessera.compiler.tensor.functor import walk
from tessera.compiler.tensor.tensor import (
    REDUCE,
    ComputeOp,
    IterVar,
    Operation,
    Range,
    Tensor,
)

if TYPE_CHECKING:
    from tessera.compiler.tensor.schedule import Schedule


@dataclass(frozen=True)
class Split:
    parent: IterVar
    outer: IterVar
    inner: IterVar
    factor: int | None
    nparts: int | None


@dataclass(frozen=True)
class Fuse:
    outer: IterVar
    inner: IterVar
    fused: IterVar


@dataclass(frozen=True)
class TraceStep:
    """One recorded primitive: stage name, primitive name, arguments (loops by name)."""

    stage: str
    primitive: str
    args: tuple[Any, ...]
    kwargs: tuple[tuple[str, Any], ...] = ()

    def __str__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs]
        if self.primitive == "cache_read":  # schedule-level primitives
            return f"s.cache_read({', '.join(parts)})"
        if self.primitive in ("cache_write", "rfactor"):
            return f"s.{self.primitive}({self.stage!r}, {', '.join(parts)})"
        return f"s[{self.stage!r}].{self.primitive}({', '.join(parts)})"


def _new_iv(name: str, kind: str) -> IterVar:
    return IterVar(Var("int32", name), Range.of(1), kind)


def op_inputs(op: Operation) -> list[Tensor]:
    """Tensors an operation reads, in first-use order."""
    if not isinstance(op, ComputeOp):
        return []
    seen: dict[int, Tensor] = {}
    for n in walk(op.body):
        if isinstance(n, TensorRead) and id(n.tensor) not in seen:
            seen[id(n.tensor)] = n.tensor
    return list(seen.values())


@dataclass(eq=False)
class Stage:
    """The schedule of one operation: its leaf loops, their attributes and its attachment."""

    op: ComputeOp
    sch: Schedule
    leaf_iter_vars: list[IterVar] = field(default_factory=list)
    relations: list[Split | Fuse] = field(default_factory=list)
    iter_attrs: dict[IterVar, dict[str, Any]] = field(default_factory=dict)
    attach_type: str = "root"  # root | inline | scope
    attach_stage: Stage | None = None
    attach_ivar: IterVar | None = None
    scope: str = "global"
    is_output: bool = False
    read_redirect: dict[Tensor, Tensor] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.leaf_iter_vars = list(self.op.axis) + list(self.op.reduce_axis)

    @property
    def name(self) -> str:
        return self.op.name

    @property
    def root_iter_vars(self) -> list[IterVar]:
        return list(self.op.axis) + list(self.op.reduce_axis)

    def __repr__(self) -> str:
        return f"Stage({self.name})"

    # helpers ---------------------------------------------------------------------------
    def _record(self, prim: str, *args: Any, **kwargs: Any) -> None:
        names = tuple(a.name if isinstance(a, IterVar) else
                      (a.name if isinstance(a, Stage) else a) for a in args)
        self.sch.trace.append(TraceStep(self.name, prim, names, tuple(kwargs.items())))

    def _leaf(self, iv: IterVar | str, prim: str) -> IterVar:
        if isinstance(iv, str):
            for x in self.leaf_iter_vars:
                if x.name == iv:
                    return x
            raise ScheduleError(
                f"stage {self.name}: {prim}: loop {iv} must be a leaf loop of the stage "
                f"({', '.join(x.name for x in self.leaf_iter_vars)}), not unknown"
            )
        if iv not in self.leaf_iter_vars:
            raise ScheduleError(
                f"stage {self.name}: {prim}: loop {iv.name} must be a leaf loop of the stage "
                f"({', '.join(x.name for x in self.leaf_iter_vars)}), not already transformed"
            )
        return iv

    def _not_attached(self, iv: IterVar, prim: str) -> None:
        loop = iv.name
        for other in self.sch.stages:
            if other.attach_stage is self and other.attach_ivar is iv:
                raise ScheduleError(
                    f"stage {self.name}: {prim}: loop {loop} must not have stage {other.name} "
                    f"attached (compute_at after transforming the loop), not before"
                )

    def _attr(self, iv: IterVar) -> dict[str, Any]:
        return self.iter_attrs.setdefault(iv, {})

    def _set_kind(self, iv: IterVar | str, kind: str, prim: str) -> IterVar:
        leaf = self._leaf(iv, prim)
        old = self._attr(leaf).get("kind")
        if old is not None and old != kind:
            raise ScheduleError(
                f"stage {self.name}: {prim}: loop {leaf.name} must not already be {old}, "
                f"it cannot also be {kind}"
            )
        self._attr(leaf)["kind"] = kind
        return leaf

    # primitives ------------------------------------------------------------------------
    def split(self, iv: IterVar | str, factor: int | None = None,
              nparts: int | None = None) -> tuple[IterVar, IterVar]:
        """Split a loop in two.

        Before: ``for i in range(n)``; after ``split(i, factor=f)``:
        ``for i.outer in range(ceil(n/f)): for i.inner in range(f): i = i.outer*f + i.inner``
        (a guard ``i < n`` where ``f`` does not divide ``n``; loop partition removes it from
        the steady state).
        """
        leaf = self._leaf(iv, "split")
        if (factor is None) == (nparts is None):
            raise ScheduleError(
                f"stage {self.name}: split of loop {leaf.name} must be given exactly one of "
                f"factor or nparts, not {'both' if factor is not None else 'neither'}"
            )
        val = factor if factor is not None else nparts
        if not isinstance(val, int) or isinstance(val, bool) or val < 1:
            what = "factor" if factor is not None else "nparts"
            raise ScheduleError(
                f"stage {self.name}: split {what} of loop {leaf.name} must be a positive int, "
                f"not {val!r}"
            )
        if self._attr(leaf).get("kind") is not None:
            raise ScheduleError(
                f"stage {self.name}: split: loop {leaf.name} must not be annotated "
                f"({self._attr(leaf)['kind']}) before it is split"
            )
        self._not_attached(leaf, "split")
        outer = _new_iv(f"{leaf.name}.outer", leaf.kind)
        inner = _new_iv(f"{leaf.name}.inner", leaf.kind)
        self.relations.append(Split(leaf, outer, inner, factor, nparts))
        pos = self.leaf_iter_vars.index(leaf)
        self.leaf_iter_vars[pos:pos + 1] = [outer, inner]
        kwargs = {"factor": factor} if factor is not None else {"nparts": nparts}
        self._record("split", leaf, **kwargs)
        return outer, inner

    def tile(self, x: IterVar | str, y: IterVar | str, x_factor: int, y_factor: int
             ) -> tuple[IterVar, IterVar, IterVar, IterVar]:
        """Tile two loops: ``for x, y`` becomes ``for x.outer, y.outer, x.inner, y.inner``."""
        xl, yl = self._leaf(x, "tile"), self._leaf(y, "tile")
        n = len(self.sch.trace)
        xo, xi = self.split(xl, factor=x_factor)
        yo, yi = self.split(yl, factor=y_factor)
        self.reorder(xo, yo, xi, yi)
        del self.sch.trace[n:]
        self._record("tile", xl, yl, x_factor, y_factor)
        return xo, yo, xi, yi

    def fuse(self, outer: IterVar | str, inner: IterVar | str) -> IterVar:
        """Fuse two adjacent loops: ``for i: for j`` becomes ``for i.j.fused in range(ni*nj)``
        with ``i = fused // nj`` and ``j = fused % nj``."""
        o, i = self._leaf(outer, "fuse"), self._leaf(inner, "fuse")
        po, pi = self.leaf_iter_vars.index(o), self.leaf_iter_vars.index(i)
        if pi != po + 1:
            raise ScheduleError(
                f"stage {self.name}: fuse: loop {i.name} must be directly inside loop {o.name}, "
                f"not at leaf position {pi} (loop {o.name} is at {po})"
            )
        if o.kind != i.kind:
            raise ScheduleError(
                f"stage {self.name}: fuse: loops {o.name} and {i.name} must be of the same kind, "
                f"not {o.kind} and {i.kind}"
            )
        for x in (o, i):
            if self._attr(x).get("kind") is not None:
                raise ScheduleError(
                    f"stage {self.name}: fuse: loop {x.name} must not be annotated "
                    f"({self._attr(x)['kind']}) before it is fused"
                )
        self._not_attached(o, "fuse")
        self._not_attached(i, "fuse")
        fused = _new_iv(f"{o.name}.{i.name}.fused", o.kind)
        self.relations.append(Fuse(o, i, fused))
        self.leaf_iter_vars[po:pi + 1] = [fused]
        self._record("fuse", o, i)
        return fused

    def reorder(self, *ivs: IterVar | str) -> None:
        """Put the given leaf loops, in the given order, into the positions they occupy.

        Before: ``for i: for j: for k``; after ``reorder(k, i)``: ``for k: for j: for i``.
        """
        leaves = [self._leaf(v, "reorder") for v in ivs]
        seen: set[IterVar] = set()
        for v in leaves:
            if v in seen:
                raise ScheduleError(
                    f"stage {self.name}: reorder: loop {v.name} must appear once, not twice"
                )
            seen.add(v)
        positions = sorted(self.leaf_iter_vars.index(v) for v in leaves)
        for p, v in zip(positions, leaves):
            self.leaf_iter_vars[p] = v
        self._record("reorder", *leaves)

    def vectorize(self, iv: IterVar | str) -> None:
        """Mark a loop vectorized: its body runs on LLVM vectors of ``extent`` lanes.

        Before: ``for j in range(16): C[i, j] = A[i, j] + 1``; after ``vectorize(j)``:
        ``C[i, ramp(0, 1, 16)] = A[i, ramp(0, 1, 16)] + x16(1)`` (a body that cannot be
        vectorized, e.g. one holding a loop, stays a serial loop).
        """
        leaf = self._leaf(iv, "vectorize")
        if leaf.kind == REDUCE:
            raise ScheduleError(
                f"stage {self.name}: vectorize: loop {leaf.name} must be a data-parallel loop, "
                f"not a reduction"
            )
        self._set_kind(leaf, "vectorized", "vectorize")
        self._record("vectorize", leaf)

    def unroll(self, iv: IterVar | str) -> None:
        """Mark a loop to be fully unrolled (its extent must be a constant).

        Before: ``for i in range(2): S(i)``; after ``unroll(i)``: ``S(0); S(1)``.
        """
        leaf = self._set_kind(iv, "unrolled", "unroll")
        self._record("unroll", leaf)

    def parallel(self, iv: IterVar | str) -> None:
        """Mark a loop parallel: its iterations run on all cores.

        Before: ``for i in range(n): S(i)``; after ``parallel(i)``: the body is outlined into
        a task function and the runtime's pool runs ``i``'s range in one chunk per thread.
        """
        leaf = self._leaf(iv, "parallel")
        if leaf.kind == REDUCE:
            raise ScheduleError(
                f"stage {self.name}: parallel: loop {leaf.name} must be a data-parallel loop, "
                f"not a reduction"
            )
        self._set_kind(leaf, "parallel", "parallel")
        self._record("parallel", leaf)

    def pragma(self, iv: IterVar | str, key: str, value: str = "") -> None:
        """Annotate a loop with an open-ended pragma (``dma_copy``, ``alu``, ...).

        Before: ``for i: S``; after ``pragma(i, "dma_copy")``:
        ``with attr("pragma_dma_copy", ""): for i: S`` (target lowerings hook the key).
        """
        leaf = self._leaf(iv, "pragma")
        if not key or not isinstance(key, str):
            raise ScheduleError(
                f"stage {self.name}: pragma on loop {leaf.name}: key must be a non-empty "
                f"string, not {key!r}"
            )
        self._attr(leaf).setdefault("pragmas", []).append((key, str(value)))
        self._record("pragma", leaf, key, value)

    def bind(self, iv: IterVar | str, thread: IterVar) -> None:
        """Hook: bind a loop to a GPU thread axis or a virtual thread (``thread_axis``).

        Before: ``for i: S``; after ``bind(i, thread_axis("vthread"))``: ``for i: S  # vthread``
        (a GPU tag gives a ``thread_binding`` loop for the GPU lowering).
        """
        leaf = self._leaf(iv, "bind")
        if leaf.kind == REDUCE:
            raise ScheduleError(
                f"stage {self.name}: bind: loop {leaf.name} must be data-parallel, not a reduction"
            )
        self._attr(leaf)["bind"] = thread
        self._attr(leaf)["kind"] = "vthread" if thread.kind == "vthread" else "thread_binding"
        self._record("bind", leaf, thread.thread_tag)

    def tensorize(self, iv: IterVar | str, intrin: Any) -> None:
        """Hook: replace the loop nest under ``iv`` by an intrinsic (lowered by a target hook).

        Before: ``for i: for j: C = ...``; after ``tensorize(i, "gemm")``:
        ``with attr("tensorize", "gemm"): for i: for j: C = ...`` for a target pass to match.
        """
        leaf = self._leaf(iv, "tensorize")
        name = intrin if isinstance(intrin, str) else getattr(intrin, "name", None)
        if not isinstance(name, str) or not name:
            raise ScheduleError(f"stage {self.name}: tensorize of loop {leaf.name}: intrin must "
                                f"be a TensorIntrin or its name, not {intrin!r}")
        self._attr(leaf)["tensorize"] = name
        self._record("tensorize", leaf, name)

    def compute_at(self, parent: Stage, iv: IterVar | str) -> None:
        """Compute this stage inside loop ``iv`` of ``parent``, only the region it needs.

        Before: ``for i: B[i] = ...`` then ``for io: for ii: C[..] = f(B[..])``; after
        ``s[B].compute_at(s[C], io)``: ``for io: (for b: B[b] = ...) ; for ii: C = f(B)``.
        """
        leaf = parent._leaf(iv, "compute_at")
        if parent is self:
            raise ScheduleError(f"stage {self.name}: compute_at: parent must be another stage, not "
                                f"itself (loop {leaf.name})")
        if self.is_output:
            raise ScheduleError(f"stage {self.name}: compute_at at loop {leaf.name}: the stage "
                                f"must not be an output")
        if not self.sch.reads_within(parent, self):
            raise ScheduleError(
                f"stage {self.name}: compute_at: stage {parent.name} (loop {leaf.name}) must "
                f"read {self.name}, not be unrelated"
            )
        self.attach_type, self.attach_stage, self.attach_ivar = "scope", parent, leaf
        self._record("compute_at", parent, leaf)

    def set_scope(self, scope: str) -> None:
        """Allocate this stage's output in storage ``scope`` (TVM's ``set_scope``).

        Before: ``B = allocate(.., scope='global')``; after ``set_scope("acc_buffer")``:
        ``B = allocate(.., scope='acc_buffer')`` (e.g. an epilogue computed in place on an
        accelerator's accumulators).
        """
        if not isinstance(scope, str) or not scope:
            raise ScheduleError(f"stage {self.name}: set_scope: scope must be a non-empty "
                                f"string, not {scope!r}")
        if self.is_output:
            raise ScheduleError(f"stage {self.name}: set_scope({scope!r}): the stage must not "
                                f"be an output")
        self.scope = scope
        self._record("set_scope", scope)

    def compute_inline(self) -> None:
        """Substitute this stage's expression into its consumers; it gets no loops.

        Before: ``B[i] = A[i] + 1`` then ``C[i] = B[i] * 2``; after ``s[B].compute_inline()``:
        ``C[i] = (A[i] + 1) * 2``.
        """
        if self.is_output:
            raise ScheduleError(f"stage {self.name}: compute_inline: the stage must not be an "
                                f"output")
        if self.op.reduce_axis:
            raise ScheduleError(f"stage {self.name}: compute_inline: the stage must not be a "
                                f"reduction (loop {self.op.reduce_axis[0].name})")
        self.attach_type = "inline"
        self._record("compute_inline")
