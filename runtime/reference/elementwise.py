"""Elementwise and broadcasting kernels: arithmetic, activations, comparisons, casts,
quantization."""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from tessera.runtime.reference.common import Kernel


def _erf(x: np.ndarray) -> np.ndarray:
    return np.vectorize(math.erf, otypes=[x.dtype])(x) if x.size else x.copy()


def _unary(fn: Any) -> Kernel:
    def kernel(xs: list[np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
        x = xs[0]
        return np.asarray(fn(x)).astype(x.dtype, copy=False)

    return kernel


def _binary(fn: Any, keep_dtype: bool = True) -> Kernel:
    def kernel(xs: list[np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
        out = np.asarray(fn(xs[0], xs[1]))
        return out.astype(xs[0].dtype, copy=False) if keep_dtype else out

    return kernel


def _variadic(fn: Any) -> Kernel:
    def kernel(xs: list[np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
        out = xs[0]
        for x in xs[1:]:
            out = fn(out, x)
        return np.asarray(out).astype(xs[0].dtype, copy=False)

    return kernel


def _div(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    if np.issubdtype(a.dtype, np.integer):
        return np.trunc(a / b).astype(a.dtype)
    return a / b


def _mod(xs: list[np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
    if attrs.get("fmod", 0):
        return np.fmod(xs[0], xs[1]).astype(xs[0].dtype)
    return np.mod(xs[0], xs[1]).astype(xs[0].dtype)


def _pow(xs: list[np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
    return np.power(xs[0], xs[1].astype(xs[0].dtype)).astype(xs[0].dtype)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _leaky_relu(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    return np.where(x >= 0, x, x * x.dtype.type(a["alpha"])).astype(x.dtype)


def _elu(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    return np.where(x > 0, x, a["alpha"] * (np.exp(x) - 1)).astype(x.dtype)


def _selu(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    out = a["gamma"] * np.where(x > 0, x, a["alpha"] * (np.exp(x) - 1))
    return out.astype(x.dtype)


def _hard_sigmoid(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    return np.clip(a["alpha"] * x + a["beta"], 0, 1).astype(x.dtype)


def _hard_swish(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    return (x * np.clip(x / 6 + 0.5, 0, 1)).astype(x.dtype)


def _gelu(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    if a.get("approximate", "none") == "tanh":
        out = 0.5 * x * (1 + np.tanh(np.sqrt(2 / np.pi) * (x + 0.044715 * x**3)))
    else:
        out = 0.5 * x * (1 + _erf(x / np.sqrt(2).astype(x.dtype)))
    return out.astype(x.dtype)


def _clip(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    out = x
    if a.get("min") is not None:
        out = np.maximum(out, x.dtype.type(a["min"]))
    if a.get("max") is not None:
        out = np.minimum(out, x.dtype.type(a["max"]))
    return np.asarray(out).astype(x.dtype)


def _where(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    return np.where(xs[0], xs[1], xs[2])


def _cast(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    return xs[0].astype(np.dtype(a["to"]))


def _identity(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    return xs[0]


def _qrange(dtype: np.dtype) -> tuple[int, int]:
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def _axis_shape(x: np.ndarray, p: np.ndarray, axis: int) -> np.ndarray:
    if p.ndim == 0 or p.size == 1 and x.ndim == 0:
        return p.reshape(())
    shape = [1] * x.ndim
    shape[axis % x.ndim] = p.size
    return p.reshape(shape)


def _quantize(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x, scale = xs[0], xs[1]
    out_dtype = np.dtype(a["dtype"])
    zp = xs[2] if len(xs) > 2 else np.zeros((), out_dtype)
    axis = a.get("axis", 1)
    scale = _axis_shape(x, scale, axis)
    zp = _axis_shape(x, zp, axis)
    q = np.rint(x.astype(np.float32) / scale) + zp.astype(np.int32)
    lo, hi = _qrange(out_dtype)
    return np.clip(q, lo, hi).astype(out_dtype)


def _dequantize(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x, scale = xs[0], xs[1]
    zp = xs[2] if len(xs) > 2 else np.zeros((), x.dtype)
    axis = a.get("axis", 1)
    scale = _axis_shape(x, scale, axis)
    zp = _axis_shape(x, zp, axis)
    return ((x.astype(np.int32) - zp.astype(np.int32)) * scale).astype(scale.dtype)


def _cmp(fn: Any) -> Kernel:
    def kernel(xs: list[np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
        return np.asarray(fn(xs[0], xs[1]), dtype=bool)

    return kernel


def _mean(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    out = xs[0]
    for x in xs[1:]:
        out = out + x
    return (out / len(xs)).astype(xs[0].dtype)


def _prelu(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x, slope = xs
    return np.where(x >= 0, x, x * slope).astype(x.dtype)


def _softplus(x: np.ndarray) -> np.ndarray:
    return np.logaddexp(0, x)


def _thresholded_relu(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    return np.where(x > a.get("alpha", 1.0), x, 0).astype(x.dtype)


def _celu(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x, alpha = xs[0], a.get("alpha", 1.0)
    return (np.maximum(0, x) + np.minimum(0, alpha * (np.exp(x / alpha) - 1))).astype(x.dtype)


def _shrink(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x, lambd, bias = xs[0], a.get("lambd", 0.5), a.get("bias", 0.0)
    return np.where(x < -lambd, x + bias, np.where(x > lambd, x - bias, 0)).astype(x.dtype)


def _is_inf(xs: list[np.ndarray], a: dict[str, Any]) -> np.ndarray:
    x = xs[0]
    pos = np.isposinf(x) if a.get("detect_positive", 1) else np.zeros(x.shape, bool)
    neg = np.isneginf(x) if a.get("detect_negative", 1) else np.zeros(x.shape, bool)
    return pos | neg


def _mish(x: np.ndarray) -> np.ndarray:
    return x * np.tanh(np.logaddexp(0, x))


def _bitwise(fn: Any) -> Kernel:
    def kernel(xs: list[np.ndarray], attrs: dict[str, Any]) -> np.ndarray:
        return np.asarray(fn(*xs))

    return kernel


KERNELS: dict[str, Kernel] = {
    "Add": _binary(np.add), "Sub": _binary(np.subtract), "Mul": _binary(np.multiply),
    "Div": _binary(_div), "Pow": _pow, "Mod": _mod,
    "Min": _variadic(np.minimum), "Max": _variadic(np.maximum), "Sum": _variadic(np.add),
    "Mean": _mean,
    "Sqrt": _unary(np.sqrt), "Exp": _unary(np.exp), "Log": _unary(np.log),
    "Neg": _unary(np.negative), "Abs": _unary(np.abs), "Reciprocal": _unary(np.reciprocal),
    "Floor": _unary(np.floor), "Ceil": _unary(np.ceil), "Round": _unary(np.round),
    "Sign": _unary(np.sign), "Sin": _unary(np.sin), "Cos": _unary(np.cos),
    "Tan": _unary(np.tan), "Asin": _unary(np.arcsin), "Acos": _unary(np.arccos),
    "Atan": _unary(np.arctan), "Sinh": _unary(np.sinh), "Cosh": _unary(np.cosh),
    "Asinh": _unary(np.arcsinh), "Acosh": _unary(np.arccosh), "Atanh": _unary(np.arctanh),
    "Relu": _unary(lambda x: np.maximum(x, 0)), "Sigmoid": _unary(_sigmoid),
    "Tanh": _unary(np.tanh), "Erf": _unary(_erf), "Softplus": _unary(_softplus),
    "Softsign": _unary(lambda x: x / (1 + np.abs(x))),
    "Not": _unary(np.logical_not),
    "LeakyRelu": _leaky_relu, "Elu": _elu, "Selu": _selu, "HardSigmoid": _hard_sigmoid,
    "HardSwish": _hard_swish, "Gelu": _gelu, "Clip": _clip, "PRelu": _prelu,
    "Where": _where, "Cast": _cast, "Identity": _identity,
    "Equal": _cmp(np.equal), "Less": _cmp(np.less), "Greater": _cmp(np.greater),
    "LessOrEqual": _cmp(np.less_equal), "GreaterOrEqual": _cmp(np.greater_equal),
    "And": _cmp(np.logical_and), "Or": _cmp(np.logical_or), "Xor": _cmp(np.logical_xor),
    "QuantizeLinear": _quantize, "DequantizeLinear": _dequantize,
    "ThresholdedRelu": _thresholded_relu, "Celu": _celu, "Shrink": _shrink,
    "IsNaN": lambda xs, a: np.isnan(xs[0]), "IsInf": _is_inf, "Mish": _unary(_mish),
    "BitwiseAnd": _bitwise(np.bitwise_and), "BitwiseOr": _bitwise(np.bitwise_or),
    "BitwiseXor": _bitwise(np.bitwise_xor), "BitwiseNot": _bitwise(np.invert),
}
