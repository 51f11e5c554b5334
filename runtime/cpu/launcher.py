"""The parallel launcher, in LLVM IR, linked into every module that has a parallel loop.

``__tessera_parallel_launch(fn, env, ntask)`` runs ``fn(t, n, env)`` for ``t < n`` where
``n = min(ntask, __tessera_num_threads, 64)``: task 0 on the calling thread, the others on
pthreads created for the region and joined at its end (a failed pthread_create runs its
task inline, so a region always completes).
"""

LAUNCH_FN = "__tessera_parallel_launch"
NUM_THREADS = "__tessera_num_threads"
MAX_THREADS = 64

LAUNCHER_IR = r"""
@__tessera_num_threads = global i32 1

%tessera.closure = type { ptr, ptr, i32, i32 }

declare i32 @pthread_create(ptr, ptr, ptr, ptr)
declare i32 @pthread_join(i64, ptr)

define internal ptr @__tessera_trampoline(ptr %c) {
entry:
  %fnp = getelementptr %tessera.closure, ptr %c, i32 0, i32 0
  %fn = load ptr, ptr %fnp
  %envp = getelementptr %tessera.closure, ptr %c, i32 0, i32 1
  %env = load ptr, ptr %envp
  %tp = getelementptr %tessera.closure, ptr %c, i32 0, i32 2
  %t = load i32, ptr %tp
  %np = getelementptr %tessera.closure, ptr %c, i32 0, i32 3
  %n = load i32, ptr %np
  call void %fn(i32 %t, i32 %n, ptr %env)
  ret ptr null
}

define void @__tessera_parallel_launch(ptr %fn, ptr %env, i32 %ntask) {
entry:
  %cl = alloca [64 x %tessera.closure], align 16
  %tids = alloca [64 x i64], align 16
  %made = alloca [64 x i8], align 16
  %nt = load i32, ptr @__tessera_num_threads
  %c1 = icmp slt i32 %ntask, %nt
  %n0 = select i1 %c1, i32 %ntask, i32 %nt
  %c2 = icmp slt i32 %n0, 1
  %n1 = select i1 %c2, i32 1, i32 %n0
  %c3 = icmp sgt i32 %n1, 64
  %n = select i1 %c3, i32 64, i32 %n1
  br label %spawn.head
spawn.head:
  %t = phi i32 [ 1, %entry ], [ %t.next, %spawn.done ]
  %more = icmp slt i32 %t, %n
  br i1 %more, label %spawn.body, label %run0
spawn.body:
  %cp = getelementptr [64 x %tessera.closure], ptr %cl, i32 0, i32 %t
  %f0 = getelementptr %tessera.closure, ptr %cp, i32 0, i32 0
  store ptr %fn, ptr %f0
  %f1 = getelementptr %tessera.closure, ptr %cp, i32 0, i32 1
  store ptr %env, ptr %f1
  %f2 = getelementptr %tessera.closure, ptr %cp, i32 0, i32 2
  store i32 %t, ptr %f2
  %f3 = getelementptr %tessera.closure, ptr %cp, i32 0, i32 3
  store i32 %n, ptr %f3
  %tidp = getelementptr [64 x i64], ptr %tids, i32 0, i32 %t
  %mp = getelementptr [64 x i8], ptr %made, i32 0, i32 %t
  %rc = call i32 @pthread_create(ptr %tidp, ptr null, ptr @__tessera_trampoline, ptr %cp)
  %ok = icmp eq i32 %rc, 0
  %okb = zext i1 %ok to i8
  store i8 %okb, ptr %mp
  br i1 %ok, label %spawn.done, label %spawn.inline
spawn.inline:
  call void %fn(i32 %t, i32 %n, ptr %env)
  br label %spawn.done
spawn.done:
  %t.next = add i32 %t, 1
  br label %spawn.head
run0:
  call void %fn(i32 0, i32 %n, ptr %env)
  br label %join.head
join.head:
  %j = phi i32 [ 1, %run0 ], [ %j.next, %join.next ]
  %jmore = icmp slt i32 %j, %n
  br i1 %jmore, label %join.body, label %exit
join.body:
  %jmp = getelementptr [64 x i8], ptr %made, i32 0, i32 %j
  %jm = load i8, ptr %jmp
  %was = icmp ne i8 %jm, 0
  br i1 %was, label %join.do, label %join.next
join.do:
  %jtp = getelementptr [64 x i64], ptr %tids, i32 0, i32 %j
  %jt = load i64, ptr %jtp
  %jrc = call i32 @pthread_join(i64 %jt, ptr null)
  br label %join.next
join.next:
  %j.next = add i32 %j, 1
  br label %join.head
exit:
  ret void
}
"""
