"""LLVM code generation for the host CPU: a PrimFunc becomes an LLVM module (text).

The entry is ``void name(ptr noalias p0, ...)``, one pointer per parameter buffer. Vector
expressions become LLVM vectors, ``a*b + c`` on floats becomes ``llvm.fmuladd`` (an FMA on
hosts that have one). Parallel loops are outlined into ``void(i32 first, i32 last, ptr env)``
functions (one chunk of the range) run by the runtime's pool; allocations are stack arrays
(promoted to registers by LLVM when fully unrolled), anything over 64 KiB comes from
``aligned_alloc``.
"""

from __future__ import annotations

import itertools
from typing import Any

import llvmlite.ir as ir

from tessera.compiler.codegen.llvm_expr import I32, I64, PTR, ExprEmitter, ltype, mtype, nbytes
from tessera.compiler.errors import UnsupportedError
from tessera.compiler.tensor import expr as E
from tessera.compiler.tensor import stmt as S
from tessera.compiler.tensor.functor import free_vars, walk
from tessera.runtime.cpu.launcher import LAUNCH_FN, NUM_THREADS

STACK_LIMIT = 64 * 1024  # bytes; larger non-local allocations go to the heap


class _FuncGen(ExprEmitter):
    def __init__(self, module: ir.Module, fn: ir.Function, vars: dict[E.Var, ir.Value],
                 bufs: dict[Any, ir.Value], counter: itertools.count) -> None:
        self.module, self.fn = module, fn
        self.entry = fn.append_basic_block("entry")
        body = fn.append_basic_block("body")
        self.b = ir.IRBuilder(body)
        self.vars, self.bufs = dict(vars), dict(bufs)
        self.counter = counter
        self.in_parallel = False

    def finish(self) -> None:
        self.b.ret_void()
        ir.IRBuilder(self.entry).branch(self.fn.basic_blocks[1])

    def alloca(self, t: ir.Type, align: int = 64) -> ir.Value:
        return _aligned_alloca(ir.IRBuilder(self.entry), t, align)

    def stmt(self, s: S.Stmt) -> None:  # noqa: C901 - one dispatch table
        if isinstance(s, S.SeqStmt):
            for x in s.stmts:
                self.stmt(x)
        elif isinstance(s, S.BufferStore):
            self.store(s)
        elif isinstance(s, S.For):
            if s.kind == "thread_binding":
                raise UnsupportedError(f"codegen llvm: thread_binding loop {s.var.name} must be "
                                       f"lowered by a GPU target, not run on the CPU")
            if s.kind == S.PARALLEL and not self.in_parallel:
                self.parallel(s)
            else:
                self.loop(s)
        elif isinstance(s, S.IfThenElse):
            cond = self.expr(s.cond)
            if s.else_case is None:
                with self.b.if_then(cond):
                    self.stmt(s.then_case)
            else:
                with self.b.if_else(cond) as (then, other):
                    with then:
                        self.stmt(s.then_case)
                    with other:
                        self.stmt(s.else_case)
        elif isinstance(s, S.LetStmt):
            self.vars[s.var] = self.expr(s.value)
            self.stmt(s.body)
        elif isinstance(s, S.Allocate):
            self.allocate(s)
        elif isinstance(s, S.Evaluate):
            self.expr(s.value)
        elif isinstance(s, S.AttrStmt):
            if s.key == "tensorize":
                raise UnsupportedError(f"codegen llvm: tensorize({s.value!r}) must be lowered by "
                                       f"a target pass before LLVM code generation, not left")
            self.stmt(s.body)  # pragmas are hints for other targets
        else:
            raise UnsupportedError(f"codegen llvm: statement must be a loop-IR statement, "
                                   f"not {type(s).__name__}")

    def store(self, s: S.BufferStore) -> None:
        idx = s.indices[0]
        align = nbytes(s.buffer.dtype)
        n = E.lanes_of(s.value.dtype)
        val = self.to_memory(self.expr(s.value), s.value.dtype)
        if n == 1:
            self.b.store(val, self.address(s.buffer, self.expr(idx)), align=align)
        elif isinstance(idx, E.Ramp) and isinstance(idx.stride, E.Const) and idx.stride.value == 1:
            self.b.store(val, self.address(s.buffer, self.expr(idx.base)), align=align)
        else:
            vidx = self.expr(idx)
            for k in range(n):
                lane = ir.Constant(I32, k)
                self.b.store(self.b.extract_element(val, lane),
                             self.address(s.buffer, self.b.extract_element(vidx, lane)),
                             align=align)

    def allocate(self, s: S.Allocate) -> None:
        buf = s.buffer
        et = mtype(buf.dtype)
        size_b = buf.size * nbytes(buf.dtype)
        if size_b > STACK_LIMIT:  # any scope: worker threads have bounded stacks
            malloc = self._decl("aligned_alloc", ir.FunctionType(PTR, [I64, I64]))
            free = self._decl("free", ir.FunctionType(ir.VoidType(), [PTR]))
            size = (size_b + 63) // 64 * 64
            ptr = self.b.call(malloc, [ir.Constant(I64, 64), ir.Constant(I64, size)])
            self.bufs[buf] = ptr
            self.stmt(s.body)
            self.b.call(free, [ptr])
        else:
            self.bufs[buf] = self.alloca(ir.ArrayType(et, buf.size))
            self.stmt(s.body)

    def _decl(self, name: str, ft: ir.FunctionType) -> ir.Function:
        fn = self.module.globals.get(name)
        return fn if fn is not None else ir.Function(self.module, ft, name)

    def loop(self, s: S.For, lo: ir.Value | None = None, hi: ir.Value | None = None) -> None:
        start = lo if lo is not None else self.expr(s.min)
        end = hi if hi is not None else self.b.add(start, self.expr(s.extent))
        pre = self.b.block
        head = self.b.append_basic_block(f"for.{s.var.name}")
        body = self.b.append_basic_block(f"for.{s.var.name}.body")
        done = self.b.append_basic_block(f"for.{s.var.name}.end")
        self.b.branch(head)
        self.b.position_at_end(head)
        phi = self.b.phi(I32, name=s.var.name)
        phi.add_incoming(start, pre)
        self.b.cbranch(self.b.icmp_signed("<", phi, end), body, done)
        self.b.position_at_end(body)
        self.vars[s.var] = phi
        self.stmt(s.body)
        nxt = self.b.add(phi, ir.Constant(I32, 1), flags=["nsw"])
        phi.add_incoming(nxt, self.b.block)
        self.b.branch(head)
        self.b.position_at_end(done)

    def parallel(self, s: S.For) -> None:
        """Outline the loop body; the launcher calls it once per task with a chunk."""
        used_vars = sorted(free_vars(s.body) - {s.var} | (free_vars(s.min) | free_vars(s.extent)),
                           key=lambda v: v.name)
        allocated = {n.buffer for n in walk(s.body) if isinstance(n, S.Allocate)}
        used_bufs = []
        for n in walk(s.body):
            buf = getattr(n, "buffer", None)
            if isinstance(n, (E.BufferLoad, S.BufferStore)) and buf not in allocated \
                    and buf not in used_bufs:
                used_bufs.append(buf)
        slots = len(used_vars) + len(used_bufs)
        env = self.alloca(ir.ArrayType(I64, max(1, slots)), 16)
        for k, v in enumerate(used_vars):
            val = self.vars[v]
            slot = self.b.gep(env, [ir.Constant(I32, 0), ir.Constant(I32, k)], inbounds=True,
                              source_etype=ir.ArrayType(I64, max(1, slots)))
            self.b.store(self.b.sext(val, I64) if val.type != I64 else val, slot)
        for k, buf in enumerate(used_bufs, start=len(used_vars)):
            slot = self.b.gep(env, [ir.Constant(I32, 0), ir.Constant(I32, k)], inbounds=True,
                              source_etype=ir.ArrayType(I64, max(1, slots)))
            self.b.store(self.b.ptrtoint(self.bufs[buf], I64), slot)
        ext = self.expr(s.extent)
        name = f"{self.fn.name}_par{next(self.counter)}"
        ft = ir.FunctionType(ir.VoidType(), [I32, I32, PTR])
        outlined = ir.Function(self.module, ft, name)
        outlined.linkage = "internal"
        first, last, envp = outlined.args
        sub = _FuncGen(self.module, outlined, {}, {}, self.counter)
        sub.in_parallel = True
        arr = ir.ArrayType(I64, max(1, slots))
        for k, v in enumerate(used_vars):
            slot = sub.b.gep(envp, [ir.Constant(I32, 0), ir.Constant(I32, k)], inbounds=True,
                             source_etype=arr)
            raw = sub.b.load(slot, typ=I64)
            vt = ltype(v.dtype)
            sub.vars[v] = raw if vt == I64 else sub.b.trunc(raw, vt)
        for k, buf in enumerate(used_bufs, start=len(used_vars)):
            slot = sub.b.gep(envp, [ir.Constant(I32, 0), ir.Constant(I32, k)], inbounds=True,
                             source_etype=arr)
            sub.bufs[buf] = sub.b.inttoptr(sub.b.load(slot, typ=I64), PTR)
        s_lo = sub.expr(s.min)  # the launcher hands out chunks [first, last) of [0, extent)
        sub.loop(s, sub.b.add(s_lo, first), sub.b.add(s_lo, last))
        sub.finish()
        launch = self._decl(LAUNCH_FN, ir.FunctionType(ir.VoidType(), [PTR, PTR, I32, I32]))
        nthreads = self.b.load(self.num_threads_global(), typ=I32)
        self.b.call(launch, [outlined, env, ext, nthreads])

    def num_threads_global(self) -> ir.GlobalVariable:
        g = self.module.globals.get(NUM_THREADS)
        if g is None:
            g = ir.GlobalVariable(self.module, I32, NUM_THREADS)
            g.initializer = ir.Constant(I32, 1)
        return g


def _aligned_alloca(b: ir.IRBuilder, t: ir.Type, align: int) -> ir.Value:
    inst = b.alloca(t)
    inst.align = align
    inst.type = PTR  # llvmlite types allocas with typed pointers; the module is opaque-pointer
    return inst


def codegen_llvm(func: S.PrimFunc) -> str:
    """LLVM IR text of ``func`` (flattened, lowered) for the host CPU."""
    module = ir.Module(name=func.name)
    ft = ir.FunctionType(ir.VoidType(), [PTR] * len(func.params))
    fn = ir.Function(module, ft, func.name)
    bufs: dict[Any, ir.Value] = {}
    for arg, buf in zip(fn.args, func.params):
        arg.name = buf.name
        arg.add_attribute("noalias")
        bufs[buf] = arg
    gen = _FuncGen(module, fn, {}, bufs, itertools.count())
    gen.stmt(func.body)
    gen.finish()
    return str(module)
