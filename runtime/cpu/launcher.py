"""The parallel launcher: a persistent pool of worker threads, written in LLVM IR.

``__tessera_parallel_launch(fn, env, extent, nthreads)`` runs ``fn(first, last, env)`` over
chunks that cover ``[0, extent)``, on the calling thread and up to ``nthreads - 1`` pool
workers (pthreads created on first use and kept). Chunks are claimed dynamically from one
64-bit word ``[generation:16][extent:24][next:24]`` by compare-and-swap, so a thread that the
OS deschedules (a shared machine) leaves its share to the others, and a worker that wakes
late finds the word of a newer job and claims nothing: the caller waits only for the chunks
to complete, never for a worker to check in. A launch publishes the job, bumps a generation
counter and wakes sleepers with one futex call; workers spin briefly on the counter, then
sleep on it, so an idle pool costs no CPU. One launch uses the pool at a time: a concurrent
launch (another thread) runs its range serially instead of waiting, and extents of 2^24 or
more run serially too. The module is compiled once per process and its entry registered as
a symbol, so every kernel shares one pool.
"""

from __future__ import annotations

import ctypes
import functools
import os
import threading
from typing import Any

import llvmlite.binding as llvm

from tessera.runtime.cpu import object_cache
from tessera.runtime.device import DeviceError

LAUNCH_FN = "__tessera_parallel_launch"
NUM_THREADS = "__tessera_num_threads"
MAX_THREADS = 64
SPIN_WORKER = 4000  # pause iterations before a worker sleeps on the futex
SPIN_CALLER = 2000  # pause iterations before the caller starts yielding

