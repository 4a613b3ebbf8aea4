"""Assembly text: every REF Display form, the contract §3 extras, and every error's position."""

import math
import struct

import pytest

from simt.errors import AssemblyError, ProgramError
from simt.isa.program import (BufferOffset, PhiCoordinate, Program, RegisterIndirect,
                              RegisterIndirectComputed, Shared, SharedIndirect, make)
from simt.isa.table import SPECS, Condition, Scope
from simt.isa.text import assemble, disassemble, format_float, format_instruction
from simt.isa.types import DType

# One canonical REF Display line per instruction (atlas-isa.md §3.2), several for some.
DISPLAY = [
    "ldg.f32 r6, [r0 + r5]", "ldg.f32 r1, [r0 - 4]", "ldg.u8 r1, [buf3 + 16]",
    "stg.f32 [r2 + r5], r8", "stg.f32 [Φ(5, 12, 200)], r10",
    "lds.i64 r1, [r0 + 8]", "lds.f32 r1, [shared]", "lds.f32 r1, [shared + 64]",
    "sts.u16 [buf0 + 0], r3", "sts.f32 [shared + r7], r1",
    "mov.bf16 r1, r2", "mov_imm.u32 r4, 2", "mov_imm.f64 r1, 18446744073709551615",
    "cvt.u64.u32 r12, r252",
    "add.f32 r0, r1, r2", "sub.i8 r0, r1, r2", "mul.u16 r0, r1, r2", "div.i64 r0, r1, r2",
    "mad.i32 r0, r1, r2, r3", "fma.f64 r0, r1, r2, r3", "min.f32 r0, r1, r2",
    "max.u64 r0, r1, r2", "abs.i16 r1, r2", "neg.f64 r1, r2",
    "and.u32 r0, r1, r2", "or.u64 r0, r1, r2", "xor.i8 r0, r1, r2", "not.u8 r1, r2",
    "shl.u64 r0, r255, r250", "shr.i32 r0, r1, r2",
    "setge.u64 p0, r255, r3", "setlt.f32 p0, r1, r2", "setgeu.u8 p15, r1, r2",
    "sel.f32 r1, p2, r3, r4",
    "bra @done", "bra.p0 @done", "call @body", "ret", "loop r1, @body", "exit",
    "bar.sync 0", "memfence.thread", "memfence.block", "memfence.device", "memfence.system",
    "cls.get r1", "mirror r1, r2", "unity.test p1, 0.0000000001", "nbr.count r20, r10",
    "nbr.get r20, r10, 0", "res.accum r1, r2", "phase.get r3", "phase.adv 5",
    "bound.map r1, r2, r3, r4",
    "reduce.add.f32 r0, r1, 4", "reduce.min.i32 r0, r1, 4", "reduce.max.i64 r0, r1, 4",
    "reduce.mul.f64 r0, r1, 4",
    "exp.f32 r1, r2", "log.f64 r1, r2", "log2.f32 r1, r2", "log10.f32 r1, r2", "sqrt.f64 r1, r2",
    "rsqrt.f32 r1, r2", "sin.f32 r1, r2", "cos.f32 r1, r2", "tan.f32 r1, r2", "tanh.f64 r1, r2",
    "sigmoid.f32 r1, r2",
    "pool.alloc r1, 4096", "pool.free r1", "pool.load.f32 r1, r2, r3", "pool.store.u32 r2, r3, r4",
]
LABELS = "\ndone: body:"


def one(text: str):
    program = assemble(text + LABELS)
    assert len(program) == 1
    return program[0]


@pytest.mark.parametrize("text", DISPLAY)
def test_display_form_assembles_and_prints_verbatim(text):
    ins = one(text)
    assert str(ins) == format_instruction(ins) == text


def test_display_forms_cover_every_instruction():
    assert {one(text).spec.name for text in DISPLAY} == {spec.name for spec in SPECS}


