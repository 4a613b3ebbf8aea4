"""serde JSON (atlas-isa.md §11.3): the reference's form, in and out, and every rejection."""

import json
import math

import pytest

from simt.errors import ProgramError
from simt.isa.program import (PhiCoordinate, Program, RegisterIndirectComputed, Shared,
                              SharedIndirect, make)
from simt.isa.table import Condition, Scope
from simt.isa.text import assemble
from simt.isa.types import DType

EXAMPLE = """{"instructions": [
  {"MOV_IMM": {"ty": "U64", "dst": 1, "value": 7}},
  {"LDG": {"ty": "F32", "dst": 10, "addr": {"RegisterIndirectComputed": {"handle_reg": 1, "offset_reg": 0}}}},
  {"SETcc": {"ty": "F32", "cond": "GT", "dst": 0, "src1": 10, "src2": 11}},
  {"BRA": {"target": "done", "pred": 0}},
  {"STG": {"ty": "F32", "src": 10, "addr": {"PhiCoordinate": {"class": 5, "page": 12, "byte": 200}}}},
  {"MemFence": {"scope": "Device"}},
  "EXIT"],
 "labels": {"done": 5}}"""

VECTOR_ADD = """\
mov_imm.u64 r1, 0
mov_imm.u64 r2, 0
mov_imm.u64 r3, 0
mov_imm.u32 r250, 2
shl.u64 r0, r255, r250
ldg.f32 r10, [r1 + r0]
ldg.f32 r11, [r2 + r0]
add.f32 r12, r10, r11
stg.f32 [r3 + r0], r12
exit
"""


def test_reference_example_loads():
    program = Program.from_json(EXAMPLE)
    assert list(program) == [
        make("MOV_IMM", DType.U64, 1, 7),
        make("LDG", DType.F32, 10, RegisterIndirectComputed(1, 0)),
        make("SETcc", DType.F32, Condition.GT, 0, 10, 11),
        make("BRA", "done", 0),
        make("STG", DType.F32, 10, PhiCoordinate(5, 12, 200)),
        make("MemFence", Scope.Device),
        make("EXIT"),
    ]
    assert dict(program.labels) == {"done": 5}
    assert json.loads(program.to_json()) == json.loads(EXAMPLE)


def test_vector_add_round_trips():
    program = assemble(VECTOR_ADD)
    assert len(program) == 10
    assert program.to_text() == VECTOR_ADD
    document = json.loads(program.to_json())
    assert document["instructions"][5] == {"LDG": {"ty": "F32", "dst": 10, "addr": {
        "RegisterIndirectComputed": {"handle_reg": 1, "offset_reg": 0}}}}
    assert document["instructions"][9] == "EXIT"
    for data in (program.to_json(), program.to_json().encode(), document):
        assert Program.from_json(data) == program


def test_field_order_is_serde_order():
    text = assemble("nbr.get r20, r10, 3\nbound.map r1, r2, r3, r4\ncvt.u64.u32 r1, r2").to_json()
    assert '{"NbrGet": {"class": 10, "index": 3, "dst": 20}}' in text
    assert '{"BoundMap": {"class": 2, "page": 3, "byte": 4, "dst": 1}}' in text
    assert '{"CVT": {"src_ty": "U32", "dst_ty": "U64", "dst": 1, "src": 2}}' in text


def test_unconditional_bra_and_extension_addresses():
    program = assemble("bra @x\nlds.f32 r1, [shared + 8]\nsts.u8 [shared + r2], r1\nx:")
    document = json.loads(program.to_json())
    assert document["instructions"] == [
        {"BRA": {"target": "x", "pred": None}},
        {"LDS": {"ty": "F32", "dst": 1, "addr": {"Shared": {"offset": 8}}}},
        {"STS": {"ty": "U8", "src": 1, "addr": {"SharedIndirect": {"offset_reg": 2}}}},
    ]
    assert Program.from_json(document) == program
    assert Program.from_json(document).instructions[1].addr == Shared(8)
    assert Program.from_json(document).instructions[2].addr == SharedIndirect(2)