LAUNCHER_IR = r"""
@tp.gen = internal global i32 0, align 64
@tp.word = internal global i64 0, align 64
@tp.completed = internal global i32 0, align 64
@tp.fn = internal global ptr null, align 64
@tp.env = internal global ptr null
@tp.grain = internal global i32 1
@tp.nworkers = internal global i32 0
@tp.lock = internal global i32 0, align 64
@tp.tids = internal global [64 x i64] zeroinitializer
@tp.kcount = internal global i32 0, align 4
@tp.ktids = internal global [64 x i32] zeroinitializer

declare i32 @pthread_create(ptr, ptr, ptr, ptr)
declare i64 @syscall(i64, ...)
declare i32 @sched_yield()
PAUSE_DECL

; claim and run chunks of the job whose word has generation bits %g16
define internal void @tp.run(i64 %g16) {
entry:
  br label %loop
loop:
  %v = load atomic i64, ptr @tp.word acquire, align 8
  %vg = lshr i64 %v, 48
  %same = icmp eq i64 %vg, %g16
  br i1 %same, label %check, label %exit
check:
  %idx = and i64 %v, 16777215
  %ext.hi = lshr i64 %v, 24
  %ext = and i64 %ext.hi, 16777215
  %more = icmp slt i64 %idx, %ext
  br i1 %more, label %claim, label %exit
claim:
  %grain = load i32, ptr @tp.grain
  %grain64 = zext i32 %grain to i64
  %nidx0 = add i64 %idx, %grain64
  %over = icmp sgt i64 %nidx0, %ext
  %nidx = select i1 %over, i64 %ext, i64 %nidx0
  %nv = add i64 %v, %nidx
  %nv2 = sub i64 %nv, %idx
  %pair = cmpxchg ptr @tp.word, i64 %v, i64 %nv2 acq_rel monotonic
  %won = extractvalue { i64, i1 } %pair, 1
  br i1 %won, label %work, label %loop
work:
  %fn = load ptr, ptr @tp.fn
  %env = load ptr, ptr @tp.env
  %first = trunc i64 %idx to i32
  %last = trunc i64 %nidx to i32
  call void %fn(i32 %first, i32 %last, ptr %env)
  %count = sub i32 %last, %first
  %old = atomicrmw add ptr @tp.completed, i32 %count release
  br label %loop
exit:
  ret void
}

define internal ptr @tp.worker(ptr %arg) {
entry:
  %seenp = alloca i32
  %ip = alloca i32
  %a64 = ptrtoint ptr %arg to i64
  %g0 = trunc i64 %a64 to i32
  store i32 %g0, ptr %seenp
  ; record this worker's kernel thread id, so the host can bind it to a CPU
  %slot = atomicrmw add ptr @tp.kcount, i32 1 monotonic
  %ktid = call i64 (i64, ...) @syscall(i64 SYS_GETTID)
  %ktid32 = trunc i64 %ktid to i32
  %inrange = icmp slt i32 %slot, 64
  br i1 %inrange, label %record, label %outer
record:
  %kp = getelementptr [64 x i32], ptr @tp.ktids, i32 0, i32 %slot
  store atomic i32 %ktid32, ptr %kp release, align 4
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
  PAUSE
  br label %spin
sleep:
  %r = call i64 (i64, ...) @syscall(i64 SYS_FUTEX, ptr @tp.gen, i32 128, i32 %seen, ptr null,
                                     ptr null, i32 0)
  br label %outer
work:
  store i32 %g, ptr %seenp
  %g64 = zext i32 %g to i64
  %g16 = and i64 %g64, 65535
  call void @tp.run(i64 %g16)
  br label %outer
}

define void @__tessera_pool_reset() {
  store i32 0, ptr @tp.nworkers
  store i32 0, ptr @tp.lock
  store i32 0, ptr @tp.kcount
  ret void
}

; the kernel thread ids of the workers started so far (0 for one not yet recorded)
define i32 @__tessera_pool_tids(ptr %out) {
entry:
  %n0 = load atomic i32, ptr @tp.kcount acquire, align 4
  %big = icmp sgt i32 %n0, 64
  %n = select i1 %big, i32 64, i32 %n0
  br label %head
head:
  %i = phi i32 [ 0, %entry ], [ %i1, %body ]
  %more = icmp slt i32 %i, %n
  br i1 %more, label %body, label %done
body:
  %src = getelementptr [64 x i32], ptr @tp.ktids, i32 0, i32 %i
  %v = load atomic i32, ptr %src acquire, align 4
  %dst = getelementptr i32, ptr %out, i32 %i
  store i32 %v, ptr %dst
  %i1 = add i32 %i, 1
  br label %head
done:
  ret i32 %n
}

define internal void @tp.noop(i32 %first, i32 %last, ptr %env) {
  ret void
}

; start the workers a launch on ``nthreads`` threads would use (a launch of nothing)
define void @__tessera_pool_start(i32 %nthreads) {
  call void @__tessera_parallel_launch(ptr @tp.noop, ptr null, i32 %nthreads, i32 %nthreads)
  ret void
}

define void @__tessera_parallel_launch(ptr %fn, ptr %env, i32 %extent, i32 %nthreads) {
entry:
  %cp = alloca i32
  %c1 = icmp slt i32 %extent, %nthreads
  %n0 = select i1 %c1, i32 %extent, i32 %nthreads
  %c3 = icmp sgt i32 %n0, 64
  %n = select i1 %c3, i32 64, i32 %n0
  %single = icmp sle i32 %n, 1
  %huge = icmp sge i32 %extent, 16777216
  %alone = or i1 %single, %huge
  br i1 %alone, label %serial, label %trylock
serial:
  call void %fn(i32 0, i32 %extent, ptr %env)
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
  br label %spawn.head
spawn.head:
  %w = phi i32 [ %have, %ensure ], [ %w.next, %spawn.ok ]
  %need = icmp slt i32 %w, %want
  br i1 %need, label %spawn, label %spawned
spawn:
  %argp = inttoptr i64 %gnow64 to ptr
  %tidp = getelementptr [64 x i64], ptr @tp.tids, i32 0, i32 %w
  %rc = call i32 @pthread_create(ptr %tidp, ptr null, ptr @tp.worker, ptr %argp)
  %ok = icmp eq i32 %rc, 0
  br i1 %ok, label %spawn.ok, label %spawned
spawn.ok:
  %w.next = add i32 %w, 1
  store i32 %w.next, ptr @tp.nworkers
  br label %spawn.head
spawned:
  ; chunks: about eight per thread (balance when a thread is descheduled)
  %n4 = mul i32 %n, 8
  %g.num = add i32 %extent, %n4
  %g.num1 = sub i32 %g.num, 1
  %grain = sdiv i32 %g.num1, %n4
  store ptr %fn, ptr @tp.fn
  store ptr %env, ptr @tp.env
  store i32 %grain, ptr @tp.grain
  store atomic i32 0, ptr @tp.completed monotonic, align 4
  %gnext = add i32 %gnow, 1
  %gnext64 = zext i32 %gnext to i64
  %g16 = and i64 %gnext64, 65535
  %ghi = shl i64 %g16, 48
  %ext64 = zext i32 %extent to i64
  %ehi = shl i64 %ext64, 24
  %word = or i64 %ghi, %ehi
  store atomic i64 %word, ptr @tp.word release, align 8
  store atomic i32 %gnext, ptr @tp.gen release, align 4
  %wake = call i64 (i64, ...) @syscall(i64 SYS_FUTEX, ptr @tp.gen, i32 129, i32 2147483647,
                                        ptr null, ptr null, i32 0)
  call void @tp.run(i64 %g16)
  store i32 0, ptr %cp
  br label %wait
wait:
  %d = load atomic i32, ptr @tp.completed acquire, align 4
  %fin = icmp sge i32 %d, %extent
  br i1 %fin, label %finish, label %wait.more
wait.more:
  %c = load i32, ptr %cp
  %c.1 = add i32 %c, 1
  store i32 %c.1, ptr %cp
  %slow = icmp sgt i32 %c.1, SPIN_CALLER
  br i1 %slow, label %yield, label %pause
pause:
  PAUSE
  br label %wait
yield:
  %y = call i32 @sched_yield()
  br label %wait
finish:
  store atomic i32 0, ptr @tp.lock release, align 4
  ret void
}
"""

