"""The tunable matmul: ``ops.matmul``'s packed, register-blocked schedule with knobs.

Knobs: ``mr`` (rows of the C tile in registers), ``nv`` (vectors per tile row; nr = nv * lanes),
``lanes`` (vector width), ``order`` (outer loop order), ``ku`` (unroll of k in the
micro-kernel), ``par`` (parallel axis: the outermost loop, the fused tile loops, or none),
``pack`` (cache placement of the packed B panels: each thread packs its panel inside the
panel loop, or all panels are packed ahead in their own parallel loop).
The default point is ``ops.schedule_matmul``'s. ``instantiate(..., trans_b=True)`` schedules
``ops.dense`` (B given as (N, K), as ONNX Gemm with transB=1 stores it) with the same point:
both pack B into the same panels, so one tuning record serves MatMul and Gemm alike.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tessera.compiler import ops
from tessera.compiler import tensor as te
from tessera.compiler.autotune.space import Config, ConfigSpace, Knob
from tessera.compiler.autotune.templates.base import Template
from tessera.compiler.ops.dense import MatmulConfig
from tessera.compiler.tensor.schedule import Schedule, op_inputs
from tessera.compiler.tensor.tensor import Tensor
from tessera.runtime.cpu import host_target


class MatmulTemplate(Template):
    """args: (M, N, K, dtype)."""

    name = "matmul"

    def space(self, args: tuple[Any, ...]) -> ConfigSpace:
        m, n, k, _ = args
        host = host_target().vector_lanes(32)
        lanes = sorted({host, max(4, host // 2)})

        def check(cfg: Config) -> str | None:
            if cfg["mr"] > m:
                return f"mr must be at most M={m}, not {cfg['mr']}"
            if k % cfg["ku"]:
                return f"ku must divide K={k}, not {cfg['ku']}"
            if cfg["pack"] == "panel" and (cfg["order"] != "jo,io" or cfg["par"] == "fused"):
                return (f"pack 'panel' must come with order 'jo,io' and an unfused panel "
                        f"loop, not order {cfg['order']!r} and par {cfg['par']!r}")
            if cfg["mr"] * cfg["nv"] > 28:
                return (f"mr*nv accumulators must fit in 28 vector registers, not "
                        f"{cfg['mr'] * cfg['nv']}")
            return None

        return ConfigSpace([
            Knob("mr", (1, 2, 4, 6, 8, 12, 16)),
            Knob("nv", (1, 2, 3, 4)),
            Knob("lanes", tuple(lanes)),
            Knob("order", ("jo,io", "io,jo")),
            Knob("ku", (1, 2, 4)),
            Knob("par", ("outer", "fused", "none")),
            Knob("pack", ("panel", "ahead")),
        ], check)

    def default(self, args: tuple[Any, ...]) -> dict[str, Any]:
        m = args[0]
        d = MatmulConfig.for_host(args[3])
        mr = min(d.mr, m)
        mr = max(v for v in (1, 2, 4, 6, 8, 12, 16) if v <= mr)
        return {"mr": mr, "nv": d.nr // d.lanes, "lanes": d.lanes, "order": "jo,io", "ku": 1,
                "par": "outer", "pack": "panel"}

    def flops(self, args: tuple[Any, ...]) -> float:
        m, n, k, _ = args
        return 2.0 * m * n * k

    def arrays(self, args: tuple[Any, ...], rng: np.random.Generator) -> list[np.ndarray]:
        m, n, k, dtype = args
        a = rng.standard_normal((m, k)).astype(dtype)
        b = rng.standard_normal((k, n)).astype(dtype)
        return [a, b, np.zeros((m, n), dtype)]

    def reference(self, args: tuple[Any, ...], arrays: list[np.ndarray]) -> np.ndarray | None:
        return arrays[0] @ arrays[1]

    def instantiate(self, args: tuple[Any, ...], cfg: Config,
                    trans_b: bool = False) -> tuple[Schedule, list[Tensor]]:
        """The point's schedule of ``A @ B``; with ``trans_b``, of ``A @ B.T`` for B (N, K)."""
        m, n, k, dtype = args
        lanes = int(cfg["lanes"])
        mr, nr = int(cfg["mr"]), int(cfg["nv"]) * lanes
        A = te.placeholder((m, k), dtype, "A")
        mc = MatmulConfig(mr, nr, lanes)
        if trans_b:
            B = te.placeholder((n, k), dtype, "B")
            C = ops.dense(A, B, config=mc)
        else:
            B = te.placeholder((k, n), dtype, "B")
            C = ops.matmul(A, B, config=mc)
        s = te.create_schedule(C)
        pack = next(t for t in op_inputs(C.op) if getattr(t.op, "tag", "") == "matmul_pack")
        local = s.cache_write(C, "local")
        st = s[C]
        i, j = st.op.axis
        io, ii = st.split(i, factor=mr)
        jo, ji = st.split(j, factor=nr)
        outer = (jo, io) if cfg["order"] == "jo,io" else (io, jo)
        st.reorder(*outer, ii, ji)
        jvo, jvi = st.split(ji, factor=lanes)
        st.unroll(ii)
        st.unroll(jvo)
        st.vectorize(jvi)
        attach = outer[1]
        if cfg["par"] == "outer":
            st.parallel(outer[0])
        elif cfg["par"] == "fused":
            attach = st.fuse(*outer)
            st.parallel(attach)
        s[local].compute_at(st, attach)
        lc = s[local]
        ci, cj = lc.op.axis
        (ck,) = lc.op.reduce_axis
        cjo, cji = lc.split(cj, factor=lanes)
        if cfg["ku"] > 1:
            cko, cki = lc.split(ck, factor=int(cfg["ku"]))
            lc.reorder(cko, cki, ci, cjo, cji)
            lc.unroll(cki)
        else:
            lc.reorder(ck, ci, cjo, cji)
        lc.unroll(ci)
        lc.unroll(cjo)
        lc.vectorize(cji)
        ps = s[pack]
        if cfg["pack"] == "panel":
            ps.compute_at(st, jo)
        else:
            ps.parallel(ps.op.axis[0])
        ps.vectorize(ps.op.axis[2])
        return s, [A, B, C]
