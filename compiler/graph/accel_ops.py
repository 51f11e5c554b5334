"""Shape functions of the quantized and accelerator-layout ops (see
``tessera.runtime.reference.quantized`` for their semantics): ``QConv2d``, ``QDense``,
``AccelPack``, ``AccelUnpack``, ``Im2Col``, ``QAdd``. All but ``QAdd`` are opaque to
fusion, so each runs as a step of its own and the partitioner can place it."""

from __future__ import annotations

from typing import Any

from tessera.compiler.errors import CompileError
from tessera.compiler.graph import shapes as S
from tessera.compiler.graph.ir import TensorType
from tessera.hw import layout as L
from tessera.runtime.reference.quantized import layout_cfg


def _int8(ts: list[TensorType], what: str) -> None:
    for t, name in zip(ts, ("input", "weight")):
        if t.dtype != "int8":
            raise CompileError(f"{what} {name} dtype must be int8, not {t.dtype}")
    if len(ts) > 2 and ts[2].dtype != "int32":
        raise CompileError(f"{what} bias dtype must be int32, not {ts[2].dtype}")


def _blocked(shape: tuple[int, ...], a: dict[str, Any], kind: str) -> tuple[int, ...]:
    cfg = layout_cfg(a)
    if len(shape) == 2:
        return L.packed_shape(kind, (shape[0], shape[1], 1, 1), cfg)[:2] + (
            cfg.batch, cfg.block_in if kind == "inp" else cfg.block_out)
    return L.packed_shape(kind, shape, cfg)


def _plain_input(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    if a.get("layout", "plain") != "blocked":
        return ts
    in_shape = tuple(a["in_shape"])
    if ts[0].shape != _blocked(in_shape, a, "inp"):
        raise CompileError(
            f"blocked input shape must be {list(_blocked(in_shape, a, 'inp'))} for "
            f"{list(in_shape)}, not {list(ts[0].shape)}"
        )
    return [TensorType(in_shape, ts[0].dtype), *ts[1:]]


def _out(t: TensorType, a: dict[str, Any]) -> list[TensorType]:
    if a.get("layout", "plain") != "blocked":
        return [t]
    return [TensorType(_blocked(t.shape, a, "out"), "int8")]


def qconv2d(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    _int8(ts, "QConv2d")
    plain = _plain_input(ts, a)
    if len(plain[0].shape) != 4:
        raise CompileError(f"QConv2d input must be 4-D NCHW, not {list(plain[0].shape)}")
    return _out(S.conv(plain, {k: v for k, v in a.items() if k in ("strides", "pads")})[0], a)


def qdense(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    _int8(ts, "QDense")
    plain = _plain_input(ts, a)
    return _out(S.gemm(plain[:2], {"transB": 1})[0], a)


def accel_pack(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    if len(ts[0].shape) not in (2, 4) or ts[0].dtype != "int8":
        raise CompileError(
            f"AccelPack input must be a 2-D or 4-D int8 tensor, not {ts[0]}"
        )
    return [TensorType(_blocked(ts[0].shape, a, "inp"), "int8")]


def accel_unpack(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    shape = tuple(a["shape"])
    if ts[0].shape != _blocked(shape, a, "out"):
        raise CompileError(
            f"AccelUnpack input shape must be {list(_blocked(shape, a, 'out'))} for "
            f"{list(shape)}, not {list(ts[0].shape)}"
        )
    return [TensorType(shape, ts[0].dtype)]


def im2col(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    x = ts[0]
    if len(x.shape) != 4:
        raise CompileError(f"Im2Col input must be 4-D NCHW, not {list(x.shape)}")
    kh, kw = a["kernel_shape"]
    sh, sw = a.get("strides") or (1, 1)
    t, lft, b, r = a.get("pads") or (0, 0, 0, 0)
    oh = (x.shape[2] + t + b - kh) // sh + 1
    ow = (x.shape[3] + lft + r - kw) // sw + 1
    if oh <= 0 or ow <= 0:
        raise CompileError(f"Im2Col output must be non-empty, not {oh}x{ow}")
    return [TensorType((x.shape[0], x.shape[1] * kh * kw, oh, ow), x.dtype)]


def qadd(ts: list[TensorType], a: dict[str, Any]) -> list[TensorType]:
    for t in ts:
        if t.dtype != "int8":
            raise CompileError(f"QAdd inputs must be int8, not {t.dtype}")
    return S.broadcast(ts, a)
