"""The on-disk kernel cache: hits skip LLVM compilation, corrupt entries are rebuilt, the
switch turns it off, concurrent processes share it, and the key separates what must differ."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tessera.runtime.cpu import KernelCallError, host_target, load_kernel
from tessera.runtime.cpu import object_cache as oc
from tessera.runtime.cpu.kernel import STATS, load_object

# out[i] = a[i] * 2 + 1 over 64 floats; a constant in the IR makes each test's key its own
IR = r"""
define void @axpb(ptr noalias %a, ptr noalias %out) {
entry:
  br label %head
head:
  %i = phi i32 [ 0, %entry ], [ %i.next, %body ]
  %more = icmp slt i32 %i, 64
  br i1 %more, label %body, label %done
body:
  %pa = getelementptr float, ptr %a, i32 %i
  %v = load float, ptr %pa
  %m = fmul float %v, 2.0
  %r = fadd float %m, BIAS
  %po = getelementptr float, ptr %out, i32 %i
  store float %r, ptr %po
  %i.next = add i32 %i, 1
  br label %head
done:
  ret void
}
"""
PARAMS = [("a", "float32", (64,)), ("out", "float32", (64,))]


def _ir(bias: float) -> str:
    return IR.replace("BIAS", f"{bias:.1f}")


def _check(kernel, bias: float) -> None:
    a = np.arange(64, dtype=np.float32)
    out = np.empty(64, np.float32)
    kernel(a, out)
    np.testing.assert_array_equal(out, a * 2 + np.float32(bias))


@pytest.fixture()
def cache(tmp_path, monkeypatch) -> Path:
    monkeypatch.setenv("TESSERA_CACHE", str(tmp_path))
    monkeypatch.delenv(oc.DISABLE_ENV, raising=False)
    return tmp_path / "kernels"


def _entries(root: Path) -> list[Path]:
    return sorted(root.rglob("*.o"))


def test_second_load_takes_the_object_from_disk_and_compiles_nothing(cache) -> None:
    before = dict(STATS)
    _check(load_kernel(_ir(1.0), "axpb", PARAMS), 1.0)
    assert STATS["compiled"] == before["compiled"] + 1
    (entry,) = _entries(cache)
    assert entry.read_bytes().startswith(oc.MAGIC)
    _check(load_kernel(_ir(1.0), "axpb", PARAMS), 1.0)
    assert STATS["compiled"] == before["compiled"] + 1
    assert STATS["cached"] == before["cached"] + 1
    assert _entries(cache) == [entry]
    assert not list(cache.rglob("*.tmp"))


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "not_an_object"])
def test_a_corrupt_entry_is_rebuilt_not_loaded(cache, damage, caplog) -> None:
    load_kernel(_ir(2.0), "axpb", PARAMS)
    (entry,) = _entries(cache)
    blob = entry.read_bytes()
    if damage == "truncate":
        entry.write_bytes(blob[: len(blob) // 2])
    elif damage == "flip":
        entry.write_bytes(blob[:-9] + bytes([blob[-9] ^ 0xFF]) + blob[-8:])
    elif damage == "empty":
        entry.write_bytes(b"")
    else:  # a well-formed entry whose payload is not object code
        junk = b"definitely not an ELF object"
        entry.write_bytes(oc.MAGIC + hashlib.sha256(junk).digest() + junk)
    before = STATS["compiled"]
    _check(load_kernel(_ir(2.0), "axpb", PARAMS), 2.0)
    assert STATS["compiled"] == before + 1
    assert "recompiling" in caplog.text
    assert entry.read_bytes() == blob  # rebuilt and rewritten


def test_the_switch_turns_the_cache_off(cache, monkeypatch) -> None:
    monkeypatch.setenv(oc.DISABLE_ENV, "1")
    before = STATS["compiled"]
    _check(load_kernel(_ir(3.0), "axpb", PARAMS), 3.0)
    _check(load_kernel(_ir(3.0), "axpb", PARAMS), 3.0)
    assert STATS["compiled"] == before + 2
    assert _entries(cache) == []


def test_the_key_separates_ir_opt_level_target_and_versions() -> None:
    t = host_target()
    other = dataclasses.replace(t, features=t.features.replace("+", "-", 1))
    keys = {oc.object_key(_ir(1.0), t, 3), oc.object_key(_ir(1.5), t, 3),
            oc.object_key(_ir(1.0), t, 2), oc.object_key(_ir(1.0), other, 3)}
    assert len(keys) == 4
    assert oc.object_key(_ir(1.0), t, 3) == oc.object_key(_ir(1.0), t, 3)


def test_concurrent_processes_share_one_valid_entry(cache) -> None:
    code = (
        "import numpy as np, sys\n"
        "from tessera.runtime.cpu import load_kernel\n"
        f"ir = {_ir(4.0)!r}\n"
        "k = load_kernel(ir, 'axpb', [('a', 'float32', (64,)), ('out', 'float32', (64,))])\n"
        "a = np.arange(64, dtype=np.float32); out = np.empty(64, np.float32); k(a, out)\n"
        "assert (out == a * 2 + 4).all()\n"
    )
    env = {**os.environ, "TESSERA_CACHE": str(cache.parent)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stderr=subprocess.PIPE,
                              text=True) for _ in range(4)]
    for p in procs:
        _, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
    (entry,) = _entries(cache)
    assert oc.get(entry.stem) is not None
    assert not list(cache.rglob("*.tmp"))


def test_object_code_that_is_not_an_object_is_refused_not_loaded() -> None:
    with pytest.raises(KernelCallError) as e:
        load_object(b"\x7fELF but nothing else", "axpb", PARAMS, _ir(1.0))
    assert str(e.value) == (f"kernel axpb: object code must be a relocatable ELF object for "
                            f"{host_target().triple.split('-')[0]}, not 21 bytes without an "
                            f"ELF header")


def test_an_unwritable_cache_is_skipped_with_a_warning(tmp_path, monkeypatch, caplog) -> None:
    blocker = tmp_path / "not_a_dir"
    blocker.write_text("a file where the cache directory would be")
    monkeypatch.setenv("TESSERA_CACHE", str(blocker))
    monkeypatch.delenv(oc.DISABLE_ENV, raising=False)
    _check(load_kernel(_ir(5.0), "axpb", PARAMS), 5.0)
    assert "kernel cache: cannot write" in caplog.text


def test_the_cache_is_bounded_least_recently_used_first(cache, monkeypatch) -> None:
    for k in range(6):
        oc.put(f"{k:02d}" + "0" * 62, bytes(10_000))
    paths = _entries(cache)
    assert len(paths) == 6
    for k, p in enumerate(sorted(paths)):
        os.utime(p, (1000 + k, 1000 + k))  # entry 0 the oldest
    os.utime(sorted(paths)[1], None)  # entry 1 was just used: it stays
    entry = paths[0].stat().st_size  # 10 kB of object, the header and checksum
    monkeypatch.setenv(oc.SIZE_ENV, str(4.5 * entry / (1 << 20)))
    assert oc.prune() == 3  # 6 entries over a 4.5-entry bound -> down to 3/4 of it (3.4)
    left = {p.name[:2] for p in _entries(cache)}
    assert left == {"01", "04", "05"}
    assert oc.prune() == 0
    monkeypatch.setenv(oc.SIZE_ENV, "lots")
    assert oc.limit_bytes() == oc.DEFAULT_MB << 20
