"""tessera.runtime: devices, buffers, programs; runs compiled artifacts without the compiler.

    import tessera.runtime as rt
    dev = rt.device("fsim")           # or "rtl", "rtl-fast"
"""

from tessera.runtime.device import Buffer, Device, DeviceError, Program, RunResult, device

__all__ = ["Buffer", "Device", "DeviceError", "Program", "RunResult", "device"]
