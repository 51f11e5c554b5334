"""DRAM data layouts of the accelerator (VTA's), with pack/unpack to and from numpy.

A buffer entry is the innermost block of a layout, so a packed array's C-order bytes are
exactly what LOAD/STORE move, and the entry index of a block is its flat index over the
leading axes:

- activations (inp), NCHW -> ``(N/batch, C/block_in, H, W, batch, block_in)`` int8;
- outputs (out), NCHW -> ``(N/batch, C/block_out, H, W, batch, block_out)`` int8;
- accumulators (acc), NCHW -> ``(N/batch, C/block_out, H, W, batch, block_out)`` int32;
- weights (wgt), OIHW -> ``(O/block_out, I/block_in, KH, KW, block_out, block_in)`` int8;
- a bias vector (C,) -> ``(C/block_out, batch, block_out)`` int32 (broadcast over the batch);
- matrices: ``(M, K)`` inputs -> ``(M/batch, K/block_in, batch, block_in)``, ``(N, K)``
  weights -> ``(N/block_out, K/block_in, block_out, block_in)``, ``(M, N)`` outputs ->
  ``(M/batch, N/block_out, batch, block_out)`` (the 1x1 case of the above).

Axes that are not a multiple of their block are zero-padded by ``pack_*``; ``unpack_*`` takes
the original shape and crops the padding off.
"""

from __future__ import annotations

import numpy as np

from tessera.hw.config import HwConfig
from tessera.hw.errors import ConfigError

_DTYPES = {"inp": np.int8, "wgt": np.int8, "out": np.int8, "acc": np.int32}


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def _check_ndim(name: str, arr: np.ndarray, ndim: int, axes: str) -> None:
    if arr.ndim != ndim:
        raise ConfigError(f"{name} must be a {ndim}-D {axes} array, not {arr.ndim}-D {arr.shape}")


def _pad_to(arr: np.ndarray, blocks: dict[int, int]) -> np.ndarray:
    pads = [(0, 0)] * arr.ndim
    for axis, block in blocks.items():
        pads[axis] = (0, _ceil(arr.shape[axis], block) * block - arr.shape[axis])
    return np.pad(arr, pads) if any(p for _, p in pads) else arr


def _kind_block(cfg: HwConfig, kind: str) -> int:
    if kind not in ("inp", "out", "acc"):
        raise ConfigError(f"activation kind must be one of inp, out, acc, not {kind!r}")
    return cfg.block_in if kind == "inp" else cfg.block_out