@pytest.mark.parametrize("text, name, values", [
    ("ldg.f32 r6, [r0 + r5]", "LDG",
     dict(ty=DType.F32, dst=6, addr=RegisterIndirectComputed(0, 5))),
    ("stg.f32 [r2 + r5], r8", "STG",
     dict(ty=DType.F32, src=8, addr=RegisterIndirectComputed(2, 5))),
    ("ldg.f32 r1, [r0 - 4]", "LDG", dict(ty=DType.F32, dst=1, addr=RegisterIndirect(0, -4))),
    ("ldg.f32 r1, [r0 + 4]", "LDG", dict(ty=DType.F32, dst=1, addr=RegisterIndirect(0, 4))),
    ("ldg.u8 r1, [buf3 + 16]", "LDG", dict(ty=DType.U8, dst=1, addr=BufferOffset(3, 16))),
    ("stg.f32 [Φ(5, 12, 200)], r10", "STG",
     dict(ty=DType.F32, src=10, addr=PhiCoordinate(5, 12, 200))),
    ("lds.f32 r1, [shared]", "LDS", dict(ty=DType.F32, dst=1, addr=Shared(0))),
    ("sts.f32 [shared + r7], r1", "STS", dict(ty=DType.F32, src=1, addr=SharedIndirect(7))),
    ("setge.u64 p0, r255, r3", "SETcc",
     dict(ty=DType.U64, cond=Condition.GE, dst=0, src1=255, src2=3)),
    ("bra.p0 @done", "BRA", dict(target="done", pred=0)),
    ("bra @done", "BRA", dict(target="done", pred=None)),
    ("loop r1, @body", "LOOP", dict(count=1, body="body")),
    ("mov_imm.u32 r4, 2", "MOV_IMM", dict(ty=DType.U32, dst=4, value=2)),
    ("cvt.u64.u32 r12, r252", "CVT", dict(src_ty=DType.U32, dst_ty=DType.U64, dst=12, src=252)),
    ("nbr.get r20, r10, 0", "NbrGet", dict(class_=10, index=0, dst=20)),
    ("nbr.count r20, r10", "NbrCount", dict(class_=10, dst=20)),
    ("bound.map r1, r2, r3, r4", "BoundMap", dict(class_=2, page=3, byte=4, dst=1)),
    ("pool.store.u32 r2, r3, r4", "PoolStore", dict(ty=DType.U32, pool=2, offset=3, src=4)),
    ("pool.alloc r1, 4096", "PoolAlloc", dict(size=4096, dst=1)),
    ("unity.test p1, 0.0000000001", "UnityTest", dict(dst=1, epsilon=1e-10)),
    ("memfence.block", "MemFence", dict(scope=Scope.Block)),
    ("sel.f32 r1, p2, r3, r4", "SEL", dict(ty=DType.F32, dst=1, pred=2, src_true=3, src_false=4)),
])
def test_display_form_fields(text, name, values):
    assert one(text) == make(name, **values)


@pytest.mark.parametrize("text, canonical", [
    ("  add.f32   r0 ,r1,\tr2  ", "add.f32 r0, r1, r2"),
    ("ldg.f32 r6,[ r0+r5 ]", "ldg.f32 r6, [r0 + r5]"),
    ("ldg.f32 r6, [r0-4]", "ldg.f32 r6, [r0 - 4]"),
    ("ldg.f32 r1, [r0 - 0]", "ldg.f32 r1, [r0 + 0]"),
    ("ldg.f32 r1, [phi(5, 12, 200)]", "ldg.f32 r1, [Φ(5, 12, 200)]"),
    ("ldg.f32 r1, [PHI( 5,12 ,200 )]", "ldg.f32 r1, [Φ(5, 12, 200)]"),
    ("ldg.f32 r1, [Φ(0x5, 0xc, 0xC8)]", "ldg.f32 r1, [Φ(5, 12, 200)]"),
    ("ldg.f32 r1, [buf0x3 + 0x10]", "ldg.f32 r1, [buf3 + 16]"),
    ("ldg.f32 r1, [r2 - 0x80000000]", "ldg.f32 r1, [r2 - 2147483648]"),
    ("ldg.f32 r1, [r2 + 2147483647]", "ldg.f32 r1, [r2 + 2147483647]"),
    ("lds.f32 r1, [shared + 0]", "lds.f32 r1, [shared]"),
    ("lds.f32 r1, [shared+0x40]", "lds.f32 r1, [shared + 64]"),
    ("bar.sync 0xff", "bar.sync 255"),
    ("phase.adv 0xFFFF", "phase.adv 65535"),
    ("nbr.get r1, r2, 0x3", "nbr.get r1, r2, 3"),
    ("pool.alloc r1, 0x1000", "pool.alloc r1, 4096"),
    ("reduce.add.f32 r0, r1, 0x4", "reduce.add.f32 r0, r1, 4"),
    ("add.f32 r0, r1, r2 ; comment", "add.f32 r0, r1, r2"),
    ("add.f32 r0, r1, r2 # comment", "add.f32 r0, r1, r2"),
    ("add.f32 r0, r1, r2 // comment, with, commas", "add.f32 r0, r1, r2"),
    ("add.f32 r00, r001, r2", "add.f32 r0, r1, r2"),
    ("unity.test p0, 1", "unity.test p0, 1"),
    ("unity.test p0, 0x10", "unity.test p0, 16"),
    ("unity.test p0, 1e-10", "unity.test p0, 0.0000000001"),
    ("unity.test p0, 1.", "unity.test p0, 1"),
    ("unity.test p0, .5", "unity.test p0, 0.5"),
    ("unity.test p0, 1E+3", "unity.test p0, 1000"),
    ("unity.test p0, Inf", "unity.test p0, inf"),
    ("unity.test p0, -INF", "unity.test p0, -inf"),
    ("unity.test p0, nan", "unity.test p0, NaN"),
    ("unity.test p0, -0", "unity.test p0, -0"),
    ("unity.test p0, 1e-400", "unity.test p0, 0"),
])
def test_accepted_spellings(text, canonical):
    assert str(one(text)) == canonical