def test_bra_pred_may_be_omitted():
    data = {"instructions": [{"BRA": {"target": "x"}}], "labels": {"x": 1}}
    assert Program.from_json(data)[0] == make("BRA", "x", None)


def test_non_finite_epsilons():
    program = assemble("unity.test p0, NaN\nunity.test p1, inf\nunity.test p2, -inf\n"
                       "unity.test p3, -0")
    text = program.to_json()
    assert '"epsilon": null' in text and '"epsilon": 1e999' in text
    assert '"epsilon": -1e999' in text and '"epsilon": -0.0' in text
    assert Program.from_json(text) == program
    epsilon = Program.from_json({"instructions": [{"UnityTest": {"dst": 0, "epsilon": None}}],
                                 "labels": {}})[0].epsilon
    assert math.isnan(epsilon)
    assert Program.from_json({"instructions": [{"UnityTest": {"dst": 0, "epsilon": 1}}],
                              "labels": {}})[0].epsilon == 1.0


def test_empty_program():
    assert Program.from_json(Program().to_json()) == Program()


def bad(instruction, labels=None):
    return {"instructions": [instruction], "labels": labels or {}}


def ldg(addr):
    return bad({"LDG": {"ty": "F32", "dst": 1, "addr": addr}})


ADD = {"ty": "F32", "dst": 0, "src1": 1, "src2": 2}


@pytest.mark.parametrize("data, message", [
    ("{", "invalid JSON"),
    (b"\xff\xfe\x00", "invalid JSON"),
    ("[" * 100_000, "invalid JSON"),
    ('{"instructions": [], "labels": {}, "labels": {}}', "duplicate key"),
    ('{"instructions": [{"UnityTest": {"dst": 0, "epsilon": NaN}}], "labels": {}}', "NaN"),
    ("[]", "expected an object"),
    (42, "expected an object"),
    ({"instructions": []}, "missing field 'labels'"),
    ({"instructions": [], "labels": {}, "extra": 1}, "unknown field 'extra'"),
    ({"instructions": {}, "labels": {}}, "expected a list"),
    ({"instructions": [], "labels": []}, "expected an object"),
    (bad("NOP"), "unknown instruction"),
    (bad(7), "expected instruction"),
    (bad({"ADD": ADD, "SUB": ADD}), "expected instruction"),
    (bad("ADD"), "expected an object"),
    (bad({"EXIT": {}}), "EXIT has no fields"),
    (bad({"ADD": {**ADD, "src3": 1}}), "unknown field 'src3'"),
    (bad({"ADD": {"ty": "F32", "dst": 0, "src1": 1}}), "missing field 'src2'"),
    (bad({"ADD": {**ADD, "ty": "F128"}}), "unknown type"),
    (bad({"ADD": {**ADD, "ty": "f32"}}), "unknown type"),
    (bad({"ADD": {**ADD, "src2": True}}), "must be an int"),
    (bad({"ADD": {**ADD, "src2": 2.0}}), "must be an int"),
    (bad({"ADD": {**ADD, "src2": "r2"}}), "must be an int"),
    (bad({"ADD": {**ADD, "src2": 256}}), "out of range"),
    (bad({"ADD": {**ADD, "src2": -1}}), "out of range"),
    (bad({"SETcc": {"ty": "F32", "cond": "gt", "dst": 0, "src1": 1, "src2": 2}}),
     "unknown condition"),
    (bad({"SETcc": {"ty": "F32", "cond": "GT", "dst": 16, "src1": 1, "src2": 2}}),
     "predicate p16 out of range"),
    (bad({"MemFence": {"scope": "Warp"}}), "unknown memory scope"),
    (bad({"BRA": {"target": "nowhere", "pred": None}}), "undefined label"),
    (bad({"BRA": {"target": 3, "pred": None}}), "label name"),
    (bad({"MOV_IMM": {"ty": "U64", "dst": 1, "value": 1 << 64}}), "out of range"),
    (ldg({"Shared": {"offset": 0}}), "shared-memory"),
    (ldg({"Register": {"base": 0}}), "unknown address"),
    (ldg("BufferOffset"), "BufferOffset: expected an object"),
    (ldg({"RegisterIndirect": {"base": 0}}), "missing field 'offset'"),
    (ldg({"RegisterIndirect": {"base": 0, "offset": 1 << 31}}), "i32"),
    (ldg({"RegisterIndirect": {"base": 0, "offset": -1.0}}), "must be an int"),
    (ldg({"PhiCoordinate": {"class_": 0, "page": 0, "byte": 0}}), "missing field 'class'"),
    (ldg({"PhiCoordinate": {"class": 256, "page": 0, "byte": 0}}), "out of range"),
    (bad({"UnityTest": {"dst": 0, "epsilon": "small"}}), "expected a number"),
    (bad({"UnityTest": {"dst": 0, "epsilon": 10 ** 400}}), "out of range"),
    (bad({"ReduceAdd": {"ty": "F32", "dst": 0, "src_base": 250, "count": 10}}), "past r255"),
    ({"instructions": [], "labels": {"a": 1}}, "outside 0..0"),
    ({"instructions": [], "labels": {"a": True}}, "label 'a'"),
])
def test_invalid_documents_raise_program_error(data, message):
    with pytest.raises(ProgramError) as info:
        Program.from_json(data)
    assert message in str(info.value)


