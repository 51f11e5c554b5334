"""The CPU runtime: host target detection, the parallel launcher, argument checks."""

from __future__ import annotations

import numpy as np
import pytest

from tessera.runtime.cpu import KernelCallError, host_target, load_kernel

IR = r"""
@__tessera_num_threads = global i32 1
declare void @__tessera_parallel_launch(ptr, ptr, i32, i32)
declare i64 @pthread_self()
define internal void @body(i32 %first, i32 %last, ptr %env) {
entry:
  %self = call i64 @pthread_self()
  br label %head
head:
  %i = phi i32 [ %first, %entry ], [ %i.next, %step ]
  %more = icmp slt i32 %i, %last
  br i1 %more, label %step, label %done
step:
  %p = getelementptr i64, ptr %env, i32 %i
  %v = load i64, ptr %p
  %v1 = add i64 %v, 1
  store i64 %v1, ptr %p
  %j = add i32 %i, 32
  %q = getelementptr i64, ptr %env, i32 %j
  store i64 %self, ptr %q
  %i.next = add i32 %i, 1
  br label %head
done:
  ret void
}
define void @main(ptr noalias %out) {
  %nt = load i32, ptr @__tessera_num_threads
  call void @__tessera_parallel_launch(ptr @body, ptr %out, i32 32, i32 %nt)
  ret void
}
"""


def test_host_target_is_detected():
    t = host_target()
    assert t.cpu and t.triple
    assert t.vector_bits in (128, 256, 512)
    assert t.vector_lanes(32) == t.vector_bits // 32


@pytest.mark.parametrize("threads", [1, 2, 3])
def test_launcher_covers_every_iteration_once_on_at_most_n_threads(threads):
    k = load_kernel(IR, "main", [("out", "int64", (64,))])
    k.num_threads = threads
    for _ in range(20):
        out = np.zeros(64, np.int64)
        k(out)
        assert out[:32].tolist() == [1] * 32
        assert 1 <= len(set(out[32:].tolist())) <= threads


def test_argument_checks_name_the_parameter():
    k = load_kernel(IR, "main", [("out", "int64", (64,))])
    with pytest.raises(KernelCallError, match=r"^kernel main: argument out must be int64\[64\], "
                                              r"not float32\[64\]$"):
        k(np.zeros(64, np.float32))
    with pytest.raises(KernelCallError, match=r"^kernel main: must be called with 1 arrays "
                                              r"\(out\), not 2$"):
        k(np.zeros(64, np.int64), np.zeros(64, np.int64))
    with pytest.raises(KernelCallError, match=r"^kernel main: argument out must be "
                                              r"C-contiguous, not strided$"):
        k(np.zeros(128, np.int64)[::2])
    with pytest.raises(KernelCallError, match=r"^kernel main: num_threads must be a positive "
                                              r"int, not 0$"):
        k.num_threads = 0


def test_pool_works_in_a_forked_child():
    import os

    k = load_kernel(IR, "main", [("out", "int64", (64,))])
    k.num_threads = 2
    k(np.zeros(64, np.int64))  # the parent's pool has a worker now
    pid = os.fork()
    if pid == 0:  # child: must not wait for the parent's (absent) worker
        out = np.zeros(64, np.int64)
        k(out)
        os._exit(0 if out[:32].tolist() == [1] * 32 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0


def test_concurrent_launches_from_python_threads_are_correct():
    import threading

    from tessera.compiler import tensor as te
    from tessera.compiler.codegen import build

    n = 4096
    X = te.placeholder((n,), name="X")
    Y = te.compute((n,), lambda i: X[i] * 3.0, name="Y")
    s = te.create_schedule(Y)
    o, _ = s[Y].split(s[Y].op.axis[0], factor=256)
    s[Y].parallel(o)
    k = build(s, [X, Y])
    k.num_threads = 2
    x = np.arange(n, dtype=np.float32)
    errors: list[str] = []

    def work() -> None:
        for _ in range(50):
            y = np.zeros(n, np.float32)
            k(x, y)
            if not np.array_equal(y, x * 3):
                errors.append("mismatch")

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert errors == []


def test_spec_round_trips_through_json():
    import json

    from tessera.compiler import tensor as te
    from tessera.compiler.codegen import build
    from tessera.runtime.cpu import load_spec

    X = te.placeholder((3, 5), name="X")
    Y = te.compute((3, 5), lambda i, j: X[i, j] * 2.0 + 0.25, name="Y")
    k = build(te.create_schedule(Y), [X, Y])
    k2 = load_spec(json.loads(json.dumps(k.spec())))
    x = np.arange(15, dtype=np.float32).reshape(3, 5)
    y = np.zeros((3, 5), np.float32)
    k2(x, y)
    np.testing.assert_array_equal(y, x * 2 + 0.25)
    with pytest.raises(KernelCallError, match=r"^load_spec: format must be"):
        load_spec({"format": "other"})


@pytest.mark.parametrize("triple", ["x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu",
                                    "armv7-unknown-linux-gnueabihf"])
def test_pool_ir_compiles_for_board_cpus_too(triple):
    import llvmlite.binding as llvm

    from tessera.runtime.cpu.launcher import launcher_ir

    llvm.initialize_all_targets()
    llvm.initialize_all_asmprinters()
    mod = llvm.parse_assembly(launcher_ir(triple))
    mod.triple = triple
    mod.verify()
    tm = llvm.Target.from_triple(triple).create_target_machine(reloc="pic")
    assert "__tessera_parallel_launch" in tm.emit_assembly(mod)


def test_pool_rejects_unknown_architectures():
    from tessera.runtime.cpu.launcher import launcher_ir
    from tessera.runtime.device import DeviceError

    with pytest.raises(DeviceError, match=r"architecture must be one of"):
        launcher_ir("riscv64-unknown-linux-gnu")


def test_kernels_built_for_an_older_launcher_abi_are_refused():
    from tessera.runtime.device import DeviceError

    old = IR.replace("declare void @__tessera_parallel_launch(ptr, ptr, i32, i32)",
                     "declare void @__tessera_parallel_launch(ptr, ptr, i32)")
    with pytest.raises(DeviceError, match=r"^kernel main: the parallel launcher must be "
                                          r"declared with 4 parameters"):
        load_kernel(old, "main", [("out", "int64", (64,))])
