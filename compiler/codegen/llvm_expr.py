"""LLVM IR for loop-IR expressions, scalar and vector (part of the LLVM code generator)."""

from __future__ import annotations

from typing import Any

import llvmlite.ir as ir

from tessera.compiler.errors import InternalError, UnsupportedError
from tessera.compiler.tensor import expr as E

I1, I8, I16, I32, I64 = (ir.IntType(b) for b in (1, 8, 16, 32, 64))
F32, F64 = ir.FloatType(), ir.DoubleType()
PTR = ir.PointerType()
_SCALAR: dict[str, ir.Type] = {"float32": F32, "float64": F64, "int8": I8, "uint8": I8,
                               "int16": I16, "int32": I32, "int64": I64, "bool": I1}
_BITS = {"float32": 32, "float64": 64, "int8": 8, "uint8": 8, "int16": 16, "int32": 32,
         "int64": 64, "bool": 1}
# strided vector loads up to this stride read the span and shuffle; wider ones gather lanes
MAX_LOAD_STRIDE = 4
_ICMP = {"<": "<", "<=": "<=", ">": ">", ">=": ">=", "==": "==", "!=": "!="}


def nbytes(dtype: str) -> int:
    """Bytes of one element of a scalar dtype (bool takes a byte in memory)."""
    return max(1, _BITS[E.scalar_of(dtype)] // 8)


def mtype(dtype: str) -> ir.Type:
    """The in-memory element type: a bool is a byte (numpy's layout), not a bit."""
    return I8 if E.scalar_of(dtype) == "bool" else ltype(E.scalar_of(dtype))


def ltype(dtype: str) -> ir.Type:
    base = _SCALAR[E.scalar_of(dtype)]
    n = E.lanes_of(dtype)
    return base if n == 1 else ir.VectorType(base, n)


def _suffix(dtype: str) -> str:
    base = {"float32": "f32", "float64": "f64"}[E.scalar_of(dtype)]
    n = E.lanes_of(dtype)
    return base if n == 1 else f"v{n}{base}"


class ExprEmitter:
    """Mixin: ``self.b`` (IRBuilder), ``self.vars``, ``self.bufs``, ``self.module``."""

    b: ir.IRBuilder
    module: ir.Module
    vars: dict[E.Var, ir.Value]
    bufs: dict[Any, ir.Value]

    def intrinsic(self, name: str, dtype: str, nargs: int = 1) -> ir.Function:
        full = f"llvm.{name}.{_suffix(dtype)}"
        fn = self.module.globals.get(full)
        if fn is None:
            t = ltype(dtype)
            fn = ir.Function(self.module, ir.FunctionType(t, [t] * nargs), full)
        return fn

    def libm(self, name: str, dtype: str) -> ir.Function:
        full = name + ("f" if E.scalar_of(dtype) == "float32" else "")
        fn = self.module.globals.get(full)
        if fn is None:
            t = ltype(E.scalar_of(dtype))
            fn = ir.Function(self.module, ir.FunctionType(t, [t]), full)
        return fn

    def splat(self, v: ir.Value, n: int) -> ir.Value:
        vt = ir.VectorType(v.type, n)
        tmp = self.b.insert_element(ir.Constant(vt, ir.Undefined), v, ir.Constant(I32, 0))
        return self.b.shuffle_vector(tmp, ir.Constant(vt, ir.Undefined),
                                     ir.Constant(ir.VectorType(I32, n), [0] * n))

    def address(self, buf: Any, index: ir.Value) -> ir.Value:
        return self.b.gep(self.bufs[buf], [self.b.sext(index, I64)], inbounds=True,
                          source_etype=mtype(buf.dtype))

    def to_memory(self, v: ir.Value, dtype: str) -> ir.Value:
        """Bools are stored as bytes: widen i1 values (scalar or vector) to i8."""
        if E.scalar_of(dtype) != "bool":
            return v
        n = E.lanes_of(dtype)
        return self.b.zext(v, I8 if n == 1 else ir.VectorType(I8, n))

    def load(self, e: E.BufferLoad) -> ir.Value:
        v = self._load(e)
        if E.scalar_of(e.dtype) == "bool":
            return self.b.icmp_unsigned("!=", v, ir.Constant(v.type, None))
        return v

    def _load(self, e: E.BufferLoad) -> ir.Value:
        idx = e.indices[0]
        et = mtype(e.buffer.dtype)
        align = max(1, _BITS[e.buffer.dtype] // 8)
        n = E.lanes_of(e.dtype)
        if n == 1:
            return self.b.load(self.address(e.buffer, self.expr(idx)), typ=et, align=align)
        if isinstance(idx, E.Ramp) and isinstance(idx.stride, E.Const) and idx.stride.value == 1:
            ptr = self.address(e.buffer, self.expr(idx.base))
            return self.b.load(ptr, typ=ir.VectorType(et, n), align=align)
        if (isinstance(idx, E.Ramp) and isinstance(idx.stride, E.Const)
                and 1 < idx.stride.value <= MAX_LOAD_STRIDE):
            # a constant stride (pooling, strided conv): one contiguous load of the span the
            # lanes cover, then a shuffle that keeps every stride-th element
            stride = int(idx.stride.value)
            span = (n - 1) * stride + 1
            ptr = self.address(e.buffer, self.expr(idx.base))
            wide = self.b.load(ptr, typ=ir.VectorType(et, span), align=align)
            mask = ir.Constant(ir.VectorType(I32, n), [k * stride for k in range(n)])
            return self.b.shuffle_vector(wide, ir.Constant(wide.type, ir.Undefined), mask)
        vidx = self.expr(idx)
        out = ir.Constant(ir.VectorType(et, n), ir.Undefined)
        for k in range(n):
            i = self.b.extract_element(vidx, ir.Constant(I32, k))
            out = self.b.insert_element(out, self.b.load(self.address(e.buffer, i), typ=et,
                                                         align=align), ir.Constant(I32, k))
        return out

    def expr(self, e: E.Expr) -> ir.Value:  # noqa: C901 - one dispatch table
        if isinstance(e, E.Var):
            v = self.vars.get(e)
            if v is None:
                raise InternalError(f"codegen: variable {e.name} must be bound, not free")
            return v
        if isinstance(e, E.Const):
            t = ltype(e.dtype)
            if e.dtype == "bool":
                return ir.Constant(I1, int(bool(e.value)))
            if E.is_float(e.dtype):
                return ir.Constant(t, float(e.value))
            return ir.Constant(t, int(e.value))
        if isinstance(e, E.BufferLoad):
            return self.load(e)
        if isinstance(e, E.Broadcast):
            return self.splat(self.expr(e.value), e.lanes)
        if isinstance(e, E.Ramp):
            base = self.splat(self.expr(e.base), e.lanes)
            stride = self.splat(self.expr(e.stride), e.lanes)
            steps = ir.Constant(ir.VectorType(I32, e.lanes), list(range(e.lanes)))
            return self.b.add(base, self.b.mul(stride, steps))
        if isinstance(e, E.Binary):
            return self.binary(e)
        if isinstance(e, E.Cmp):
            a, b = self.expr(e.a), self.expr(e.b)
            if E.is_float(e.a.dtype):
                return self.b.fcmp_ordered(_ICMP[e.op], a, b) if e.op != "!=" else \
                    self.b.fcmp_unordered("!=", a, b)
            if E.scalar_of(e.a.dtype) in ("uint8", "bool"):
                return self.b.icmp_unsigned(_ICMP[e.op], a, b)
            return self.b.icmp_signed(_ICMP[e.op], a, b)
        if isinstance(e, E.Logic):
            a = self.expr(e.a)
            if e.op == "not":
                return self.b.not_(a)
            assert e.b is not None
            return self.b.and_(a, self.expr(e.b)) if e.op == "and" else \
                self.b.or_(a, self.expr(e.b))
        if isinstance(e, E.Select):
            return self.b.select(self.expr(e.cond), self.expr(e.t), self.expr(e.f))
        if isinstance(e, E.Cast):
            return self.cast(self.expr(e.value), e.value.dtype, e.dtype)
        if isinstance(e, E.Call):
            return self.call(e)
        raise UnsupportedError(f"codegen llvm: expression {type(e).__name__} must be lowered "
                               f"before code generation, not {e!r}")

    def binary(self, e: E.Binary) -> ir.Value:
        dt = e.dtype
        if E.is_float(dt):
            if e.op == "+":
                for m, c in ((e.a, e.b), (e.b, e.a)):
                    if isinstance(m, E.Binary) and m.op == "*":
                        fma = self.intrinsic("fmuladd", dt, 3)
                        return self.b.call(fma, [self.expr(m.a), self.expr(m.b), self.expr(c)])
            a, b = self.expr(e.a), self.expr(e.b)
            ops = {"+": self.b.fadd, "-": self.b.fsub, "*": self.b.fmul, "/": self.b.fdiv}
            if e.op in ops:
                return ops[e.op](a, b)
            if e.op in ("min", "max"):
                c = self.b.fcmp_ordered("<" if e.op == "min" else ">", a, b)
                return self.b.select(c, a, b)
            raise UnsupportedError(f"codegen llvm: float operator must be + - * / min max, "
                                   f"not {e.op}")
        a, b = self.expr(e.a), self.expr(e.b)
        unsigned = E.scalar_of(dt) in ("uint8", "bool")
        flags = ["nsw"] if E.scalar_of(dt) in ("int32", "int64") else []
        if e.op == "+":
            return self.b.add(a, b, flags=flags)
        if e.op == "-":
            return self.b.sub(a, b, flags=flags)
        if e.op == "*":
            return self.b.mul(a, b, flags=flags)
        if e.op in ("min", "max"):
            cmp = self.b.icmp_unsigned if unsigned else self.b.icmp_signed
            return self.b.select(cmp("<" if e.op == "min" else ">", a, b), a, b)
        if unsigned:
            return self.b.udiv(a, b) if e.op == "//" else self.b.urem(a, b)
        q, r = self.b.sdiv(a, b), self.b.srem(a, b)
        zero = ir.Constant(a.type, None)
        # floor semantics: adjust when the remainder is non-zero and signs differ
        neg = self.b.icmp_signed("!=", self.b.icmp_signed("<", r, zero),
                                 self.b.icmp_signed("<", b, zero))
        adj = self.b.and_(self.b.icmp_signed("!=", r, zero), neg)
        if e.op == "//":
            return self.b.sub(q, self.b.zext(adj, a.type))
        return self.b.select(adj, self.b.add(r, b), r)

    def cast(self, v: ir.Value, src: str, dst: str) -> ir.Value:
        s, d = E.scalar_of(src), E.scalar_of(dst)
        t = ltype(dst)
        if s == d:
            return v
        if d == "bool":
            zero = ir.Constant(v.type, None)
            return self.b.fcmp_unordered("!=", v, zero) if E.is_float(s) else \
                self.b.icmp_signed("!=", v, zero)
        if E.is_float(s) and E.is_float(d):
            return self.b.fpext(v, t) if _BITS[d] > _BITS[s] else self.b.fptrunc(v, t)
        if E.is_float(s):
            return self.b.fptoui(v, t) if d == "uint8" else self.b.fptosi(v, t)
        if E.is_float(d):
            return self.b.uitofp(v, t) if s in ("uint8", "bool") else self.b.sitofp(v, t)
        if _BITS[d] > _BITS[s]:
            return self.b.zext(v, t) if s in ("uint8", "bool") else self.b.sext(v, t)
        return self.b.trunc(v, t)

    def call(self, e: E.Call) -> ir.Value:
        dt = e.dtype
        if e.name == "likely":
            return self.expr(e.args[0])
        x = self.expr(e.args[0])
        if e.name in ("exp", "log", "sqrt", "fabs", "floor", "ceil"):
            return self.b.call(self.intrinsic(e.name, dt), [x])
        if e.name == "sigmoid":
            one = ir.Constant(ltype(dt), 1.0) if E.lanes_of(dt) == 1 else \
                self.splat(ir.Constant(ltype(E.scalar_of(dt)), 1.0), E.lanes_of(dt))
            ex = self.b.call(self.intrinsic("exp", dt), [self.b.fneg(x)])
            return self.b.fdiv(one, self.b.fadd(one, ex))
        if e.name in ("tanh", "erf"):
            fn = self.libm(e.name, dt)
            n = E.lanes_of(dt)
            if n == 1:
                return self.b.call(fn, [x])
            out = ir.Constant(x.type, ir.Undefined)
            for k in range(n):
                lane = self.b.extract_element(x, ir.Constant(I32, k))
                out = self.b.insert_element(out, self.b.call(fn, [lane]), ir.Constant(I32, k))
            return out
        raise UnsupportedError(f"codegen llvm: intrinsic must be a math function, not {e.name}")