@pytest.mark.parametrize("text", [
    "add.f16 r1, r2, r3", "add.bf16 r1, r2, r3", "cvt.f64.i8 r1, r2", "cvt.f16.f16 r1, r2",
    "setltu.i32 p0, r1, r2", "setgtu.f32 p0, r1, r2", "abs.u32 r1, r2", "exp.i32 r1, r2",
    "reduce.add.u8 r0, r1, 2", "pool.load.f16 r1, r2, r3", "and.f32 r1, r2, r3",
])
def test_unsupported_types_pairs_and_conditions_assemble(text):
    assert str(one(text)) == text


def f32_bits(x: float) -> int:
    return struct.unpack("<I", struct.pack("<f", x))[0]


def f64_bits(x: float) -> int:
    return struct.unpack("<Q", struct.pack("<d", x))[0]


@pytest.mark.parametrize("text, value", [
    ("mov_imm.u64 r1, 18446744073709551615", (1 << 64) - 1),
    ("mov_imm.u64 r1, 0xFFFFFFFFFFFFFFFF", (1 << 64) - 1),
    ("mov_imm.u8 r1, 300", 300),
    ("mov_imm.i32 r1, -1", (1 << 64) - 1),
    ("mov_imm.i64 r1, -9223372036854775808", 1 << 63),
    ("mov_imm.i8 r1, -0x80", (1 << 64) - 0x80),
    ("mov_imm.f32 r1, 3", 3),
    ("mov_imm.f32 r1, 1.5", f32_bits(1.5)),
    ("mov_imm.f32 r1, 1e0", f32_bits(1.0)),
    ("mov_imm.f32 r1, -0.0", f32_bits(-0.0)),
    ("mov_imm.f32 r1, 0.1", f32_bits(0.1)),
    ("mov_imm.f32 r1, 3.4028235e38", 0x7F7FFFFF),
    ("mov_imm.f32 r1, 1e-50", 0),
    ("mov_imm.f32 r1, inf", 0x7F800000),
    ("mov_imm.f32 r1, -Inf", 0xFF800000),
    ("mov_imm.f32 r1, NaN", 0x7FC00000),
    ("mov_imm.f64 r1, -2.5", f64_bits(-2.5)),
    ("mov_imm.f64 r1, 0.1", f64_bits(0.1)),
    ("mov_imm.f64 r1, 5e-324", 1),
    ("mov_imm.f64 r1, 2e-324", 0),
    ("mov_imm.f64 r1, 1.7976931348623157e308", f64_bits(1.7976931348623157e308)),
    ("mov_imm.f64 r1, nan", 0x7FF8000000000000),
    ("mov_imm.f64 r1, -inf", 0xFFF0000000000000),
    ("mov_imm.f16 r1, 1.0", 0x3C00),
    ("mov_imm.f16 r1, 65504.0", 0x7BFF),
    ("mov_imm.f16 r1, 1.00048828125", 0x3C00),    # tie: 1 + 2**-11 rounds to even
    ("mov_imm.f16 r1, 1.00146484375", 0x3C02),    # tie: 1 + 3 * 2**-11 rounds to even
    ("mov_imm.f16 r1, 6e-8", 0x0001),             # subnormal
    ("mov_imm.f16 r1, nan", 0x7E00),
    ("mov_imm.bf16 r1, 1.0", 0x3F80),
    ("mov_imm.bf16 r1, -inf", 0xFF80),
    ("mov_imm.bf16 r1, 1.00390625", 0x3F80),      # tie: 1 + 2**-8 rounds to even
    # just above the f32 midpoint 1 + 2**-24: rounding via f64 would land on the tie and
    # round down; the exact decimal value rounds up
    ("mov_imm.f32 r1, 1.000000059604644775390625000000001", 0x3F800001),
])
def test_mov_imm_literals(text, value):
    assert one(text).value == value