def pack_activation(x: np.ndarray, cfg: HwConfig, kind: str = "inp") -> np.ndarray:
    """NCHW -> ``(N/batch, C/block, H, W, batch, block)`` of the buffer kind's dtype."""
    x = np.asarray(x)
    _check_ndim("activation", x, 4, "NCHW")
    block = _kind_block(cfg, kind)
    x = _pad_to(x.astype(_DTYPES[kind], copy=False), {0: cfg.batch, 1: block})
    n, c, h, w = x.shape
    blocked = x.reshape(n // cfg.batch, cfg.batch, c // block, block, h, w)
    return np.ascontiguousarray(blocked.transpose(0, 2, 4, 5, 1, 3))


def unpack_activation(
    blocked: np.ndarray, shape: tuple[int, int, int, int], cfg: HwConfig, kind: str = "out"
) -> np.ndarray:
    """Inverse of ``pack_activation``: back to NCHW ``shape`` (padding cropped)."""
    _check_ndim("blocked activation", blocked, 6, "(N/b, C/c, H, W, b, c)")
    block = _kind_block(cfg, kind)
    nb, cb, h, w, b, c = blocked.shape
    if (b, c) != (cfg.batch, block):
        raise ConfigError(
            f"blocked activation's inner block must be {(cfg.batch, block)}, not {(b, c)}"
        )
    x = blocked.transpose(0, 4, 1, 5, 2, 3).reshape(nb * b, cb * c, h, w)
    n, ch, hh, ww = shape
    if n > nb * b or ch > cb * c or (hh, ww) != (h, w):
        raise ConfigError(f"shape {tuple(shape)} does not fit blocked array {blocked.shape}")
    return np.ascontiguousarray(x[:n, :ch])


def pack_weight(w: np.ndarray, cfg: HwConfig) -> np.ndarray:
    """OIHW -> ``(O/block_out, I/block_in, KH, KW, block_out, block_in)`` int8."""
    w = np.asarray(w)
    _check_ndim("weight", w, 4, "OIHW")
    w = _pad_to(w.astype(np.int8, copy=False), {0: cfg.block_out, 1: cfg.block_in})
    o, i, kh, kw = w.shape
    blocked = w.reshape(o // cfg.block_out, cfg.block_out, i // cfg.block_in, cfg.block_in, kh, kw)
    return np.ascontiguousarray(blocked.transpose(0, 2, 4, 5, 1, 3))


def unpack_weight(
    blocked: np.ndarray, shape: tuple[int, int, int, int], cfg: HwConfig
) -> np.ndarray:
    """Inverse of ``pack_weight``."""
    _check_ndim("blocked weight", blocked, 6, "(O/bo, I/bi, KH, KW, bo, bi)")
    ob, ib, kh, kw, bo, bi = blocked.shape
    if (bo, bi) != (cfg.block_out, cfg.block_in):
        raise ConfigError(
            f"blocked weight's inner block must be {(cfg.block_out, cfg.block_in)}, "
            f"not {(bo, bi)}"
        )
    w = blocked.transpose(0, 4, 1, 5, 2, 3).reshape(ob * bo, ib * bi, kh, kw)
    return np.ascontiguousarray(w[: shape[0], : shape[1]])


def pack_bias(bias: np.ndarray, cfg: HwConfig) -> np.ndarray:
    """(C,) int32 -> ``(C/block_out, batch, block_out)`` accumulator entries, one per channel
    block, the same vector in every batch row."""
    bias = np.asarray(bias)
    _check_ndim("bias", bias, 1, "(C,)")
    bias = _pad_to(bias.astype(np.int32, copy=False), {0: cfg.block_out})
    blocks = bias.reshape(-1, 1, cfg.block_out)
    return np.ascontiguousarray(np.broadcast_to(blocks, (len(blocks), cfg.batch, cfg.block_out)))


def pack_matrix_inp(a: np.ndarray, cfg: HwConfig) -> np.ndarray:
    """(M, K) int8 -> ``(M/batch, K/block_in, batch, block_in)``."""
    a = np.asarray(a)
    _check_ndim("input matrix", a, 2, "(M, K)")
    return pack_activation(a[:, :, None, None], cfg, "inp")[:, :, 0, 0]


def pack_matrix_wgt(b: np.ndarray, cfg: HwConfig) -> np.ndarray:
    """(N, K) int8 -> ``(N/block_out, K/block_in, block_out, block_in)``."""
    b = np.asarray(b)
    _check_ndim("weight matrix", b, 2, "(N, K)")
    return pack_weight(b[:, :, None, None], cfg)[:, :, 0, 0]


def pack_matrix_acc(c: np.ndarray, cfg: HwConfig) -> np.ndarray:
    """(M, N) int32 -> ``(M/batch, N/block_out, batch, block_out)``."""
    c = np.asarray(c)
    _check_ndim("accumulator matrix", c, 2, "(M, N)")
    return pack_activation(c[:, :, None, None], cfg, "acc")[:, :, 0, 0]


def unpack_matrix(blocked: np.ndarray, shape: tuple[int, int], cfg: HwConfig) -> np.ndarray:
    """``(M/batch, N/block_out, batch, block_out)`` -> (M, N), padding cropped."""
    _check_ndim("blocked matrix", blocked, 4, "(M/b, N/bo, b, bo)")
    mb, nb, b, bo = blocked.shape
    if shape[0] > mb * b or shape[1] > nb * bo:
        raise ConfigError(f"matrix shape {tuple(shape)} does not fit blocked array "
                          f"{blocked.shape}")
    full = unpack_activation(
        blocked[:, :, None, None], (shape[0], shape[1], 1, 1), cfg, "out"
    )
    return full[:, :, 0, 0]


def packed_shape(kind: str, shape: tuple[int, ...], cfg: HwConfig) -> tuple[int, ...]:
    """The blocked shape ``pack_*`` gives for a ``kind`` (inp, out, acc: NCHW; wgt: OIHW)."""
    if kind == "wgt":
        o, i, kh, kw = shape
        return (_ceil(o, cfg.block_out), _ceil(i, cfg.block_in), kh, kw, cfg.block_out,
                cfg.block_in)
    block = _kind_block(cfg, kind)
    n, c, h, w = shape
    return (_ceil(n, cfg.batch), _ceil(c, block), h, w, cfg.batch, block)
