"""The assembly text form: round trips, the grammar, exact error messages and the CLI."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tessera.compiler.cli import main
from tessera.hw import HwConfig, asm
from tessera.hw import isa as I
from tessera.hw.errors import AsmError

CONFIGS = [HwConfig.default(), HwConfig.small()]


@st.composite
def insns(draw: st.DrawFn, cfg: HwConfig) -> I.Insn:
    opcode = draw(st.sampled_from(list(I.Opcode)))
    vals = {f.name: draw(st.one_of(st.just(f.lo), st.just(f.hi), st.integers(f.lo, f.hi)))
            for f in I.insn_layout(cfg, opcode)
            if f.name not in ("opcode", "mem_type", "alu_op")}
    flags = {k: bool(vals.pop(k)) for k in ("pop_prev", "pop_next", "push_prev", "push_next")}
    if opcode in (I.Opcode.LOAD, I.Opcode.STORE):
        return I.MemInsn(**flags, store=opcode == I.Opcode.STORE,
                         mem_type=draw(st.sampled_from(list(I.MemType))), **vals)
    if opcode == I.Opcode.GEMM:
        return I.GemmInsn(**flags, reset=bool(vals.pop("reset")), **vals)
    if opcode == I.Opcode.ALU:
        return I.AluInsn(**flags, reset=bool(vals.pop("reset")),
                         use_imm=bool(vals.pop("use_imm")),
                         alu_op=draw(st.sampled_from(list(I.AluOp))), **vals)
    return I.FinishInsn(**flags)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
@given(data=st.data())
def test_text_round_trip(cfg: HwConfig, data: st.DataObject) -> None:
    prog = data.draw(st.lists(insns(cfg), min_size=1, max_size=8))
    raw = I.program_bytes(prog, cfg)
    text = asm.disassemble(raw, cfg)
    assert asm.assemble(text, cfg) == raw
    assert asm.parse(asm.disassemble(raw, cfg, comments=False), cfg).insns == tuple(prog)


@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: c.name)
@given(data=st.data())
def test_uop_round_trip(cfg: HwConfig, data: st.DataObject) -> None:
    uops = [I.Uop(*(data.draw(st.integers(f.lo, f.hi)) for f in I.uop_layout(cfg)))
            for _ in range(data.draw(st.integers(1, 5)))]
    words = asm.AsmProgram((), tuple(uops)).uop_bytes(cfg)
    assert asm.parse(asm.disassemble_uops(words, cfg), cfg).uops == tuple(uops)


def test_the_documented_example_parses_to_these_instructions() -> None:
    text = """
    # a comment line
    LOAD INP sram_base=0 dram_base=0x40 y_size=4 x_size=16 x_stride=16 x_pad_0=1 push_next
    load uop dram_base=256 x_size=8 x_stride=8 ; lower case and ; comments work
    GEMM uop_end=8 iter_out=4 dst_factor_out=16 src_factor_out=16 pop_prev push_prev
    ALU SHR use_imm imm=-8 uop_bgn=8 uop_end=9 iter_out=64 dst_factor_out=1 reset
    STORE OUT dram_base=0x80 y_size=4 x_size=16 x_stride=16 pop_prev push_prev
    FINISH
    UOP dst=1 src=16 wgt=2
    """
    prog = asm.parse(text, HwConfig.default())
    assert prog.insns == (
        I.MemInsn(mem_type=I.MemType.INP, dram_base=64, y_size=4, x_size=16, x_stride=16,
                  x_pad_0=1, push_next=True),
        I.MemInsn(mem_type=I.MemType.UOP, dram_base=256, x_size=8, x_stride=8),
        I.GemmInsn(uop_end=8, iter_out=4, dst_factor_out=16, src_factor_out=16,
                   pop_prev=True, push_prev=True),
        I.AluInsn(alu_op=I.AluOp.SHR, use_imm=True, imm=-8, uop_bgn=8, uop_end=9,
                  iter_out=64, dst_factor_out=1, reset=True),
        I.MemInsn(store=True, mem_type=I.MemType.OUT, dram_base=128, y_size=4, x_size=16,
                  x_stride=16, pop_prev=True, push_prev=True),
        I.FinishInsn(),
    )
    assert prog.uops == (I.Uop(1, 16, 2),)
    assert asm.format_insn(prog.insns[3]) == (
        "ALU SHR uop_bgn=8 uop_end=9 iter_out=64 dst_factor_out=1 imm=-8 reset use_imm")
    assert asm.format_insn(I.FinishInsn(pop_next=True)) == "FINISH pop_next"


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("JUMP 3", "line 1: mnemonic must be one of LOAD, STORE, GEMM, ALU, FINISH, UOP, "
                   "not 'JUMP'"),
        ("LOAD", "line 1: LOAD needs a memory type (one of UOP, WGT, INP, ACC, OUT)"),
        ("STORE BUF", "line 1: STORE a memory type must be one of UOP, WGT, INP, ACC, OUT, "
                      "not 'BUF'"),
        ("ALU DIV", "line 1: ALU an operation must be one of MIN, MAX, ADD, SHR, MUL, "
                    "not 'DIV'"),
        ("GEMM foo=1", "line 1: GEMM has no field 'foo'; it has pop_prev, pop_next, "
                       "push_prev, push_next, reset, uop_bgn, uop_end, iter_out, iter_in, "
                       "dst_factor_out, dst_factor_in, src_factor_out, src_factor_in, "
                       "wgt_factor_out, wgt_factor_in"),
        ("GEMM reset=1", "line 1: reset is a flag: write it bare, not 'reset=1'"),
        ("GEMM iter_out", "line 1: iter_out needs a value (iter_out=N)"),
        ("GEMM iter_out=4x", "line 1: iter_out must be an integer, not '4x'"),
        ("GEMM iter_out=1 iter_out=2", "line 1: iter_out is given twice"),
        ("LOAD INP x_size=65536", "line 1: LOAD.x_size must be in [0, 65535], not 65536"),
        ("ALU ADD imm=40000", "line 1: ALU.imm must be in [-32768, 32767], not 40000"),
        ("UOP dst=4096", "line 1: uop.dst must be in [0, 2047], not 4096"),
    ],
)
def test_errors_name_the_line(line: str, message: str) -> None:
    with pytest.raises(AsmError) as err:
        asm.parse(line, HwConfig.default())
    assert str(err.value) == message


def test_line_numbers_count_blank_and_comment_lines() -> None:
    with pytest.raises(AsmError, match=r"^line 4: "):
        asm.parse("FINISH\n\n# c\nGEMM x=1\n", HwConfig.default())


def test_disassemble_rejects_bad_streams() -> None:
    cfg = HwConfig.default()
    with pytest.raises(AsmError) as err:
        asm.disassemble(bytes(16) + bytes([6]) + bytes(15), cfg)
    assert str(err.value) == "instruction 1: opcode must be one of 0..4, not 6"
    with pytest.raises(AsmError) as err:
        asm.disassemble(bytes(10), cfg)
    assert str(err.value) == "an instruction stream must be a multiple of 16 bytes, not 10"


def test_cli_round_trip(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "prog.s"
    src.write_text("LOAD UOP x_size=2 x_stride=2\nGEMM uop_end=2 iter_in=3\n"
                   "FINISH\nUOP dst=1\nUOP wgt=3\n")
    assert main(["asm", str(src), "-o", str(tmp_path / "p.bin"), "--config", "small",
                 "--uops-out", str(tmp_path / "u.bin")]) == 0
    raw = (tmp_path / "p.bin").read_bytes()
    assert len(raw) == 48
    assert main(["disasm", str(tmp_path / "p.bin"), "--config", "small"]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[1].split("#")[0].strip() == "GEMM uop_end=2 iter_in=3"
    (tmp_path / "again.s").write_text(text)
    assert main(["asm", str(tmp_path / "again.s"), "--config", "small"]) == 0
    assert (tmp_path / "again.bin").read_bytes() == raw
    assert main(["disasm", "--uops", str(tmp_path / "u.bin"), "--config", "small"]) == 0
    assert capsys.readouterr().out == "UOP dst=1 src=0 wgt=0\nUOP dst=0 src=0 wgt=3\n"


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "bad.s"
    src.write_text("FINISH\nGEMM iter_in=-1\n")
    assert main(["asm", str(src)]) == 1
    assert capsys.readouterr().err == (
        f"tessera asm: error: {src}: line 2: GEMM.iter_in must be in [0, 16383], not -1\n")
    src.write_text("FINISH\nUOP dst=1\n")
    assert main(["asm", str(src)]) == 1
    assert "has 1 UOP lines: give --uops-out FILE" in capsys.readouterr().err
    assert main(["disasm", str(tmp_path / "missing.bin")]) == 1
    assert "cannot read" in capsys.readouterr().err
