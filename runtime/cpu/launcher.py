"""The parallel launcher: a persistent pool of worker threads, written in LLVM IR.

``__tessera_parallel_launch(fn, env, ntask, nthreads)`` runs ``fn(t, m, env)`` for every
``t < m``, ``m = min(ntask, nthreads, 64)``: task 0 on the calling thread, the others on
pool workers (pthreads created on first use and kept). A launch publishes the job, bumps a
generation counter (release) and wakes sleepers with one futex call; workers spin briefly on
the counter, then sleep on it (futex), so an idle pool costs no CPU. The caller waits for
the ``m - 1`` workers on a counter. Only one launch uses the pool at a time: a concurrent
launch (another thread) runs its whole range serially instead of waiting, so nothing can
deadlock. The module is compiled once per process and its entry registered as a symbol,
so every kernel shares one pool.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from typing import Any

import llvmlite.binding as llvm

LAUNCH_FN = "__tessera_parallel_launch"
NUM_THREADS = "__tessera_num_threads"
MAX_THREADS = 64
SPIN_WORKER = 4000  # pause iterations before a worker sleeps on the futex
SPIN_CALLER = 2000  # pause iterations before the caller starts yielding

LAUNCHER_IR = r"""
@tp.gen = internal global i32 0, align 64
@tp.done = internal global i32 0, align 64
@tp.fn = internal global ptr null, align 64
@tp.env = internal global ptr null
@tp.n = internal global i32 0
@tp.nworkers = internal global i32 0
@tp.lock = internal global i32 0, align 64
@tp.tids = internal global [64 x i64] zeroinitializer

declare i32 @pthread_create(ptr, ptr, ptr, ptr)
declare i64 @syscall(i64, ...)
declare i32 @sched_yield()
declare void @llvm.x86.sse2.pause()

define internal ptr @tp.worker(ptr %arg) {
entry:
  %seenp = alloca i32
  %ip = alloca i32
  %a64 = ptrtoint ptr %arg to i64
  %k = trunc i64 %a64 to i32
  %g064 = lshr i64 %a64, 32
  %g0 = trunc i64 %g064 to i32
  store i32 %g0, ptr %seenp
  br label %outer
outer:
  store i32 0, ptr %ip
  br label %spin
spin:
  %g = load atomic i32, ptr @tp.gen acquire, align 4
  %seen = load i32, ptr %seenp
  %changed = icmp ne i32 %g, %seen
  br i1 %changed, label %work, label %spin.more
spin.more:
  %i = load i32, ptr %ip
  %i1 = add i32 %i, 1
  store i32 %i1, ptr %ip
  %long = icmp sgt i32 %i1, SPIN_WORKER
  br i1 %long, label %sleep, label %spin.pause
spin.pause:
  call void @llvm.x86.sse2.pause()
  br label %spin
sleep:
  %r = call i64 (i64, ...) @syscall(i64 202, ptr @tp.gen, i32 128, i32 %seen, ptr null,
                                     ptr null, i32 0)
  br label %outer
work:
  store i32 %g, ptr %seenp
  %n = load i32, ptr @tp.n
  %mine = icmp slt i32 %k, %n
  br i1 %mine, label %run, label %outer
run:
  %fn = load ptr, ptr @tp.fn
  %env = load ptr, ptr @tp.env
  call void %fn(i32 %k, i32 %n, ptr %env)
  %old = atomicrmw add ptr @tp.done, i32 1 release
  br label %outer
}

define void @__tessera_pool_reset() {
  store i32 0, ptr @tp.nworkers
  store i32 0, ptr @tp.lock
  store i32 0, ptr @tp.done
  ret void
}

