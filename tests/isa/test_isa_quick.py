"""The quick readers (assembler lines, JSON documents, validation) agree with the full ones.

The quick paths take the usual forms and hand anything else to the full readers; these
tests check that they never accept something different, and that errors stay the full
readers' errors.
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given

from simt.errors import AssemblyError, ProgramError
from simt.isa import codec, text
from simt.isa.program import BufferOffset, Program, make
from simt.isa.types import DType
from simt.testing.strategies import programs


def _full_parse(line: str):
    return text._parse_instruction(line, 0, 1).ins


@given(programs())
def test_quick_lines_read_as_the_full_reader_does(program: Program) -> None:
    for ins in program:
        line = str(ins)
        quick = text._quick_instruction(line)
        if quick is not None:
            assert quick == _full_parse(line)
            assert type(quick) is type(_full_parse(line))


@given(programs())
def test_quick_json_reads_as_the_full_reader_does(program: Program) -> None:
    js = program.to_json()
    full = Program(*codec._full_from_json(js)).validate()
    assert Program.from_json(js) == full == program
    assert Program.from_json(json.loads(js)) == full
    assert Program.from_json(js.encode()) == full


def test_quick_heads_match_the_full_head_syntax() -> None:
    for head, (spec, values, _) in text._quick_heads().items():
        for form in text._FORMS.values():
            m = form.head.fullmatch(head)
            if m is not None:
                break
        assert form.spec is spec, head
        expected = {n: text._KINDS[spec.kind_of(n)].parse(text._Token(m[n], 1, 1), {})
                    for n in form.head_fields}
        assert values == tuple(expected.get(n) for n in spec.field_names)


@pytest.mark.parametrize("line, column, message", [
    ("add.f32 r256, r1, r2", 9, "register r256 out of range (max r255)"),
    ("add.f32 r1, r2", 15, "add.f32 takes 3 operand(s), got 2: add.<ty> r<dst>, r<src1>, r<src2>"),
    ("ldg.f32 r1, [buf1 + 18446744073709551616]", 21,
     "address offset 18446744073709551616 out of range (0 to 18446744073709551615)"),
    ("ldg.f32 r1, [shared + 4]", 13, "LDG does not accept a shared-memory address"),
    ("stg.u32 [r1 - 2147483649], r2", 15, "offset -2147483649 out of range (i32)"),
    ("bar.sync 256", 10, "u8 immediate 256 out of range (0 to 255)"),
    ("mov_imm.u64 r1, 18446744073709551616", 17,
     "immediate 18446744073709551616 out of range (-2**63 to 2**64 - 1)"),
    ("setlt.f32 p16, r1, r2", 11, "predicate p16 out of range (max p15)"),
    ("ldg.f32 r1, [r256 + r1]", 14, "register r256 out of range (max r255)"),
    ("reduce.add.f32 r0, r250, 10", 1, "reduction reads r250..r259, past r255"),
])
def test_lines_the_quick_reader_refuses_keep_their_errors(line: str, column: int,
                                                          message: str) -> None:
    assert text._quick_instruction(line) is None
    with pytest.raises(AssemblyError) as error:
        text.assemble("exit\n" + line)
    assert (error.value.line, error.value.column) == (2, column)
    assert str(error.value) == f"line 2, column {column}: {message}"


def test_undefined_label_after_quick_lines_points_at_the_operand() -> None:
    with pytest.raises(AssemblyError) as error:
        text.assemble("add.f32 r1, r2, r3\n  bra @nowhere\n")
    assert (error.value.line, error.value.column) == (2, 7)
    assert "undefined label 'nowhere'" in str(error.value)


def _doc(*instructions, labels=None) -> dict:
    return {"instructions": list(instructions), "labels": labels or {}}


_LDG = {"LDG": {"ty": "F32", "dst": 1, "addr": {"BufferOffset": {"handle": 1, "offset": 0}}}}


@pytest.mark.parametrize("doc", [
    _doc({"LDG": {"ty": "F32", "dst": 1, "addr": {"Shared": {"offset": 0}}}}),
    _doc({"LDG": {"ty": "F32", "dst": True, "addr": {"BufferOffset": {"handle": 1,
                                                                       "offset": 0}}}}),
    _doc({"ADD": {"ty": "F32", "dst": 1, "src1": 2, "src2": 1 << 70}}),
    _doc(_LDG, {"BRA": {"target": "nowhere", "pred": None}}),
    _doc(_LDG, labels={"x": 3}),
    _doc({"BRA": {"target": "x", "prod": 1}}, labels={"x": 0}),
    _doc({"BRA": {"pred": 1}}, labels={"x": 0}),
    _doc({"ReduceAdd": {"ty": "F32", "dst": 0, "src_base": 250, "count": 10}}),
    _doc({"LDG": {"ty": "F33", "dst": 1, "addr": {"BufferOffset": {"handle": 1,
                                                                    "offset": 0}}}}),
])
def test_documents_the_quick_reader_refuses_keep_their_errors(doc: dict) -> None:
    with pytest.raises(ProgramError) as full:
        Program(*codec._full_from_json(doc)).validate()
    with pytest.raises(ProgramError) as quick:
        Program.from_json(doc)
    assert str(quick.value) == str(full.value)
    with pytest.raises(ProgramError) as from_text:
        Program.from_json(json.dumps(doc))
    assert str(from_text.value) == str(full.value)


def test_duplicate_keys_are_still_refused() -> None:
    js = ('{"instructions": [{"ADD": {"ty": "F32", "dst": 1, "dst": 2, "src1": 2, "src2": 3}}],'
          ' "labels": {}}')
    with pytest.raises(ProgramError, match="invalid JSON: duplicate key 'dst'"):
        Program.from_json(js)


def test_a_colon_inside_a_label_name_loads() -> None:
    program = Program([make("EXIT")], {"a:b": 0})
    assert Program.from_json(program.to_json()) == program


def test_quick_programs_are_valid_and_equal_to_built_ones() -> None:
    program = Program([make("LDG", DType.F32, 1, BufferOffset(1, 8)), make("EXIT")], {"end": 2})
    loaded = Program.from_json(program.to_json())
    assert loaded == program and loaded.validate() is loaded
    assert text.assemble(program.to_text()) == program


@given(programs())
def test_json_text_is_the_plain_dump_of_each_instruction(program: Program) -> None:
    lines = [codec._dump(codec._instruction_to_json(ins)) for ins in program]
    items = ",\n  ".join(lines)
    assert program.to_json().startswith(f'{{"instructions": [\n  {items}]' if lines else
                                        '{"instructions": []')


def test_isa_modules_import_one_way() -> None:
    """No module of simt.isa imports another inside a function, and the imports form no cycle."""
    import ast
    import pathlib

    import simt.isa
    root = pathlib.Path(simt.isa.__file__).parent
    graph: dict[str, set[str]] = {}
    for path in root.glob("*.py"):
        tree = ast.parse(path.read_text())
        top = {id(node) for node in tree.body}
        graph[path.stem] = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
                assert id(node) in top, f"{path.stem} imports .{node.module} lazily"
                graph[path.stem].add(node.module.split(".")[0])
    done: set[str] = set()

    def visit(name: str, stack: tuple[str, ...]) -> None:
        assert name not in stack, f"import cycle: {' -> '.join((*stack, name))}"
        if name in done or name not in graph:
            return
        for other in graph[name]:
            visit(other, (*stack, name))
        done.add(name)

    for name in graph:
        visit(name, ())
    assert "program" in graph["serde"] and "program" in graph["text"]
    assert not graph["program"] & {"serde", "text"}
