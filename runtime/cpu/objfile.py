"""A structural check of native object code before LLVM's loader sees it.

llvmlite hands object bytes to LLVM's RuntimeDyld unchecked, and bytes that are not an
object file crash the process. Artifact members and kernel-cache entries carry checksums,
so only bytes that were never an object (a hand-built plan, another tool's file) reach this
check: the ELF header (class, byte order, relocatable type, machine of the host) and that
every section lies inside the buffer. Mach-O and COFF hosts get the magic-number check only.
"""

from __future__ import annotations

import struct

from tessera.runtime.cpu.target import HostTarget

_ELF_MACHINES = {"x86_64": 62, "aarch64": 183, "arm64": 183, "riscv64": 243, "i386": 3,
                 "i686": 3, "ppc64le": 21, "s390x": 22}
_MACHO = (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe")


def object_problem(obj: bytes, target: HostTarget) -> str:
    """'' when ``obj`` is plausibly an object file for ``target``, else what it must be."""
    arch = target.triple.split("-")[0]
    if obj[:4] in _MACHO or (obj[:2] in (b"\x64\x86", b"\x64\xaa") and "windows" in
                             target.triple):
        return ""
    want = f"a relocatable ELF object for {arch}"
    if len(obj) < 64 or obj[:4] != b"\x7fELF":
        return f"{want}, not {len(obj)} bytes without an ELF header"
    if obj[4] != 2 or obj[5] != 1:  # 64-bit little-endian: the hosts we JIT for
        return f"{want}, not an ELF of class {obj[4]} and byte order {obj[5]}"
    e_type, e_machine = struct.unpack_from("<HH", obj, 16)
    if e_type != 1:
        return f"{want}, not an ELF of type {e_type}"
    if arch in _ELF_MACHINES and e_machine != _ELF_MACHINES[arch]:
        return f"{want}, not an ELF for machine {e_machine}"
    (e_shoff,) = struct.unpack_from("<Q", obj, 40)
    e_shentsize, e_shnum = struct.unpack_from("<HH", obj, 58)
    if e_shentsize != 64 or e_shoff + e_shnum * 64 > len(obj):
        return f"{want}, not an ELF whose section table ends outside its {len(obj)} bytes"
    for k in range(e_shnum):
        sh_type, = struct.unpack_from("<I", obj, e_shoff + 64 * k + 4)
        offset, size = struct.unpack_from("<QQ", obj, e_shoff + 64 * k + 24)
        if sh_type != 8 and offset + size > len(obj):  # 8: SHT_NOBITS (.bss) has no bytes
            return f"{want}, not an ELF whose section {k} ends outside its {len(obj)} bytes"
    return ""
