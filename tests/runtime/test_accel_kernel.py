"""AccelKernel: a hand-written relocatable kernel runs on fsim at two different addresses."""

from __future__ import annotations

import numpy as np
import pytest

import tessera.runtime as rt
from tessera.hw import HwConfig
from tessera.hw import isa as I
from tessera.runtime.accel import REGION_ALIGN, AccelKernel, DramTensor
from tessera.runtime.device import DeviceError


def _matvec_kernel(cfg: HwConfig, w: np.ndarray) -> AccelKernel:
    """out[1, bo] = low 8 bits of (x[1, bi] @ w[bo, bi]^T): one uop, one GEMM."""
    uop = np.array([I.encode_uop(I.Uop(dst=0, src=0, wgt=0), cfg)], dtype=np.uint32)
    tensors = (
        DramTensor("uops", "const", (1,), "uint32", 0),
        DramTensor("w", "const", (1, cfg.block_out, cfg.block_in), "int8", 256),
        DramTensor("x", "input", (1, cfg.batch, cfg.block_in), "int8", 1024),
        DramTensor("y", "output", (1, cfg.batch, cfg.block_out), "int8", 2048),
    )
    k = {t.name: t.offset // cfg.entry_bytes(kind)
         for t, kind in zip(tensors, ("uop", "wgt", "inp", "out"))}
    insns = (
        I.MemInsn(mem_type=I.MemType.UOP, dram_base=k["uops"], x_size=1, x_stride=1),
        I.GemmInsn(reset=True),
        I.MemInsn(mem_type=I.MemType.WGT, dram_base=k["w"], x_size=1, x_stride=1),
        I.MemInsn(mem_type=I.MemType.INP, dram_base=k["x"], x_size=1, x_stride=1,
                  push_next=True),
        I.GemmInsn(pop_prev=True, push_next=True),
        I.MemInsn(store=True, mem_type=I.MemType.OUT, dram_base=k["y"], x_size=1, x_stride=1,
                  pop_prev=True),
        I.FinishInsn(),
    )
    return AccelKernel("matvec", cfg, insns, tensors, region_bytes=4096,
                       consts={"uops": uop, "w": w.reshape(1, cfg.block_out, cfg.block_in)},
                       macs=cfg.block_in * cfg.block_out)


def test_kernel_runs_at_any_region_address() -> None:
    cfg = HwConfig.small()
    rng = np.random.default_rng(0)
    w = rng.integers(-8, 8, (cfg.block_out, cfg.block_in)).astype(np.int8)
    x = rng.integers(-8, 8, (1, cfg.batch, cfg.block_in)).astype(np.int8)
    kernel = _matvec_kernel(cfg, w)
    dev = rt.device("fsim", cfg=cfg)
    dev.alloc(3 * REGION_ALIGN)  # push the region away from the first free address
    expected = (x[0].astype(np.int32) @ w.astype(np.int32).T).astype(np.int8)
    for _ in range(2):
        outs, result = kernel.run(dev, {"x": x})
        np.testing.assert_array_equal(outs["y"][0], expected)
        assert result.cycles > 0


def test_kernel_input_errors() -> None:
    cfg = HwConfig.small()
    kernel = _matvec_kernel(cfg, np.zeros((cfg.block_out, cfg.block_in), np.int8))
    dev = rt.device("fsim", cfg=cfg)
    with pytest.raises(DeviceError, match="kernel 'matvec': input 'x' is missing"):
        kernel.run(dev, {})
    with pytest.raises(DeviceError, match=r"input 'x' must have shape \(1, 1, 4\), not \(4,\)"):
        kernel.run(dev, {"x": np.zeros(4, np.int8)})
    with pytest.raises(DeviceError, match="compiled for configuration 'small', not the "):
        kernel.load(rt.device("fsim", cfg=HwConfig.default()))
