"""Matrix multiplication and dense layers with a packed, register-blocked CPU schedule.

``matmul(A, B)`` computes ``A @ B`` for A (M, K) and B (K, N); ``dense(X, W, bias)`` computes
``X @ W.T + bias`` for W (N, K). Both pack the right operand into panels
``Bp[N/nr][K][nr]`` so the micro-kernel reads it contiguously; ``schedule_matmul`` keeps an
``mr x nr`` tile of C in vector registers (a local accumulator that LLVM promotes once the
tile loops are unrolled), runs k outside the tile, and parallelizes the column panels.
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.compiler.errors import CompileError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import tensor as T
from tessera.compiler.tensor.schedule import Schedule, create_schedule
from tessera.runtime.cpu import host_target


@dataclass(frozen=True)
class MatmulConfig:
    """Micro-kernel shape: ``mr`` rows by ``nr`` columns of C (nr a multiple of the lanes)."""

    mr: int
    nr: int
    lanes: int

    @staticmethod
    def for_host(dtype: str = "float32") -> MatmulConfig:
        lanes = host_target().vector_lanes(32 if dtype in ("float32", "int32") else 64)
        if lanes >= 16:
            return MatmulConfig(8, 2 * lanes, lanes)
        return MatmulConfig(6, 2 * lanes, lanes)


def _check2d(t: T.Tensor, name: str, op: str) -> None:
    if t.ndim != 2:
        raise CompileError(f"{op}: {name} must be 2-D, not {t.ndim}-D {t.shape}")


def _packed(name: str, n: int, k: int, nr: int, read: object) -> T.Tensor:
    """Panels ``P[jo, kk, ji] = B(kk, jo*nr + ji)`` (zero past column n)."""
    fn = read  # (k, j) -> Expr

    def body(jo: E.Var, kk: E.Var, ji: E.Var) -> E.Expr:
        j = jo * nr + ji
        val = fn(kk, E.minimum(j, n - 1))  # type: ignore[operator]
        if n % nr == 0:
            return val
        return E.select(j < n, val, E.as_expr(0, val.dtype))

    return T.compute((-(-n // nr), k, nr), body, name=name, tag="matmul_pack")


def matmul(A: T.Tensor, B: T.Tensor, config: MatmulConfig | None = None,
           name: str = "matmul") -> T.Tensor:
    """``A @ B`` for A (M, K) and B (K, N); float32 or int32 accumulation of int8 inputs."""
    _check2d(A, "A", "matmul")
    _check2d(B, "B", "matmul")
    (m, k), (k2, n) = A.shape, B.shape
    if k != k2:
        raise CompileError(f"matmul: B must have {k} rows to match A's columns, not {k2}")
    if A.dtype != B.dtype:
        raise CompileError(f"matmul: B must have A's dtype {A.dtype}, not {B.dtype}")
    cfg = config or MatmulConfig.for_host(A.dtype)
    return _gemm(A, lambda kk, j: B[kk, j], m, n, k, cfg, name)


def dense(X: T.Tensor, W: T.Tensor, bias: T.Tensor | None = None,
          config: MatmulConfig | None = None, name: str = "dense") -> T.Tensor:
    """``X @ W.T (+ bias)`` for X (M, K), W (N, K), bias (N,)."""
    _check2d(X, "X", "dense")
    _check2d(W, "W", "dense")
    (m, k), (n, k2) = X.shape, W.shape
    if k != k2:
        raise CompileError(f"dense: W must have {k} columns to match X, not {k2}")
    if X.dtype != W.dtype:
        raise CompileError(f"dense: W must have X's dtype {X.dtype}, not {W.dtype}")
    cfg = config or MatmulConfig.for_host(X.dtype)
    out = _gemm(X, lambda kk, j: W[j, kk], m, n, k, cfg, name if bias is None else name + "_mm")
    if bias is None:
        return out
    if bias.shape != (n,):
        raise CompileError(f"dense: bias must have shape ({n},), not {bias.shape}")
    return T.compute((m, n), lambda i, j: out[i, j] + E.cast(out.dtype, bias[j]),
                     name=name, tag="dense_bias")


def _gemm(A: T.Tensor, read_b: object, m: int, n: int, k: int, cfg: MatmulConfig,
          name: str) -> T.Tensor:
    acc = "int32" if A.dtype in ("int8", "uint8", "int16") else A.dtype
    nr = cfg.nr
    bp = _packed(name + "_packB", n, k, nr, read_b)
    rk = T.reduce_axis(k, "k")

    def body(i: E.Var, j: E.Var) -> E.Expr:
        a = E.cast(acc, A[i, rk])
        b = E.cast(acc, bp[j // nr, rk, j % nr])
        return T.sum(a * b, axis=rk)

    return T.compute((m, n), body, name=name, tag="matmul",
                     attrs={"mr": cfg.mr, "nr": nr, "lanes": cfg.lanes})


def schedule_matmul(out: T.Tensor, sch: Schedule | None = None) -> Schedule:
    """The default CPU schedule of ``matmul`` / ``dense`` (and a fused bias epilogue)."""
    s = sch or create_schedule(out)
    mm = out
    if out.op.tag == "dense_bias":
        mm = next(t for t in _inputs(out) if getattr(t.op, "tag", "") == "matmul")
        s[mm].scope = "local"
    attrs = mm.op.attrs
    mr, nr, lanes = int(attrs["mr"]), int(attrs["nr"]), int(attrs["lanes"])
    pack = next(t for t in _inputs(mm) if getattr(t.op, "tag", "") == "matmul_pack")
    m = mm.shape[0]
    mr = min(mr, m)
    if mm is out:
        local = s.cache_write(out, "local")
        target = out
    else:
        local = mm
        target = out
    st = s[target]
    i, j = st.op.axis
    io, ii = st.split(i, factor=mr)
    jo, ji = st.split(j, factor=nr)
    st.reorder(jo, io, ii, ji)
    jvo, jvi = st.split(ji, factor=lanes)
    st.unroll(ii)
    st.unroll(jvo)
    st.vectorize(jvi)
    st.parallel(jo)
    s[local].compute_at(st, io)
    lc = s[local]
    ci, cj = lc.op.axis
    (ck,) = lc.op.reduce_axis
    cjo, cji = lc.split(cj, factor=lanes)
    lc.reorder(ck, ci, cjo, cji)
    lc.unroll(ci)
    lc.unroll(cjo)
    lc.vectorize(cji)
    # each thread packs the panel it is about to use (one parallel region, panel hot in L2)
    ps = s[pack]
    ps.compute_at(st, jo)
    ps.vectorize(ps.op.axis[2])
    return s


def _inputs(t: T.Tensor) -> list[T.Tensor]:
    from tessera.compiler.tensor.schedule import op_inputs

    return op_inputs(t.op)
