"""``unroll_host_loops``: the loops around the accelerator's regions become straight-line code.

The accelerator has no branch instructions, so the tile loops, the vthread loop and the
reduction-step loop (every loop whose body allocates a buffer or holds a pragma region) are
unrolled; each iteration of the ``vthread`` loop is marked ``attr('vthread', k)`` (one output
tile; ``inject_virtual_threads`` interleaves them), and one that stores no output (past the
last tile, where the vthread split does not divide the tiles) is dropped. Loops inside a
region (the copy, tensorize and ALU nests) stay: later passes make them instruction loops.
"""

from __future__ import annotations

from collections.abc import Iterator

from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.functor import map_children, substitute
from tessera.compiler.vta.passes.accel_ir import extent, nest, simplify_guards


def _regions(s: S.Stmt) -> Iterator[S.Stmt]:
    """Allocations and pragma regions of ``s``, not descending into regions or loop nests
    that hold none (a tensorize nest)."""
    if isinstance(s, S.Allocate):
        yield s
        yield from _regions(s.body)
    elif isinstance(s, S.AttrStmt):
        if s.key.startswith("pragma_"):
            yield s
        elif s.key != "tensorize":
            yield from _regions(s.body)
    elif isinstance(s, S.SeqStmt):
        for x in s.stmts:
            yield from _regions(x)
    elif isinstance(s, (S.For, S.LetStmt)):
        yield from _regions(s.body)
    elif isinstance(s, S.IfThenElse):
        yield from _regions(s.then_case)
        if s.else_case is not None:
            yield from _regions(s.else_case)


def _is_host(s: S.Stmt) -> bool:
    """Whether ``s`` holds a region (so the loops around it are host loops)."""
    return next(_regions(s), None) is not None


def _stores_output(s: S.Stmt) -> bool:
    for r in _regions(s):
        if isinstance(r, S.AttrStmt) and r.key == "pragma_dma_copy":
            store = nest(r.body)[2]
            if isinstance(store, S.BufferStore) and store.buffer.scope == "global":
                return True
    return False


def _unroll(s: S.Stmt, env: dict[E.Var, E.Expr]) -> S.Stmt:
    """``s`` unrolled with the host loop variables of ``env`` bound (substituted into each
    region once, outer loops first, so inner iterations see constants)."""
    if isinstance(s, S.For) and _is_host(s.body):
        its: list[S.Stmt] = []
        for i in range(extent(s)):
            it = _unroll(s.body, {**env, s.var: E.Const("int32", i)})
            if s.kind == "vthread":
                if not _stores_output(it):  # past the last tile (the split did not divide)
                    continue
                it = S.AttrStmt("vthread", str(i), it)
            its.append(it)
        return S.seq(*its)
    if isinstance(s, (S.SeqStmt, S.Allocate, S.AttrStmt, S.IfThenElse, S.LetStmt)) \
            and _is_host(s):
        return map_children(s, lambda x: _unroll(x, env) if isinstance(x, S.Stmt)
                            else substitute(x, env))
    return simplify_guards(substitute(s, env))  # a region: the host loops are constants


def unroll_host_loops(stmt: S.Stmt) -> S.Stmt:
    """``stmt`` with its host loops unrolled and the resulting constants folded."""
    return _drop_empty(_unroll(stmt, {}))


def _drop_empty(s: S.Stmt) -> S.Stmt:
    """Without the allocations and sequences left empty by guards folded to false."""
    if isinstance(s, S.SeqStmt):
        return S.seq(*[x for x in (_drop_empty(x) for x in s.stmts)
                       if not (isinstance(x, S.SeqStmt) and not x.stmts)]) if s.stmts else s
    if isinstance(s, (S.Allocate, S.AttrStmt)):
        body = _drop_empty(s.body)
        if isinstance(body, S.SeqStmt) and not body.stmts:
            return body
        return s if body is s.body else map_children(s, lambda _: body)
    return s