define void @__tessera_parallel_launch(ptr %fn, ptr %env, i32 %ntask, i32 %nthreads) {
entry:
  %cp = alloca i32
  %c1 = icmp slt i32 %ntask, %nthreads
  %n0 = select i1 %c1, i32 %ntask, i32 %nthreads
  %c3 = icmp sgt i32 %n0, 64
  %n = select i1 %c3, i32 64, i32 %n0
  %single = icmp sle i32 %n, 1
  br i1 %single, label %serial, label %trylock
serial:
  call void %fn(i32 0, i32 1, ptr %env)
  ret void
trylock:
  %pair = cmpxchg ptr @tp.lock, i32 0, i32 1 acquire monotonic
  %got = extractvalue { i32, i1 } %pair, 1
  br i1 %got, label %ensure, label %serial
ensure:
  %have = load i32, ptr @tp.nworkers
  %want = sub i32 %n, 1
  %gnow = load atomic i32, ptr @tp.gen monotonic, align 4
  %gnow64 = zext i32 %gnow to i64
  %ghi = shl i64 %gnow64, 32
  br label %spawn.head
spawn.head:
  %w = phi i32 [ %have, %ensure ], [ %w.next, %spawn.ok ]
  %need = icmp slt i32 %w, %want
  br i1 %need, label %spawn, label %spawned
spawn:
  %task = add i32 %w, 1
  %task64 = zext i32 %task to i64
  %packed = or i64 %ghi, %task64
  %argp = inttoptr i64 %packed to ptr
  %tidp = getelementptr [64 x i64], ptr @tp.tids, i32 0, i32 %w
  %rc = call i32 @pthread_create(ptr %tidp, ptr null, ptr @tp.worker, ptr %argp)
  %ok = icmp eq i32 %rc, 0
  br i1 %ok, label %spawn.ok, label %spawned
spawn.ok:
  %w.next = add i32 %w, 1
  store i32 %w.next, ptr @tp.nworkers
  br label %spawn.head
spawned:
  %nw = load i32, ptr @tp.nworkers
  %cap = add i32 %nw, 1
  %lt = icmp slt i32 %n, %cap
  %m = select i1 %lt, i32 %n, i32 %cap
  store ptr %fn, ptr @tp.fn
  store ptr %env, ptr @tp.env
  store i32 %m, ptr @tp.n
  store atomic i32 0, ptr @tp.done monotonic, align 4
  %gold = atomicrmw add ptr @tp.gen, i32 1 release
  %wake = call i64 (i64, ...) @syscall(i64 202, ptr @tp.gen, i32 129, i32 2147483647,
                                        ptr null, ptr null, i32 0)
  call void %fn(i32 0, i32 %m, ptr %env)
  %target = sub i32 %m, 1
  store i32 0, ptr %cp
  br label %wait
wait:
  %d = load atomic i32, ptr @tp.done acquire, align 4
  %fin = icmp sge i32 %d, %target
  br i1 %fin, label %finish, label %wait.more
wait.more:
  %c = load i32, ptr %cp
  %c.1 = add i32 %c, 1
  store i32 %c.1, ptr %cp
  %slow = icmp sgt i32 %c.1, SPIN_CALLER
  br i1 %slow, label %yield, label %pause
pause:
  call void @llvm.x86.sse2.pause()
  br label %wait
yield:
  %y = call i32 @sched_yield()
  br label %wait
finish:
  store atomic i32 0, ptr @tp.lock release, align 4
  ret void
}
""".replace("SPIN_WORKER", str(SPIN_WORKER)).replace("SPIN_CALLER", str(SPIN_CALLER))

_LOCK = threading.Lock()
_ENGINES: list[Any] = []  # keeps the pool's engine and its reset hook alive


@functools.cache
def ensure_launcher() -> int:
    """Compile the pool once per process and register its entry; returns its address."""
    from tessera.runtime.cpu.target import host_target

    with _LOCK:
        tgt = host_target()
        tm = tgt.target_machine(2)
        mod = llvm.parse_assembly(LAUNCHER_IR)
        mod.triple = tgt.triple
        mod.data_layout = str(tm.target_data)
        mod.verify()
        engine = llvm.create_mcjit_compiler(mod, tm)
        engine.finalize_object()
        _ENGINES.append(engine)
        addr = engine.get_function_address(LAUNCH_FN)
        llvm.add_symbol(LAUNCH_FN, addr)
        reset = ctypes.CFUNCTYPE(None)(engine.get_function_address("__tessera_pool_reset"))
        _ENGINES.append(reset)
        # a forked child has none of the parent's worker threads: start from an empty pool
        os.register_at_fork(after_in_child=reset)
        return int(addr)