# futex(2) and gettid(2) numbers and a spin-wait hint per architecture (the runtime also
# runs on boards)
_FUTEX = {"x86_64": 202, "aarch64": 98, "arm": 240, "i386": 240, "i686": 240}
_GETTID = {"x86_64": 186, "aarch64": 178, "arm": 224, "i386": 224, "i686": 224}
_PAUSE = {
    "x86_64": ("declare void @llvm.x86.sse2.pause()", "call void @llvm.x86.sse2.pause()"),
    "aarch64": ("declare void @llvm.aarch64.hint(i32)", "call void @llvm.aarch64.hint(i32 1)"),
    "arm": ("declare void @llvm.arm.hint(i32)", "call void @llvm.arm.hint(i32 1)"),
}


def launcher_ir(triple: str) -> str:
    """The pool's IR for a target triple (futex number and pause instruction)."""
    arch = triple.split("-")[0]
    arch = "arm" if arch.startswith(("armv", "thumb")) else arch
    if arch not in _FUTEX:
        raise DeviceError(f"parallel launcher: the CPU architecture must be one of "
                          f"{', '.join(sorted(_FUTEX))}, not {arch!r}")
    decl, pause = _PAUSE.get(arch, ("", ""))
    text = LAUNCHER_IR
    if arch in ("arm", "i386", "i686"):  # 32-bit: long is i32 in syscall(2)
        text = text.replace("i64 @syscall(i64, ...)", "i32 @syscall(i32, ...)").replace(
            "call i64 (i64, ...) @syscall(i64 ", "call i32 (i32, ...) @syscall(i32 ").replace(
            "trunc i64 %ktid to i32", "add i32 %ktid, 0")
    return (text.replace("SPIN_WORKER", str(SPIN_WORKER))
            .replace("SPIN_CALLER", str(SPIN_CALLER)).replace("SYS_FUTEX", str(_FUTEX[arch]))
            .replace("SYS_GETTID", str(_GETTID[arch]))
            .replace("PAUSE_DECL", decl).replace("PAUSE", pause))

_LOCK = threading.Lock()
_ENGINES: list[Any] = []  # keeps the pool's engine and its reset hook alive
_POOL: dict[str, Any] = {}  # "tids", "start": the pool's host-side entries (ctypes)


@functools.cache
def ensure_launcher() -> int:
    """Load the pool once per process (its object code from the kernel cache, compiled on a
    miss) and register its entry; returns its address."""
    from tessera.runtime.cpu.target import host_target

    with _LOCK:
        tgt = host_target()
        tm = tgt.target_machine(2)
        text = launcher_ir(tgt.triple)
        key = object_cache.object_key(text, tgt, 2, pipeline="launcher-codegen-o{opt}/1")
        obj = object_cache.get(key)
        if obj is None:  # code generation only (at O2), as MCJIT would do it
            mod = llvm.parse_assembly(text)
            mod.triple = tgt.triple
            mod.data_layout = str(tm.target_data)
            mod.verify()
            obj = tm.emit_object(mod)
            object_cache.put(key, obj)
        empty = llvm.parse_assembly("")
        empty.triple = tgt.triple
        engine = llvm.create_mcjit_compiler(empty, tm)
        engine.add_object_file(llvm.ObjectFileRef.from_data(obj))
        engine.finalize_object()
        _ENGINES.append(engine)
        addr = engine.get_function_address(LAUNCH_FN)
        llvm.add_symbol(LAUNCH_FN, addr)
        reset = ctypes.CFUNCTYPE(None)(engine.get_function_address("__tessera_pool_reset"))
        _ENGINES.append(reset)
        _POOL["tids"] = ctypes.CFUNCTYPE(ctypes.c_int32, ctypes.c_void_p)(
            engine.get_function_address("__tessera_pool_tids"))
        _POOL["start"] = ctypes.CFUNCTYPE(None, ctypes.c_int32)(
            engine.get_function_address("__tessera_pool_start"))
        # a forked child has none of the parent's worker threads: start from an empty pool
        os.register_at_fork(after_in_child=reset)
        return int(addr)


def pool_threads(start: int = 0) -> list[int]:
    """The kernel thread ids of the pool's workers; with ``start``, first make sure the
    workers a ``start``-thread launch uses are running."""
    ensure_launcher()
    if start > 1:
        _POOL["start"](start)
    buf = (ctypes.c_int32 * MAX_THREADS)()
    n = _POOL["tids"](buf)
    return [int(t) for t in buf[:n] if t]