def test_errors_name_the_instruction_index():
    with pytest.raises(ProgramError) as info:
        Program.from_json({"instructions": ["EXIT", "RET", {"ADD": {**ADD, "ty": 1}}],
                           "labels": {}})
    assert info.value.pc == 2
    assert "instructions[2].ADD.ty" in str(info.value) and "at pc 2" in str(info.value)


def _nested(depth: int, leaf=0, wrap=lambda v: [v]):
    for _ in range(depth):
        leaf = wrap(leaf)
    return leaf


DEEP = _nested(5000)
DEEP_DICT = _nested(5000, wrap=lambda v: {"a": v})
DEEP_TUPLE = _nested(5000, wrap=lambda v: (v,))


@pytest.mark.parametrize("data", [
    bad({"ADD": {**ADD, "src2": DEEP}}),
    bad({"ADD": {**ADD, "src2": DEEP_DICT}}),
    bad({"ADD": {**ADD, "ty": DEEP}}),
    bad(DEEP),
    bad({"BRA": {"target": DEEP, "pred": None}}),
    bad({"UnityTest": {"dst": 0, "epsilon": DEEP}}),
    ldg({"BufferOffset": {"handle": DEEP_DICT, "offset": 0}}),
    ldg({"RegisterIndirect": {"base": 0, "offset": DEEP}}),
    {"instructions": DEEP, "labels": {}},
    {"instructions": [], "labels": {"a": DEEP}},
    {"instructions": [], "labels": {DEEP_TUPLE: 0}},
    json.dumps(bad({"ADD": {**ADD, "src2": _nested(900)}})),
], ids=lambda d: type(d).__name__)
def test_values_nested_thousands_deep_are_program_errors(data):
    with pytest.raises(ProgramError) as info:
        Program.from_json(data)
    assert len(str(info.value)) < 400


@pytest.mark.parametrize("value", [DEEP, DEEP_DICT, DEEP_TUPLE])
def test_validate_reports_deeply_nested_fields(value):
    from simt.isa.program import BufferOffset, make
    for program in (Program([make("ADD", DType.F32, 0, 1, value)]),
                    Program([make("LDG", DType.F32, 1, BufferOffset(value, 0))]),
                    Program([make("BRA", value, None)]),
                    Program([], {"a": value})):
        with pytest.raises(ProgramError) as info:
            program.validate()
        assert len(str(info.value)) < 400
    with pytest.raises(ProgramError):
        Program([value])
