"""Knob spaces: index <-> config round trips, legality reasons, pinned error texts."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera.compiler.autotune import ConfigSpace, Knob, Task, TuningError
from tessera.compiler.autotune.templates import get_template
from tessera.compiler.autotune.templates.base import Template

SPACE = ConfigSpace([Knob("a", (1, 2, 4)), Knob("b", ("x", "y")), Knob("c", (True, False))])


@given(st.integers(0, len(SPACE) - 1))
def test_index_round_trip(i: int) -> None:
    cfg = SPACE.get(i)
    assert SPACE.from_dict(cfg.to_dict()).index == i


def test_size_and_iteration_cover_every_point() -> None:
    assert len(SPACE) == 12
    assert sorted(c.index for c in SPACE) == list(range(12))
    assert len({tuple(c.to_dict().items()) for c in SPACE}) == 12


def test_errors_are_pinned() -> None:
    with pytest.raises(TuningError, match=r"^config index must be in \[0, 12\), not 12$"):
        SPACE.get(12)
    with pytest.raises(TuningError, match=r"^config: knob 'a' must be one of \[1, 2, 4\], not 3$"):
        SPACE.from_dict({"a": 3, "b": "x", "c": True})
    with pytest.raises(TuningError, match=r"^config: knob 'c' must be given, not missing$"):
        SPACE.from_dict({"a": 1, "b": "x"})
    with pytest.raises(TuningError, match=r"^knob 'z': values must be non-empty, not \(\)$"):
        Knob("z", ())


def test_neighbor_moves_exactly_one_knob() -> None:
    rng = random.Random(0)
    for i in range(len(SPACE)):
        a = SPACE.get(i)
        b = SPACE.neighbor(a, rng)
        assert sum(a[k.name] != b[k.name] for k in SPACE.knobs) == 1


def test_matmul_space_rejects_with_reasons() -> None:
    tpl = get_template("matmul")
    args = (4, 32, 30, "float32")
    space = tpl.space(args)
    base = tpl.default(args)
    assert space.check(space.from_dict(base)) is None
    assert space.check(space.from_dict({**base, "mr": 8})) == "mr must be at most M=4, not 8"
    assert space.check(space.from_dict({**base, "ku": 4})) == "ku must divide K=30, not 4"
    assert space.check(space.from_dict({**base, "par": "fused"})) == (
        "pack 'panel' must come with order 'jo,io' and an unfused panel loop, not order "
        "'jo,io' and par 'fused'")


def test_conv_space_rejects_with_reasons() -> None:
    args = (1, 4, 8, 8, 12, 3, 3, 1, 1, "float32")
    space = Task("conv2d_nchw", args).space
    base = get_template("conv2d_nchw").default(args)
    assert space.check(space.from_dict({**base, "variant": "direct", "ob": 8})) == \
        "ob must divide the 12 output channels, not 8"
    assert space.check(space.from_dict({**base, "variant": "blocked", "ob": 6})) == \
        "ob must be a multiple of 4 for the blocked variant, not 6"


def test_unknown_template_is_a_clear_error() -> None:
    from tessera.compiler.autotune.errors import UnsupportedTaskError

    with pytest.raises(UnsupportedTaskError, match=r"^tune: template must be one of "
                       r"\['matmul', 'conv2d_nchw', 'conv2d_nchwc', 'faulty_add', "
                       r"'vta_conv2d', 'vta_dense'\], not 'gemv'$"):
        _ = Task("gemv", (1,)).space


def test_every_legal_point_of_a_small_space_builds_and_matches_numpy() -> None:
    import numpy as np

    from tessera.compiler.codegen import build

    tpl: Template = get_template("matmul")
    args = (5, 20, 8, "float32")
    space = tpl.space(args)
    arrays = tpl.arrays(args, np.random.default_rng(1))
    want = arrays[0] @ arrays[1]
    rng = random.Random(3)
    legal = [c for c in space if space.check(c) is None]
    for cfg in rng.sample(legal, 6):
        sch, tensors = tpl.instantiate(args, cfg)
        out = np.zeros_like(want)
        build(sch, tensors)(arrays[0], arrays[1], out)
        np.testing.assert_allclose(out, want, rtol=1e-5, atol=1e-5, err_msg=str(cfg.values))


def test_a_knob_added_later_implies_its_old_value() -> None:
    """Records written before a knob existed name only the old knobs: they read back as the
    point with the implied value (what their schedule was), at that point's current index."""
    grown = ConfigSpace([*SPACE.knobs, Knob("d", (1, 2), implied=1)])
    old = SPACE.get(7).to_dict()
    cfg = grown.from_dict(old)
    assert cfg.to_dict() == {**old, "d": 1}
    assert cfg.index == grown.from_dict({**old, "d": 1}).index
    with pytest.raises(TuningError, match=r"^knob 'd': implied value must be one of \[1, 2\], "
                       r"not 3$"):
        Knob("d", (1, 2), implied=3)
