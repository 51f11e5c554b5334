"""The on-disk cache of compiled CPU kernels: native object code keyed by what produced it.

LLVM's O3 pipeline and code generation take 0.05-0.5 s per kernel, and a model build compiles
the same kernels again and again (every build of ResNet-18, every test run). ``load_kernel``
asks this cache first: the key hashes the LLVM IR, the optimization level, the host target
(triple, CPU name, features), the llvmlite and LLVM versions and ``PIPELINE`` (bump it when
the pass pipeline in ``kernel.py`` changes), so a hit is the object that compilation would
produce now.

Entries live in ``$TESSERA_CACHE/kernels`` (``~/.cache/tessera/kernels`` by default; the
directory helper is shared with the Verilator build cache), one file per key:
``MAGIC``, the SHA-256 of the object, then the object. A write goes to a temporary file that
is renamed into place, so concurrent processes see a whole entry or none; an entry whose
header or checksum is wrong is logged, removed and rebuilt, never loaded.
``TESSERA_NO_KERNEL_CACHE=1`` turns the cache off (neither read nor written).
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import tempfile
from pathlib import Path

import llvmlite
import llvmlite.binding as llvm

from tessera.runtime.cpu.target import HostTarget

log = logging.getLogger(__name__)

DISABLE_ENV = "TESSERA_NO_KERNEL_CACHE"
MAGIC = b"TSRKOBJ1"
PIPELINE = "o{opt}-vec-slp-unroll/1"
_DIGEST = 32


def enabled() -> bool:
    return os.environ.get(DISABLE_ENV, "") in ("", "0")


def cache_dir() -> Path:
    from tessera.sim.verilator import cache_base

    return cache_base() / "kernels"


def object_key(llvm_ir: str, target: HostTarget, opt: int, pipeline: str = PIPELINE) -> str:
    """The key of the object code that ``llvm_ir`` compiles to for ``target`` at ``opt``
    through ``pipeline`` (a name with the level in ``{opt}``)."""
    h = hashlib.sha256()
    for part in (pipeline.format(opt=opt), target.key, llvmlite.__version__,
                 ".".join(map(str, llvm.llvm_version_info))):
        h.update(part.encode() + b"\0")
    h.update(llvm_ir.encode())
    return h.hexdigest()


def _path(key: str) -> Path:
    return cache_dir() / key[:2] / f"{key}.o"


def get(key: str) -> bytes | None:
    """The cached object of ``key``, or None (absent, disabled, or a corrupt entry, which is
    removed so the caller's rebuild replaces it)."""
    if not enabled():
        return None
    path = _path(key)
    try:
        blob = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as err:
        log.warning("kernel cache: cannot read %s (%s); recompiling", path, err)
        return None
    head, digest, obj = blob[:len(MAGIC)], blob[len(MAGIC):len(MAGIC) + _DIGEST], \
        blob[len(MAGIC) + _DIGEST:]
    if head != MAGIC or hashlib.sha256(obj).digest() != digest or not obj:
        log.warning("kernel cache: %s is corrupt (bad header or checksum); recompiling", path)
        with contextlib.suppress(OSError):
            path.unlink()
        return None
    return obj


def put(key: str, obj: bytes) -> None:
    """Store ``obj`` under ``key`` atomically; a cache that cannot be written is logged and
    skipped (the kernel still runs)."""
    if not enabled():
        return
    path = _path(key)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".tmp", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(MAGIC + hashlib.sha256(obj).digest() + obj)
            os.replace(tmp, path)
        except BaseException:
            os.unlink(tmp)
            raise
    except OSError as err:
        log.warning("kernel cache: cannot write %s (%s); not cached", path, err)
