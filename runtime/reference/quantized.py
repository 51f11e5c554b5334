"""Reference kernels of the quantized and accelerator-layout graph ops.

- ``QConv2d(x int8, w int8 OIHW, bias int32)`` and ``QDense(x int8 (M,K), w int8 (N,K),
  bias int32)``: the accelerator's integer layer (``qnn``): int32 accumulate, add bias, arithmetic
  shift right, clip to int8 (ReLU: clip at 0). ``shift`` is one int (one ALU shift per layer) or
  one per output channel (the per-channel quantization mode, CPU only).
  With ``layout="blocked"`` the activations are in the accelerator's blocked DRAM layout (the
  kernel unpacks, computes and packs; ``in_shape`` is the plain input shape).
- ``AccelPack`` / ``AccelUnpack``: plain <-> blocked layouts (``hw.layout``); 4-D NCHW
  activations or 2-D (M, K) matrices.
- ``QAdd``: the residual add on int8 with power-of-two scales (CPU), ReLU optional.
- ``Im2Col``: a conv's input taps as channels, so a conv with few input channels (the stem)
  becomes a 1x1 conv that fills the accelerator's input blocks.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tessera.hw import layout as L
from tessera.hw.config import HwConfig
from tessera.runtime.reference import qnn
from tessera.runtime.reference.common import Kernel


def layout_cfg(a: dict[str, Any]) -> HwConfig:
    """A configuration with the block shape the attributes name (only the blocks matter)."""
    return HwConfig(batch=int(a["batch"]), block_in=int(a["block_in"]),
                    block_out=int(a["block_out"]), dram_bus_bits=32)


def requantize(acc: np.ndarray, bias: np.ndarray | None, shift: Any, relu: bool) -> np.ndarray:
    """``qnn.requantize`` with a per-tensor shift, or per output channel (axis 1)."""
    if isinstance(shift, (int, np.integer)):
        return qnn.requantize(acc, bias, int(shift), relu, channel_axis=1)
    shifts = np.asarray(shift, np.int64)
    if shifts.min() < 0 or shifts.max() > 31:
        raise ValueError(f"requantize: shifts must be in [0, 31], not {shifts.tolist()}")
    out = acc.astype(np.int64)
    shape = [1] * acc.ndim
    shape[1] = -1
    if bias is not None:
        out = out + np.asarray(bias, np.int64).reshape(shape)
    out = out.astype(np.uint32).view(np.int32).astype(np.int64) >> shifts.reshape(shape)
    return np.clip(out, 0 if relu else -128, 127).astype(np.int8)


def pack(x: np.ndarray, cfg: HwConfig, kind: str = "inp") -> np.ndarray:
    if x.ndim == 2:
        return L.pack_activation(x[:, :, None, None], cfg, kind)[:, :, 0, 0]
    return L.pack_activation(x, cfg, kind)


def unpack(x: np.ndarray, shape: tuple[int, ...], cfg: HwConfig, kind: str = "out") -> np.ndarray:
    if len(shape) == 2:
        full = L.unpack_activation(x[:, :, None, None], (shape[0], shape[1], 1, 1), cfg, kind)
        return full[:, :, 0, 0]
    return L.unpack_activation(x, (shape[0], shape[1], shape[2], shape[3]), cfg, kind)


def _blocked_io(a: dict[str, Any], x: np.ndarray) -> tuple[np.ndarray, HwConfig | None]:
    if a.get("layout", "plain") != "blocked":
        return x, None
    cfg = layout_cfg(a)
    return unpack(x, tuple(a["in_shape"]), cfg, "inp"), cfg


def _bias(xs: list[np.ndarray]) -> np.ndarray | None:
    return xs[2] if len(xs) > 2 else None


def qconv2d(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x, cfg = _blocked_io(a, xs[0])
    pads = list(a.get("pads") or [0, 0, 0, 0])
    st = list(a.get("strides") or [1, 1])
    acc = qnn.conv2d_acc(x, xs[1], (st[0], st[1]),
                         (pads[0], pads[1], pads[2], pads[3]))
    y = requantize(acc, _bias(xs), a["shift"], bool(a.get("relu", 0)))
    return y if cfg is None else pack(y, cfg, "out")


def qdense(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x, cfg = _blocked_io(a, xs[0])
    y = requantize(qnn.dense_acc(x, xs[1]), _bias(xs), a["shift"], bool(a.get("relu", 0)))
    return y if cfg is None else pack(y, cfg, "out")


def accel_pack(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    return pack(xs[0], layout_cfg(a), "inp")


def accel_unpack(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    return unpack(xs[0], tuple(a["shape"]), layout_cfg(a), "out")


def im2col(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    """NCHW -> (N, C*KH*KW, OH, OW): channel ``c*KH*KW + kh*KW + kw`` holds the input tap
    (kh, kw) of every output position, so a KHxKW conv becomes a 1x1 conv (exactly)."""
    x = xs[0]
    kh, kw = (int(k) for k in a["kernel_shape"])
    sh, sw = (int(s) for s in a.get("strides") or (1, 1))
    t, lft, b, r = (int(p) for p in a.get("pads") or (0, 0, 0, 0))
    xp = np.pad(x, ((0, 0), (0, 0), (t, b), (lft, r)))
    oh = (xp.shape[2] - kh) // sh + 1
    ow = (xp.shape[3] - kw) // sw + 1
    taps = [xp[:, :, i:i + sh * (oh - 1) + 1:sh, j:j + sw * (ow - 1) + 1:sw]
            for i in range(kh) for j in range(kw)]
    n, c = x.shape[:2]
    return np.ascontiguousarray(np.stack(taps, axis=2).reshape(n, c * kh * kw, oh, ow))


def qadd(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    """int8 + int8 with power-of-two scales, in int32: align both to the finer scale by left
    shifts ``a_shift`` / ``b_shift``, then shift right by ``shift`` (rounding to nearest) to the
    output scale (a negative ``shift`` shifts left), clip (ReLU: at 0)."""
    acc = (xs[0].astype(np.int64) << int(a["a_shift"])) + \
        (xs[1].astype(np.int64) << int(a["b_shift"]))
    s = int(a["shift"])
    acc = (acc + (1 << (s - 1))) >> s if s > 0 else acc << -s
    return np.clip(acc, 0 if a.get("relu", 0) else -128, 127).astype(np.int8)


KERNELS: dict[str, Kernel] = {
    "QConv2d": qconv2d, "QDense": qdense, "AccelPack": accel_pack, "AccelUnpack": accel_unpack,
    "Im2Col": im2col, "QAdd": qadd,
}
