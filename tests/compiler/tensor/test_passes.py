"""Loop-IR passes: each Stmt -> Stmt, input untouched, verifier clean, semantics kept."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from tensor_testutil import lower_checked, matmul

from tessera.compiler import tensor as te
from tessera.compiler.errors import InternalError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.passes.loop_partition import loop_partition
from tessera.compiler.tensor.passes.simplify import simplify, simplify_expr
from tessera.compiler.tensor.passes.storage_flatten import storage_flatten
from tessera.compiler.tensor.passes.unroll import unroll_loops
from tessera.compiler.tensor.passes.vectorize import vectorize_loops
from tessera.compiler.tensor.printer import expr_str
from tessera.compiler.tensor.schedule_ops import schedule_ops

i, j = E.Var("int32", "i"), E.Var("int32", "j")


def _eval(e: E.Expr, env: dict[E.Var, int]) -> int:
    if isinstance(e, E.Var):
        return env[e]
    if isinstance(e, E.Const):
        return int(e.value)
    a, b = _eval(e.a, env), _eval(e.b, env)  # type: ignore[attr-defined]
    return {"+": a + b, "-": a - b, "*": a * b, "//": a // b if b else 0,
            "%": a % b if b else 0, "min": min(a, b), "max": max(a, b)}[e.op]  # type: ignore


def _exprs():
    leaf = st.one_of(st.sampled_from([i, j]), st.integers(-9, 9).map(lambda v: E.const(v)))
    return st.recursive(leaf, lambda sub: st.tuples(
        st.sampled_from(["+", "-", "*", "//", "%", "min", "max"]), sub,
        st.one_of(sub, st.integers(1, 9).map(lambda v: E.const(v)))).map(
        lambda t: E.Binary("int32", t[0], t[1], t[2])), max_leaves=8)


@settings(max_examples=200)
@given(e=_exprs(), vi=st.integers(0, 7), vj=st.integers(0, 15))
def test_simplify_preserves_integer_semantics(e, vi, vj):
    def safe(x: E.Expr) -> bool:  # skip division by a non-constant that can be zero
        from tessera.compiler.tensor.functor import walk

        return all(not (isinstance(n, E.Binary) and n.op in ("//", "%")
                        and not isinstance(n.b, E.Const)) for n in walk(x))

    if not safe(e):
        return
    env = {i: vi, j: vj}
    s = simplify_expr(e, {i: (0, 7), j: (0, 15)})
    assert _eval(s, env) == _eval(e, env), (expr_str(e), expr_str(s))


def test_simplify_folds_divmod_with_ranges():
    e = (i * 8 + j % 8) // 8
    assert expr_str(simplify_expr(e, {i: (0, 3), j: (0, 7)})) == "i"
    assert expr_str(simplify_expr((i * 8 + 3) % 8, {})) == "3"
    assert expr_str(simplify_expr(E.cmp("<", i + 1, 9), {i: (0, 7)})) == "True"


def _guarded_program():
    A, B, C = matmul(m=13)
    s = te.create_schedule(C)
    s[C].split(s[C].op.axis[0], factor=4)
    from tessera.compiler.tensor.lower import _params

    params, order = _params(s, [A, B, C])
    return S.PrimFunc("main", order, schedule_ops(s, params))


def test_every_pass_keeps_its_input_and_the_verifier_passes():
    f = storage_flatten(_guarded_program())
    te.verify(f)
    for p in (simplify, loop_partition, unroll_loops, vectorize_loops):
        before = str(f.body)
        out = p(f.body)
        te.verify(S.PrimFunc(f.name, f.params, out))
        assert str(f.body) == before  # input not mutated
        f = S.PrimFunc(f.name, f.params, out)


def test_loop_partition_removes_guards_from_the_steady_state():
    f = storage_flatten(_guarded_program())
    body = simplify(f.body)
    assert "likely" in str(body)
    part = loop_partition(body)
    text = str(part)
    steady, tail = text.split("for i.outer in range(3, 3 + 1)") if "range(3, 3 + 1)" in text \
        else (text, "")
    assert "likely" not in steady
    assert "for i.outer in range(3):" in text


def test_verifier_rejects_free_variables_and_unknown_buffers():
    buf = S.Buffer("X", "float32", (4,))
    store = S.BufferStore(buf, E.Const("float32", 1.0), (i,))
    with pytest.raises(InternalError, match=r"variable i must be bound"):
        te.verify(S.PrimFunc("f", (buf,), store))
    loop = S.For(i, E.const(0), E.const(4), "serial", store)
    with pytest.raises(InternalError, match=r"buffer X must be a parameter or allocated"):
        te.verify(S.PrimFunc("f", (), loop))
    bad = S.For(i, E.const(0), E.const(4), "sideways", store)
    with pytest.raises(InternalError, match=r"kind must be one of"):
        te.verify(S.PrimFunc("f", (buf,), bad))


def test_printer_shows_the_whole_program():
    A, B, C = matmul(m=2, n=3, k=4)
    s = te.create_schedule(C)
    text = str(lower_checked(s, [A, B, C]))
    assert text.splitlines()[0] == "def main(A: float32[8], B: float32[12], C: float32[6]):"
    assert "C[i * 3 + j] = C[i * 3 + j] + A[i * 4 + k] * B[j + k * 3]" in text


def test_expression_errors_are_compile_errors():
    from tessera.compiler.errors import CompileError

    X = te.placeholder((3,), "float32", "X")
    with pytest.raises(CompileError, match=r"^tensor X: index must have 1 dimensions, not 2$"):
        X[0, 1]
    with pytest.raises(CompileError, match=r"operands of a binary expression must have the "
                                           r"same dtype, not float32 and int32"):
        X[0] + E.Var("int32", "n")
    with pytest.raises(CompileError, match=r"^placeholder Y: dtype must be one of"):
        te.placeholder((3,), "float16", "Y")
    with pytest.raises(CompileError, match=r"^compute Z: fcompute must take 1 index arguments, "
                                           r"not 2$"):
        te.compute((3,), lambda a, b: X[a], name="Z")


def test_numpy_scalar_and_casts_in_expressions():
    from tensor_testutil import run

    X = te.placeholder((5,), "int8", "X")
    Y = te.compute((5,), lambda k: te.cast("float32", X[k]) * np.float32(0.5) +
                   te.select(X[k] > 0, te.const(1.0), te.const(-1.0)), name="Y")
    s = te.create_schedule(Y)
    x = np.array([-3, -1, 0, 2, 127], np.int8)
    np.testing.assert_array_equal(run(s, [X, Y], [x]),
                                  x.astype(np.float32) * 0.5 + np.where(x > 0, 1.0, -1.0))