@pytest.mark.parametrize("x, text", [
    (1e-10, "0.0000000001"), (1.0, "1"), (0.5, "0.5"), (-0.0, "-0"), (0.0, "0"),
    (math.nan, "NaN"), (math.inf, "inf"), (-math.inf, "-inf"), (123.456, "123.456"),
    (1e21, "1000000000000000000000"), (-1.5e-7, "-0.00000015"), (0.1, "0.1"),
    (1e300, "1" + "0" * 300), (5e-324, "0." + "0" * 323 + "5"),
])
def test_format_float_is_rust_display(x, text):
    assert format_float(x) == text
    assert one(f"unity.test p0, {text}").epsilon == pytest.approx(x, nan_ok=True)


@pytest.mark.parametrize("text, line, column, message", [
    ("add.f32 r0, r1, r256", 1, 17, "register r256 out of range"),
    ("add.f32 r0, r1, x2", 1, 17, "expected a register"),
    ("\n\n  ad.f32 r0, r1, r2", 3, 3, "unknown instruction 'ad.f32'"),
    ("add.f128 r0, r1, r2", 1, 1, "unknown instruction"),
    ("ADD.F32 r0, r1, r2", 1, 1, "unknown instruction"),
    ("setlt.f32 p16, r1, r2", 1, 11, "predicate p16 out of range"),
    ("sel.f32 r1, r2, r3, r4", 1, 13, "expected a predicate"),
    ("bra.p16 @x\nx:", 1, 5, "predicate p16 out of range"),
    ("bra @nowhere", 1, 5, "undefined label 'nowhere'"),
    ("x:\n  call @y\nexit", 2, 8, "undefined label 'y'"),
    ("bra done\ndone:", 1, 5, "expected a label reference"),
    ("a:\nexit\n  a: exit", 3, 3, "duplicate label 'a'"),
    ("x: y: x: exit", 1, 7, "duplicate label 'x'"),
    ("add.f32 r0, r1", 1, 15, "takes 3 operand(s), got 2"),
    ("add.f32 r0, r1, r2, r3", 1, 21, "takes 3 operand(s), got 4"),
    ("exit r1", 1, 6, "takes no operand(s)"),
    ("add.f32 r0,,r1", 1, 12, "expected an operand"),
    ("add.f32 r0, r1, r2,", 1, 20, "expected an operand"),
    ("add.f32r0, r1, r2", 1, 1, "unknown instruction"),
    ("bar.sync 256", 1, 10, "out of range"),
    ("bar.sync -1", 1, 10, "out of range"),
    ("phase.adv 0x10000", 1, 11, "out of range"),
    ("nbr.get r1, r2, 256", 1, 17, "out of range"),
    ("reduce.add.f32 r0, r1, 0x100000000", 1, 24, "out of range"),
    ("pool.alloc r1, -1", 1, 16, "out of range"),
    ("pool.alloc r1, 1.5", 1, 16, "expected an integer"),
    ("mov_imm.u64 r1, 18446744073709551616", 1, 17, "out of range"),
    ("mov_imm.i64 r1, -9223372036854775809", 1, 17, "out of range"),
    ("mov_imm.u32 r1, 1.5", 1, 17, "float literal"),
    ("mov_imm.i32 r1, inf", 1, 17, "float literal"),
    ("mov_imm.u8 r1, nan", 1, 16, "float literal"),
    ("mov_imm.f32 r1, 1e39", 1, 17, "overflows f32"),
    ("mov_imm.f32 r1, -3.4028236e38", 1, 17, "overflows f32"),
    ("mov_imm.f16 r1, 65520.0", 1, 17, "overflows f16"),
    ("mov_imm.bf16 r1, 3.4e38", 1, 18, "overflows bf16"),
    ("mov_imm.f64 r1, 1e309", 1, 17, "overflows f64"),
    ("mov_imm.f32 r1, -nan", 1, 17, "expected an integer or float"),
    ("mov_imm.f32 r1, 1.5f", 1, 17, "expected an integer or float"),
    ("unity.test p1, 1e400", 1, 16, "overflows f64"),
    ("unity.test p1, eps", 1, 16, "expected a number"),
    ("ldg.f32 r1, [r0 + 2147483648]", 1, 19, "out of range"),
    ("ldg.f32 r1, [r0 - 2147483649]", 1, 19, "out of range"),
    ("ldg.f32 r1, [Φ(5, 12, 256)]", 1, 23, "out of range"),
    ("ldg.f32 r1, [r300 + r1]", 1, 14, "register r300 out of range"),
    ("ldg.f32 r1, [r3 + r256]", 1, 19, "register r256 out of range"),
    ("ldg.f32 r1, [buf1 - 4]", 1, 13, "expected an address"),
    ("ldg.f32 r1, [r0 + 4", 1, 13, "expected an address"),
    ("ldg.f32 r1, r0", 1, 13, "expected an address"),
    ("ldg.f32 r1, [buf18446744073709551616 + 0]", 1, 17, "out of range"),
    ("ldg.f32 r1, [shared + 4]", 1, 13, "LDG does not accept a shared-memory address"),
    ("ldg.f32 r1, [shared]", 1, 13, "shared-memory"),
    ("stg.f32 [shared + r3], r1", 1, 9, "shared-memory"),
    ("lds.f32 r1, [shared - 4]", 1, 13, "expected an address"),
    ("exit\nreduce.add.f32 r0, r250, 10", 2, 1, "past r255"),
    ("exit\n  1abc: exit", 2, 3, "unknown instruction"),
    ("add.f32 r0, r1, r" + "9" * 5000, 1, 17, "out of range"),
    ("mov_imm.f64 r1, 1" + "0" * 5000 + ".0", 1, 17, "overflows f64"),
])
def test_errors_have_line_and_column(text, line, column, message):
    with pytest.raises(AssemblyError) as info:
        assemble(text)
    error = info.value
    assert (error.line, error.column) == (line, column)
    assert message in error.reason
    assert isinstance(error, ProgramError)
    assert str(error).startswith(f"line {line}, column {column}: ")


