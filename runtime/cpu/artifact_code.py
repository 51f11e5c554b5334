"""How a compiled CPU kernel travels in an artifact: its LLVM IR and its native object code.

``members(kernel)`` gives the artifact code members of a kernel (``ENTRY.ll``, the portable
source, and ``ENTRY.o``, the object code for the host that built it) and the plan fields that
name them (``code``, ``object``, ``target``: the building host's triple|cpu|features).
``load_member_kernel`` is the loading side: the object code is linked as it is where the
loading host is that target (no LLVM compilation at all); elsewhere, or for an artifact
without object code (older files), the IR is compiled for this host (through the on-disk
kernel cache), with one log message per foreign target.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from tessera.runtime.cpu.kernel import (
    CpuKernel,
    KernelCallError,
    ParamSpec,
    load_kernel,
    load_object,
)
from tessera.runtime.cpu.target import host_target

log = logging.getLogger(__name__)
_FOREIGN_LOGGED: set[str] = set()


def members(kernel: CpuKernel) -> tuple[dict[str, Any], dict[str, bytes]]:
    """(plan fields, code members) that store ``kernel`` in an artifact."""
    ir_member = f"{kernel.entry}.ll"
    fields: dict[str, Any] = {"code": ir_member}
    code = {ir_member: kernel.llvm_ir.encode()}
    if kernel.obj is not None:
        obj_member = f"{kernel.entry}.o"
        fields.update(object=obj_member, target=kernel.target.key)
        code[obj_member] = kernel.obj
    return fields, code


def load_member_kernel(spec: Mapping[str, Any], code: Mapping[str, bytes],
                       params: Sequence[ParamSpec | tuple[str, str, tuple[int, ...]]]
                       ) -> CpuKernel:
    """The kernel of a plan entry ``spec`` (``symbol``, ``code``, optional ``object`` and
    ``target``) from the artifact's ``code`` members; the caller checked ``spec["code"]``."""
    ir = code[spec["code"]].decode()
    entry = str(spec["symbol"])
    obj_member = spec.get("object")
    if obj_member and obj_member in code:
        here = host_target()
        if spec.get("target") == here.key:
            try:
                return load_object(code[obj_member], entry, params, ir, here)
            except KernelCallError as err:
                log.warning("%s; compiling the kernel from its LLVM IR", err)
                return load_kernel(ir, entry, params)
        built_for = str(spec.get("target"))
        if built_for not in _FOREIGN_LOGGED:
            _FOREIGN_LOGGED.add(built_for)
            cpu = built_for.split("|")[1] if built_for.count("|") == 2 else built_for
            log.warning("object code was built for %s, this host is %s: compiling the "
                        "kernels from their LLVM IR", cpu, here.cpu)
    return load_kernel(ir, entry, params)
