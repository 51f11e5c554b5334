"""Layer workloads the ``vta`` target builds, and their shape in accelerator blocks.

``Conv2dWorkload`` follows VTA's test set (batch, height, width, in/out channels, kernel, pad,
stride; padding symmetric per axis). ``DenseWorkload(m, k, n)`` is ``(M, K) x (N, K)^T``.
Both reduce to one ``Problem``: a conv2d over the blocked layouts of ``tessera.hw.layout``
counted in buffer entries (a dense layer is a 1x1 conv2d over a 1x1 image whose batch is M).
Channels and batch are padded up to the block; the padding is zeros and costs MACs the
accelerator does but the layer does not (``macs`` counts only the layer's own).
"""

from __future__ import annotations

from dataclasses import dataclass

from tessera.compiler.errors import CompileError, UnsupportedError
from tessera.hw.config import HwConfig

MAX_PAD = 15  # the LOAD instruction's 4-bit padding fields


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


@dataclass(frozen=True)
class Conv2dWorkload:
    """An NCHW conv2d: ``batch`` images of ``height x width`` with ``in_channels`` channels,
    ``out_channels`` filters of ``kernel_h x kernel_w``, symmetric zero padding and strides.
    ``groups`` other than 1 (depthwise, grouped) is not offloaded: see the package docstring.
    ``pad_bottom``/``pad_right`` default to ``pad_h``/``pad_w`` (asymmetric padding, as ONNX
    allows, when given)."""

    batch: int
    height: int
    width: int
    in_channels: int
    out_channels: int
    kernel_h: int
    kernel_w: int
    pad_h: int = 0
    pad_w: int = 0
    stride_h: int = 1
    stride_w: int = 1
    groups: int = 1
    pad_bottom: int | None = None
    pad_right: int | None = None

    @property
    def pad_b(self) -> int:
        return self.pad_h if self.pad_bottom is None else self.pad_bottom

    @property
    def pad_r(self) -> int:
        return self.pad_w if self.pad_right is None else self.pad_right

    @property
    def out_height(self) -> int:
        return (self.height + self.pad_h + self.pad_b - self.kernel_h) // self.stride_h + 1

    @property
    def out_width(self) -> int:
        return (self.width + self.pad_w + self.pad_r - self.kernel_w) // self.stride_w + 1

    @property
    def macs(self) -> int:
        """Multiply-accumulates of the layer itself (no block padding)."""
        return (self.batch * self.out_channels * self.out_height * self.out_width
                * self.in_channels * self.kernel_h * self.kernel_w)

    @property
    def weight_shape(self) -> tuple[int, int, int, int]:
        return (self.out_channels, self.in_channels, self.kernel_h, self.kernel_w)

    @property
    def pads(self) -> tuple[int, int, int, int]:
        """(top, left, bottom, right), the order of ``runtime.reference.qnn``."""
        return (self.pad_h, self.pad_w, self.pad_b, self.pad_r)


@dataclass(frozen=True)
class DenseWorkload:
    """``(M, K) x (N, K)^T``: ``m`` rows, ``k`` inputs, ``n`` outputs."""

    m: int
    k: int
    n: int

    @property
    def macs(self) -> int:
        return self.m * self.k * self.n

    @property
    def weight_shape(self) -> tuple[int, int]:
        return (self.n, self.k)


@dataclass(frozen=True)
class Problem:
    """A layer in accelerator units: blocks of batch (nb), input (icb) and output (ocb)
    channels, the image, the kernel, padding and strides."""

    kind: str  # "conv2d" or "dense"
    name: str
    nb: int
    icb: int
    ocb: int
    h: int
    w: int
    oh: int
    ow: int
    kh: int
    kw: int
    pad_h: int
    pad_w: int
    stride_h: int
    stride_w: int
    macs: int
    pad_b: int = 0  # bottom and right padding (only the output size and te shapes use them)
    pad_r: int = 0


def _positive(where: str, **values: int) -> None:
    for key, value in values.items():
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise CompileError(f"{where}: {key} must be a positive int, not {value!r}")


