"""Encode/decode round trips of every instruction and micro-op, and field-overflow errors."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera.hw import HwConfig
from tessera.hw import isa as I
from tessera.hw.errors import EncodingError

CONFIGS = [HwConfig.default(), HwConfig.small()]


def _field_values(draw: st.DrawFn, cfg: HwConfig, opcode: I.Opcode) -> dict[str, int]:
    return {
        f.name: draw(st.integers(f.lo, f.hi))
        for f in I.insn_layout(cfg, opcode)
        if f.name not in ("opcode", "mem_type", "alu_op")
    }


@st.composite
def insns(draw: st.DrawFn, cfg: HwConfig) -> I.Insn:
    opcode = draw(st.sampled_from(list(I.Opcode)))
    vals = _field_values(draw, cfg, opcode)
    flags = {k: bool(vals.pop(k)) for k in ("pop_prev", "pop_next", "push_prev", "push_next")}
    if opcode in (I.Opcode.LOAD, I.Opcode.STORE):
        mem = draw(st.sampled_from(list(I.MemType)))
        return I.MemInsn(**flags, store=opcode == I.Opcode.STORE, mem_type=mem, **vals)
    if opcode == I.Opcode.GEMM:
        return I.GemmInsn(**flags, reset=bool(vals.pop("reset")), **vals)
    if opcode == I.Opcode.ALU:
        op = draw(st.sampled_from(list(I.AluOp)))
        return I.AluInsn(
            **flags, reset=bool(vals.pop("reset")), use_imm=bool(vals.pop("use_imm")),
            alu_op=op, **vals,
        )
    return I.FinishInsn(**flags)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
def test_layouts_fit_128_bits(cfg: HwConfig) -> None:
    for op in I.Opcode:
        last = I.insn_layout(cfg, op)[-1]
        assert last.lsb + last.width <= 128


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
@given(data=st.data())
def test_insn_round_trip(cfg: HwConfig, data: st.DataObject) -> None:
    insn = data.draw(insns(cfg))
    word = I.encode(insn, cfg)
    assert 0 <= word < 1 << 128
    assert I.decode(word, cfg) == insn


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
@given(data=st.data())
def test_uop_round_trip(cfg: HwConfig, data: st.DataObject) -> None:
    vals = {f.name: data.draw(st.integers(f.lo, f.hi)) for f in I.uop_layout(cfg)}
    uop = I.Uop(**vals)
    word = I.encode_uop(uop, cfg)
    assert 0 <= word < 1 << 32
    assert I.decode_uop(word, cfg) == uop


def test_program_bytes_round_trip() -> None:
    cfg = HwConfig.default()
    prog = [I.MemInsn(mem_type=I.MemType.INP, x_size=4), I.GemmInsn(reset=True), I.FinishInsn()]
    data = I.program_bytes(prog, cfg)
    assert len(data) == 48
    assert I.program_from_bytes(data, cfg) == prog


def test_field_overflow_names_field_value_and_range() -> None:
    cfg = HwConfig.default()
    with pytest.raises(EncodingError, match=r"^GEMM\.iter_out must be in \[0, 16383\], not 16384$"):
        I.encode(I.GemmInsn(iter_out=16384), cfg)
    with pytest.raises(EncodingError, match=r"^ALU\.imm must be in \[-32768, 32767\], not 40000$"):
        I.encode(I.AluInsn(imm=40000), cfg)
    with pytest.raises(EncodingError, match=r"^uop\.wgt must be in \[0, 1023\], not 1024$"):
        I.encode_uop(I.Uop(wgt=1024), cfg)


def test_bad_opcode_and_stream_length() -> None:
    cfg = HwConfig.default()
    with pytest.raises(EncodingError, match=r"^opcode must be one of 0\.\.4, not 7$"):
        I.decode(7, cfg)
    with pytest.raises(EncodingError, match="multiple of 16 bytes, not 20"):
        I.program_from_bytes(bytes(20), cfg)


def test_token_queues_and_impossible_flags() -> None:
    gemm = I.GemmInsn(pop_prev=True, push_next=True)
    assert I.token_queues(gemm) == (["l2c"], ["c2s"])
    load = I.MemInsn(mem_type=I.MemType.INP, pop_next=True, push_next=True)
    assert I.token_queues(load) == (["c2l"], ["l2c"])
    with pytest.raises(EncodingError, match="load unit, which has no previous stage"):
        I.token_queues(I.MemInsn(mem_type=I.MemType.WGT, pop_prev=True))
    with pytest.raises(EncodingError, match="store unit, which has no next stage"):
        I.token_queues(I.MemInsn(store=True, mem_type=I.MemType.OUT, push_next=True))
