"""The accelerator's hardware configuration: the one source of truth for every width and depth.

The ISA field widths (``tessera.hw.isa``), the DRAM layouts, the functional simulator, the
generated Verilog parameter file and the compiler's tiling limits all derive from a
``HwConfig``. Two configurations ship:

- ``HwConfig.default()``: VTA's 1x16x16 int8/int32 shape and buffer sizes (micro-op 32 KiB,
  input 32 KiB, weight 256 KiB, accumulator 128 KiB, output 32 KiB), 200 MHz, a 64-bit DRAM bus
  with 32 cycles of read latency (a Zynq-7000 HP port).
- ``HwConfig.small()``: 1x4x4 with small buffers and a 32-bit DRAM bus (so that a 4-byte
  input entry is one whole beat), for fast tests and fast RTL builds.

Buffer depths are counted in *entries*: an input entry is ``batch x block_in`` values, a weight
entry ``block_out x block_in``, an accumulator and an output entry ``batch x block_out``, a
micro-op entry one 32-bit word.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tessera.hw.errors import ConfigError

UOP_BITS = 32
INSN_BITS = 128


def _is_pow2(x: int) -> bool:
    return x > 0 and (x & (x - 1)) == 0


def log2(x: int) -> int:
    """Exact log2 of a power of two."""
    return x.bit_length() - 1


@dataclass(frozen=True)
class HwConfig:
    """Shape of one accelerator instance. Validated on construction."""

    batch: int = 1
    block_in: int = 16
    block_out: int = 16
    inp_width: int = 8
    wgt_width: int = 8
    acc_width: int = 32
    out_width: int = 8
    uop_depth: int = 8192
    inp_depth: int = 2048
    wgt_depth: int = 1024
    acc_depth: int = 2048
    # Token queues between load, compute and store: how many tokens each can hold.
    token_depth: int = 64
    clock_mhz: float = 200.0
    # DRAM interface: data bus width in bits and latency in cycles from request to first beat.
    dram_bus_bits: int = 64
    dram_read_latency: int = 32
    dram_write_latency: int = 32
    # Longest AXI burst the DMA engines issue, in beats.
    max_burst: int = 16
    name: str = "default"

    def __post_init__(self) -> None:
        self.validate()

    # ------------------------------------------------------------------ presets
    @classmethod
    def default(cls) -> HwConfig:
        return cls()

    @classmethod
    def small(cls) -> HwConfig:
        return cls(
            block_in=4,
            block_out=4,
            uop_depth=1024,
            inp_depth=512,
            wgt_depth=128,
            acc_depth=512,
            token_depth=16,
            dram_bus_bits=32,
            name="small",
        )

    @classmethod
    def named(cls, name: str) -> HwConfig:
        presets = {"default": cls.default, "small": cls.small}
        if name not in presets:
            raise ConfigError(
                f"configuration name must be one of {sorted(presets)}, not {name!r}"
            )
        return presets[name]()

    # ------------------------------------------------------------------ validation
    def validate(self) -> None:
        pow2 = (
            "batch", "block_in", "block_out", "uop_depth", "inp_depth", "wgt_depth",
            "acc_depth", "token_depth", "dram_bus_bits", "max_burst",
        )
        for field in pow2:
            value = getattr(self, field)
            if not isinstance(value, int) or not _is_pow2(value):
                raise ConfigError(f"HwConfig.{field} must be a power of two, not {value!r}")
        widths = {"inp_width": (8,), "wgt_width": (8,), "acc_width": (32,), "out_width": (8,)}
        for field, allowed in widths.items():
            value = getattr(self, field)
            if value not in allowed:
                raise ConfigError(f"HwConfig.{field} must be one of {allowed}, not {value!r}")
        if self.dram_bus_bits < 32 or self.dram_bus_bits > 512:
            raise ConfigError(
                f"HwConfig.dram_bus_bits must be between 32 and 512, not {self.dram_bus_bits}"
            )
        for field in ("dram_read_latency", "dram_write_latency"):
            value = getattr(self, field)
            if not isinstance(value, int) or value < 0 or value > 4096:
                raise ConfigError(f"HwConfig.{field} must be an int in [0, 4096], not {value!r}")
        if self.max_burst > 256:
            raise ConfigError(f"HwConfig.max_burst must be at most 256 beats, not {self.max_burst}")
        if self.clock_mhz <= 0:
            raise ConfigError(f"HwConfig.clock_mhz must be positive, not {self.clock_mhz}")
        uop_fields = self.log_acc_depth + max(self.log_inp_depth, self.log_acc_depth)
        uop_fields += self.log_wgt_depth
        if uop_fields > UOP_BITS:
            raise ConfigError(
                "HwConfig buffer depths must fit a 32-bit micro-op: log2(acc_depth) + "
                "max(log2(inp_depth), log2(acc_depth)) + log2(wgt_depth) must be <= 32, "
                f"not {uop_fields}"
            )
        for kind in ("inp", "wgt", "acc", "out"):
            if self.entry_bytes(kind) * 8 % self.dram_bus_bits:
                # Keeps every DMA transfer a whole number of bus beats.
                raise ConfigError(
                    f"HwConfig: a {kind} entry ({self.entry_bytes(kind)} bytes) must be a "
                    f"multiple of the {self.dram_bus_bits}-bit DRAM bus"
                )

    # ------------------------------------------------------------------ derived values
    @property
    def out_depth(self) -> int:
        """The output buffer mirrors the accumulator: one narrowed entry per accumulator entry."""
        return self.acc_depth

    @property
    def log_uop_depth(self) -> int:
        return log2(self.uop_depth)

    @property
    def log_inp_depth(self) -> int:
        return log2(self.inp_depth)

    @property
    def log_wgt_depth(self) -> int:
        return log2(self.wgt_depth)

    @property
    def log_acc_depth(self) -> int:
        return log2(self.acc_depth)

    def entry_elems(self, kind: str) -> int:
        """Values in one buffer entry of ``kind`` (uop, inp, wgt, acc, out)."""
        table = {
            "uop": 1,
            "inp": self.batch * self.block_in,
            "wgt": self.block_out * self.block_in,
            "acc": self.batch * self.block_out,
            "out": self.batch * self.block_out,
        }
        if kind not in table:
            raise ConfigError(f"buffer kind must be one of {sorted(table)}, not {kind!r}")
        return table[kind]

    def entry_bytes(self, kind: str) -> int:
        """Bytes of one buffer entry of ``kind`` in DRAM and on chip."""
        bits = {
            "uop": UOP_BITS,
            "inp": self.inp_width,
            "wgt": self.wgt_width,
            "acc": self.acc_width,
            "out": self.out_width,
        }
        return self.entry_elems(kind) * bits[kind] // 8

    def depth(self, kind: str) -> int:
        """Entries in the on-chip buffer of ``kind``."""
        table = {
            "uop": self.uop_depth,
            "inp": self.inp_depth,
            "wgt": self.wgt_depth,
            "acc": self.acc_depth,
            "out": self.out_depth,
        }
        if kind not in table:
            raise ConfigError(f"buffer kind must be one of {sorted(table)}, not {kind!r}")
        return table[kind]

    def buffer_bytes(self, kind: str) -> int:
        return self.depth(kind) * self.entry_bytes(kind)

    @property
    def macs_per_cycle(self) -> int:
        """Peak multiply-accumulates per cycle of the GEMM core."""
        return self.batch * self.block_in * self.block_out

    @property
    def peak_gops(self) -> float:
        return 2.0 * self.macs_per_cycle * self.clock_mhz / 1000.0

    @property
    def bus_bytes(self) -> int:
        return self.dram_bus_bits // 8

    # ------------------------------------------------------------------ serialization
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> HwConfig:
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ConfigError(f"HwConfig has no field(s) {unknown}; known fields: {sorted(known)}")
        return cls(**data)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> HwConfig:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"HwConfig JSON is malformed: {err}") from None
        if not isinstance(data, dict):
            raise ConfigError(f"HwConfig JSON must be an object, not {type(data).__name__}")
        return cls.from_dict(data)

    def save(self, path: str | Path) -> None:
        Path(path).write_text(self.to_json() + "\n")

    @classmethod
    def load(cls, path: str | Path) -> HwConfig:
        return cls.from_json(Path(path).read_text())

    def key(self) -> str:
        """A short stable identifier of this configuration (for caches and databases)."""
        import hashlib

        digest = hashlib.sha256(json.dumps(self.to_dict(), sort_keys=True).encode()).hexdigest()
        return f"{self.name}-{self.batch}x{self.block_in}x{self.block_out}-{digest[:10]}"
