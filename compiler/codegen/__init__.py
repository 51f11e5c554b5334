"""tessera.compiler.codegen: code generation.

    from tessera.compiler.codegen import build
    kernel = build(sch, [A, B, C])          # target="llvm": the host CPU
    kernel(a, b, c)                          # numpy arrays; C is written in place
    kernel.num_threads = 1                   # threads for parallel loops

``codegen_llvm(func) -> str`` gives the LLVM IR of a lowered PrimFunc. Compiled kernels are
cached by the structural hash of the lowered IR and the target.
"""

from tessera.compiler.codegen.build import build, clear_cache
from tessera.compiler.codegen.llvm import codegen_llvm

__all__ = ["build", "clear_cache", "codegen_llvm"]
