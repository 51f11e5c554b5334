"""``unroll_host_loops``: the loops around the accelerator's regions become straight-line code.

The accelerator has no branch instructions, so the tile loops, the vthread loop and the
reduction-step loop (every loop whose body allocates a buffer or holds a pragma region) are
unrolled; each iteration of the ``vthread`` loop is marked ``attr('vthread', k)`` (one output
tile; ``inject_virtual_threads`` interleaves them), and one that stores no output (past the
last tile, where the vthread split does not divide the tiles) is dropped. Loops inside a
region (the copy, tensorize and ALU nests) stay: later passes make them instruction loops.
"""

from __future__ import annotations

from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.functor import map_children, substitute, walk
from tessera.compiler.vta.passes.accel_ir import extent, simplify_guards


def _is_host(lp: S.For) -> bool:
    return any(isinstance(n, S.Allocate) or (isinstance(n, S.AttrStmt)
                                             and n.key.startswith("pragma_"))
               for n in walk(lp.body))


def _stores_output(s: S.Stmt) -> bool:
    return any(isinstance(n, S.BufferStore) and n.buffer.scope == "global" for n in walk(s))


def _unroll(s: S.Stmt) -> S.Stmt:
    if isinstance(s, S.For) and _is_host(s):
        its: list[S.Stmt] = []
        for i in range(extent(s)):  # outer loops first: inner iterations see constants
            it = _unroll(substitute(s.body, {s.var: E.Const("int32", i)}))
            if s.kind == "vthread":
                it = simplify_guards(it)
                if not _stores_output(it):  # past the last tile (the split did not divide)
                    continue
                it = S.AttrStmt("vthread", str(i), it)
            its.append(it)
        return S.seq(*its)
    if isinstance(s, (S.SeqStmt, S.Allocate, S.AttrStmt, S.IfThenElse, S.LetStmt)):
        return map_children(s, lambda x: _unroll(x) if isinstance(x, S.Stmt) else x)
    return s


def unroll_host_loops(stmt: S.Stmt) -> S.Stmt:
    """``stmt`` with its host loops unrolled and the resulting constants folded."""
    return simplify_guards(_unroll(stmt))
