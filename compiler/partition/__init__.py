"""Partitioning a quantized graph between the accelerator and the CPU, and the ``vta`` flow.

    from tessera.compiler.partition import partition, format_partition, compile_vta
"""

from tessera.compiler.partition.place import Placement, format_partition, partition

__all__ = ["Placement", "format_partition", "partition"]
