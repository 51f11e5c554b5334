"""tessera.runtime.cpu: load and call compiled CPU kernels (LLVM IR JIT-compiled by llvmlite).

    from tessera.runtime.cpu import load_kernel, host_target
    k = load_kernel(llvm_ir_text, entry="main", params=[("A", "float32", (4, 4)), ...])
    k(a, b, c)                  # numpy arrays, C-contiguous, checked against params
    k.num_threads = 1           # threads used by the kernel's parallel loops
    k2 = load_spec(json.loads(json.dumps(k.spec())))   # what an artifact stores

Parallel loops are outlined by the code generator into functions ``void(i32 first,
i32 last, ptr env)`` and run through ``__tessera_parallel_launch`` (``launcher.py``): one
persistent pool of worker threads per process, chunks of the range claimed dynamically by
the caller and up to ``num_threads - 1`` workers (about 0.5 us per region when warm).
"""

from tessera.runtime.cpu.kernel import CpuKernel, KernelCallError, load_kernel, load_spec
from tessera.runtime.cpu.target import HostTarget, host_target

__all__ = ["CpuKernel", "HostTarget", "KernelCallError", "host_target", "load_kernel",
           "load_spec"]
