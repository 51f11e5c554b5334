"""Accelerator passes over the loop IR of the te schedule (VTA's ``vta.transform``).

``tessera.compiler.vta.te_lower`` runs them in this order, verifying after each
(``verify_accel``): ``unroll_host_loops`` (the tile and reduction-step loops become a
straight-line program: the accelerator has no branches), ``tensorize_gemm`` (GEMM and its
reset, micro-op kernels), ``inject_alu`` (the epilogue, in place on the accumulators),
``inject_dma_copy`` (2-D LOAD/STORE windows with padding), ``inject_virtual_threads``
(on-chip slots, the software pipeline and its dependency tokens).
"""