def conv2d_problem(wkl: Conv2dWorkload, cfg: HwConfig, name: str) -> Problem:
    """Check ``wkl`` and give its blocked shape; bad values are a CompileError naming the
    field, shapes the accelerator cannot run an UnsupportedError."""
    where = f"conv2d {name!r}"
    _positive(where, batch=wkl.batch, height=wkl.height, width=wkl.width,
              in_channels=wkl.in_channels, out_channels=wkl.out_channels,
              kernel_h=wkl.kernel_h, kernel_w=wkl.kernel_w, stride_h=wkl.stride_h,
              stride_w=wkl.stride_w, groups=wkl.groups)
    for key, value in (("pad_h", wkl.pad_h), ("pad_w", wkl.pad_w),
                       ("pad_bottom", wkl.pad_b), ("pad_right", wkl.pad_r)):
        if not isinstance(value, int) or value < 0:
            raise CompileError(f"{where}: {key} must be a non-negative int, not {value!r}")
    if wkl.groups != 1:
        raise UnsupportedError(
            f"{where}: groups must be 1 on the accelerator, not {wkl.groups}; depthwise and "
            "grouped convolutions run on the CPU fallback"
        )
    checks = (("pad_h", wkl.pad_h, "kernel_h", wkl.kernel_h),
              ("pad_w", wkl.pad_w, "kernel_w", wkl.kernel_w),
              ("pad_bottom", wkl.pad_b, "kernel_h", wkl.kernel_h),
              ("pad_right", wkl.pad_r, "kernel_w", wkl.kernel_w))
    for key, pad, kname, k in checks:
        if pad >= k or pad > MAX_PAD:
            raise UnsupportedError(
                f"{where}: {key} must be smaller than {kname} ({k}) and at most {MAX_PAD} "
                f"(the DMA's padding field), not {pad}"
            )
    if wkl.out_height < 1 or wkl.out_width < 1:
        raise CompileError(
            f"{where}: the output must not be empty, not {wkl.out_height}x{wkl.out_width}"
        )
    return Problem(
        "conv2d", name, _ceil(wkl.batch, cfg.batch), _ceil(wkl.in_channels, cfg.block_in),
        _ceil(wkl.out_channels, cfg.block_out), wkl.height, wkl.width, wkl.out_height,
        wkl.out_width, wkl.kernel_h, wkl.kernel_w, wkl.pad_h, wkl.pad_w, wkl.stride_h,
        wkl.stride_w, wkl.macs, wkl.pad_b, wkl.pad_r,
    )


def dense_problem(wkl: DenseWorkload, cfg: HwConfig, name: str) -> Problem:
    _positive(f"dense {name!r}", m=wkl.m, k=wkl.k, n=wkl.n)
    return Problem(
        "dense", name, _ceil(wkl.m, cfg.batch), _ceil(wkl.k, cfg.block_in),
        _ceil(wkl.n, cfg.block_out), 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, wkl.macs,
    )


# VTA's ResNet-18 convolution test set (C2..C11): batch, H, W, Cin, Cout, KH, KW, pad_h,
# pad_w, stride_h, stride_w -- the layers the published utilization figures are about.
RESNET18_CONV: dict[str, Conv2dWorkload] = {
    "C2": Conv2dWorkload(1, 56, 56, 64, 64, 3, 3, 1, 1, 1, 1),
    "C3": Conv2dWorkload(1, 56, 56, 64, 128, 3, 3, 1, 1, 2, 2),
    "C4": Conv2dWorkload(1, 56, 56, 64, 128, 1, 1, 0, 0, 2, 2),
    "C5": Conv2dWorkload(1, 28, 28, 128, 128, 3, 3, 1, 1, 1, 1),
    "C6": Conv2dWorkload(1, 28, 28, 128, 256, 3, 3, 1, 1, 2, 2),
    "C7": Conv2dWorkload(1, 28, 28, 128, 256, 1, 1, 0, 0, 2, 2),
    "C8": Conv2dWorkload(1, 14, 14, 256, 256, 3, 3, 1, 1, 1, 1),
    "C9": Conv2dWorkload(1, 14, 14, 256, 512, 3, 3, 1, 1, 2, 2),
    "C10": Conv2dWorkload(1, 14, 14, 256, 512, 1, 1, 0, 0, 2, 2),
    "C11": Conv2dWorkload(1, 7, 7, 512, 512, 3, 3, 1, 1, 1, 1),
}
