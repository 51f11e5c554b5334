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

Size: a tuning run compiles thousands of candidate kernels, so the cache is bounded
(``TESSERA_KERNEL_CACHE_MB``, default 1024). A hit refreshes the entry's modification time;
every ``PRUNE_EVERY``-th write in a process (and the first) checks the total and removes the
least recently used entries down to 3/4 of the bound.
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
SIZE_ENV = "TESSERA_KERNEL_CACHE_MB"
DEFAULT_MB = 1024
PRUNE_EVERY = 32
_writes = 0
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
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: the last to be pruned
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
        return
    global _writes
    if _writes % PRUNE_EVERY == 0:
        prune()
    _writes += 1


def limit_bytes() -> int:
    raw = os.environ.get(SIZE_ENV, "")
    try:
        mb = float(raw) if raw else DEFAULT_MB
    except ValueError:
        log.warning("kernel cache: %s=%r is not a number of MB; using %d", SIZE_ENV, raw,
                    DEFAULT_MB)
        mb = DEFAULT_MB
    return int(mb * (1 << 20))


def prune(limit: int | None = None) -> int:
    """Remove the least recently used entries while the cache holds more than ``limit``
    bytes (``limit_bytes()`` by default), down to 3/4 of it; returns how many were removed.
    Entries another process removes meanwhile are skipped."""
    limit = limit_bytes() if limit is None else limit
    entries = []
    for path in cache_dir().glob("*/*.o"):
        with contextlib.suppress(OSError):
            st = path.stat()
            entries.append((st.st_mtime, st.st_size, path))
    total = sum(size for _, size, _ in entries)
    if total <= limit:
        return 0
    removed = 0
    for _, size, path in sorted(entries, key=lambda e: e[0]):
        if total <= limit * 3 // 4:
            break
        with contextlib.suppress(OSError):
            path.unlink()
            removed += 1
        total -= size
    log.info("kernel cache: removed %d least recently used entries (limit %d MB)", removed,
             limit >> 20)
    return removed
