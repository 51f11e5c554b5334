"""Shared helpers of the vta target tests: random int8 layers, run on a device, references."""

from __future__ import annotations

from typing import Any

import numpy as np

import tessera.runtime as rt
from tessera.compiler.vta import Conv2dWorkload, DenseWorkload, build_qconv2d, build_qdense
from tessera.compiler.vta.workload import RESNET18_CONV
from tessera.hw import HwConfig, layout
from tessera.runtime.accel import AccelKernel
from tessera.runtime.reference import qnn

RESNET18 = RESNET18_CONV


def conv_case(wkl: Conv2dWorkload, seed: int, bias: bool = True
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (wkl.batch, wkl.in_channels, wkl.height, wkl.width))
    w = rng.integers(-128, 128, wkl.weight_shape)
    b = rng.integers(-(1 << 16), 1 << 16, wkl.out_channels).astype(np.int32) if bias else None
    return x.astype(np.int8), w.astype(np.int8), b


def run_conv(kernel: AccelKernel, wkl: Conv2dWorkload, x: np.ndarray, device: Any
             ) -> tuple[np.ndarray, rt.RunResult]:
    cfg = kernel.cfg
    outs, res = kernel.run(device, {"data": layout.pack_activation(x, cfg, "inp")})
    shape = (wkl.batch, wkl.out_channels, wkl.out_height, wkl.out_width)
    return layout.unpack_activation(outs["out"], shape, cfg, "out"), res


def conv_reference(wkl: Conv2dWorkload, x: np.ndarray, w: np.ndarray, b: np.ndarray | None,
                   shift: int, relu: bool) -> np.ndarray:
    return qnn.qconv2d(x, w, b, shift, relu, (wkl.stride_h, wkl.stride_w), wkl.pads)


def check_conv(wkl: Conv2dWorkload, cfg: HwConfig, device: Any, seed: int = 0,
               schedule: dict[str, int] | None = None, bias: bool = True, shift: int = 8,
               relu: bool = False) -> tuple[np.ndarray, rt.RunResult, AccelKernel]:
    """Build, run and compare with the numpy reference exactly; returns the output."""
    x, w, b = conv_case(wkl, seed, bias)
    kernel = build_qconv2d(wkl, w, b, shift, relu, cfg, schedule=schedule, name="layer")
    y, res = run_conv(kernel, wkl, x, device)
    np.testing.assert_array_equal(y, conv_reference(wkl, x, w, b, shift, relu))
    return y, res, kernel


def check_dense(wkl: DenseWorkload, cfg: HwConfig, device: Any, seed: int = 0,
                schedule: dict[str, int] | None = None, bias: bool = True, shift: int = 7,
                relu: bool = False) -> tuple[np.ndarray, rt.RunResult, AccelKernel]:
    rng = np.random.default_rng(seed)
    x = rng.integers(-128, 128, (wkl.m, wkl.k)).astype(np.int8)
    w = rng.integers(-128, 128, (wkl.n, wkl.k)).astype(np.int8)
    b = rng.integers(-(1 << 16), 1 << 16, wkl.n).astype(np.int32) if bias else None
    kernel = build_qdense(wkl, w, b, shift, relu, cfg, schedule=schedule, name="fc")
    outs, res = kernel.run(device, {"data": layout.pack_matrix_inp(x, cfg)})
    y = layout.unpack_matrix(outs["out"], (wkl.m, wkl.n), cfg)
    np.testing.assert_array_equal(y, qnn.qdense(x, w, b, shift, relu))
    return y, res, kernel
