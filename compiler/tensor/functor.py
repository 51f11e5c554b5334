"""Generic traversal of expressions and statements: map children, substitute, collect vars.

Nodes are frozen dataclasses; a child is any field holding an Expr/Stmt or a tuple of them.
``rewrite(node, fn)`` rebuilds bottom-up and keeps the original object when nothing changed,
so passes never mutate their input and unchanged subtrees stay shared.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from tessera.compiler.tensor.expr import Expr, Var

N = TypeVar("N")

_FIELDS: dict[type, tuple[str, ...]] = {}
_SKIP = {"buffer", "tensor", "axis", "iter_var"}


def _child_fields(cls: type) -> tuple[str, ...]:
    names = _FIELDS.get(cls)
    if names is None:
        names = tuple(f.name for f in dataclasses.fields(cls) if f.name not in _SKIP)
        _FIELDS[cls] = names
    return names


_NODE_TYPES: tuple[type, ...] = ()


def _is_node(x: Any) -> bool:
    global _NODE_TYPES
    if not _NODE_TYPES:  # stmt imports this module: bind its Stmt on first use, once
        from tessera.compiler.tensor.stmt import Stmt

        _NODE_TYPES = (Expr, Stmt)
    return isinstance(x, _NODE_TYPES)


def children(node: Any) -> Iterator[Any]:
    for name in _child_fields(type(node)):
        v = getattr(node, name)
        if _is_node(v):
            yield v
        elif isinstance(v, tuple):
            for x in v:
                if _is_node(x):
                    yield x


def map_children(node: N, fn: Callable[[Any], Any]) -> N:
    changes: dict[str, Any] = {}
    for name in _child_fields(type(node)):
        v = getattr(node, name)
        if _is_node(v):
            nv = fn(v)
            if nv is not v:
                changes[name] = nv
        elif isinstance(v, tuple) and v and any(_is_node(x) for x in v):
            nt = tuple(fn(x) if _is_node(x) else x for x in v)
            if any(a is not b for a, b in zip(nt, v)):
                changes[name] = nt
    return dataclasses.replace(node, **changes) if changes else node  # type: ignore[type-var]


def rewrite(node: N, post: Callable[[Any], Any | None],
            pre: Callable[[Any], Any | None] | None = None) -> N:
    """Rebuild ``node`` bottom-up; ``post(n)`` returns a replacement or None to keep ``n``.

    ``pre(n)`` (optional) may return a replacement before the children are visited; that
    replacement is returned as is.
    """

    def go(n: Any) -> Any:
        if pre is not None:
            r = pre(n)
            if r is not None:
                return r
        m = map_children(n, go)
        r = post(m)
        return m if r is None else r

    return go(node)


def walk(node: Any) -> Iterator[Any]:
    """All nodes of the tree, parents before children."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(list(children(n))))


def substitute(node: N, vmap: dict[Var, Expr]) -> N:
    if not vmap:
        return node
    return rewrite(node, lambda n: vmap.get(n) if isinstance(n, Var) else None)


def free_vars(node: Any) -> set[Var]:
    """Variables used in ``node`` that it does not bind itself (loop and let variables)."""
    from tessera.compiler.tensor.stmt import For, LetStmt

    bound: set[Var] = set()
    used: set[Var] = set()
    for n in walk(node):
        if isinstance(n, Var):
            used.add(n)
        elif isinstance(n, (For, LetStmt)):
            bound.add(n.var)
    return used - bound


def uses_var(node: Any, var: Var) -> bool:
    return any(n is var for n in walk(node))
