"""tessera.runtime: devices, buffers, programs; runs compiled artifacts without the compiler.

    import tessera.runtime as rt
    dev = rt.device("fsim")           # or "rtl", "rtl-fast"
    m = rt.load("model.tsr")          # a compiled model; m.run({"x": x}) -> [outputs]
"""

from tessera.runtime.artifact import load
from tessera.runtime.device import Buffer, Device, DeviceError, Program, RunResult, device

__all__ = ["Buffer", "Device", "DeviceError", "Program", "RunResult", "device", "load"]
