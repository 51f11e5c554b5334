"""``isa.token_queues``, memoized: programs repeat the same instructions many times."""

from __future__ import annotations

from functools import lru_cache

from tessera.hw import isa as I


@lru_cache(maxsize=1 << 14)
def token_queues(insn: I.Insn) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(queues popped before, queues pushed after) ``insn``; raises EncodingError for a flag
    its unit cannot honour (errors are not cached)."""
    pops, pushes = I.token_queues(insn)
    return tuple(pops), tuple(pushes)
