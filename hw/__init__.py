"""tessera.hw: the accelerator's configuration, instruction set, register map and RTL.

This package is the single source of truth that the compiler, the simulators, the RTL and the
runtime agree on; it imports nothing else from Tessera.
"""

from tessera.hw.config import HwConfig
from tessera.hw.errors import ConfigError, EncodingError, TesseraError

__all__ = ["HwConfig", "ConfigError", "EncodingError", "TesseraError"]