def test_assemble_rejects_non_str():
    with pytest.raises(TypeError):
        assemble(b"exit")


def test_labels_and_source_lines():
    program = assemble("""\
; a comment line
start:
    mov_imm.u32 r1, 3     # count
body: loop r1, @body
a.b$_1: again: bra @start
\t
end: // nothing after
""")
    assert [str(i) for i in program] == ["mov_imm.u32 r1, 3", "loop r1, @body", "bra @start"]
    assert dict(program.labels) == {"start": 0, "body": 1, "a.b$_1": 2, "again": 2, "end": 3}
    assert program.source_lines == (3, 4, 5)


def test_crlf_and_empty_text():
    assert str(assemble("exit\r\nret\r\n")[1]) == "ret"
    assert assemble("") == Program()
    assert assemble("  ; only a comment\n\n") == Program()


def test_disassemble_layout():
    program = assemble("z: a: add.f32 r0, r1, r2\nbra.p3 @a\nend: other:\n")
    assert disassemble(program) == program.to_text() == (
        "a:\nz:\nadd.f32 r0, r1, r2\nbra.p3 @a\nend:\nother:\n")
    assert assemble(program.to_text()) == program


def test_disassemble_is_a_function_of_program_equality():
    ins = [make("EXIT")]
    assert Program(ins, {"b": 1, "a": 0}).to_text() == Program(ins, {"a": 0, "b": 1}).to_text()


def test_disassemble_rejects_labels_text_cannot_spell():
    with pytest.raises(ProgramError):
        Program([make("BRA", "my label")], {"my label": 0}).to_text()


def test_disassemble_validates():
    with pytest.raises(ProgramError):
        Program([make("ADD", DType.F32, 0, 1, 256)]).to_text()


def test_printing_does_not_validate():
    assert str(make("ADD", DType.F32, 0, 1, 256)) == "add.f32 r0, r1, r256"
