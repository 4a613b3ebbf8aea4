"""Property tests: text and JSON round trips, and no exception but ours on any input."""

import json
import string

from hypothesis import Phase, find, given, settings
from hypothesis import strategies as st

from simt.errors import AssemblyError, ProgramError
from simt.isa.program import Program, Shared, SharedIndirect
from simt.isa.text import assemble, format_float
from simt.testing.strategies import instructions, programs

# deadline=None: a loaded CI machine must not make these flaky; example counts stay
# whatever the active hypothesis profile says.
relaxed = settings(deadline=None)
# find() stops at the first example that qualifies; no shrinking needed
quick = settings(deadline=None, database=None, max_examples=2000, phases=[Phase.generate])


@relaxed
@given(programs())
def test_text_round_trip(program):
    text = program.to_text()
    again = assemble(text)
    assert again == program
    assert again.to_text() == text
    assert len(again.source_lines) == len(program)


@relaxed
@given(programs())
def test_json_round_trip(program):
    text = program.to_json()
    assert Program.from_json(text) == program
    assert Program.from_json(text.encode()) == program
    assert Program.from_json(json.loads(text)) == program


@relaxed
@given(instructions(labels=["L"]))
def test_each_instruction_prints_and_assembles_alone(ins):
    assert assemble(f"{ins}\nL:")[0] == ins


@relaxed
@given(st.floats(allow_nan=False))
def test_float_display_round_trips_without_exponent(x):
    text = format_float(x)
    assert "e" not in text and "E" not in text
    assert assemble(f"unity.test p0, {text}")[0].epsilon == x


def assembles_or_assembly_error(text: str) -> None:
    try:
        assemble(text)
    except AssemblyError as error:
        assert error.line >= 1 and error.column >= 1
        assert error.line <= text.count("\n") + 1


TOKENS = ["add.f32", "ldg.u8", "sts.f32", "mov_imm.f32", "mov_imm.i8", "unity.test", "bra",
          "bra.p1", "nbr.get", "reduce.add.f32", "cvt.f16.f32", "setltu.u32", "memfence.block",
          "r0", "r255", "r256", "p15", "p16", "@x", "x:", "@", ":", ",", "[", "]", "(", ")", "+",
          "-", "Φ", "phi", "buf", "shared", "0x", "0x1F", "1e999", "1.5", ".", "-0", "inf",
          "nan", "18446744073709551616", " ", "\t", "\n", ";", "#", "//", "\r", "é", "\x00"]


@relaxed
@given(st.text())
def test_random_text_raises_only_assembly_error(text):
    assembles_or_assembly_error(text)


@relaxed
@given(st.lists(st.sampled_from(TOKENS), max_size=30).map("".join))
def test_token_soup_raises_only_assembly_error(text):
    assembles_or_assembly_error(text)


@relaxed
@given(st.binary().map(lambda b: b.decode("utf-8", "surrogateescape")))
def test_decoded_bytes_raise_only_assembly_error(text):
    assembles_or_assembly_error(text)


@relaxed
@given(programs(), st.data())
def test_mutated_program_text_raises_only_assembly_error(program, data):
    text = program.to_text()
    position = data.draw(st.integers(0, len(text)))
    cut = data.draw(st.integers(0, 3))
    insert = data.draw(st.text(string.printable + "Φ", max_size=3))
    assembles_or_assembly_error(text[:position] + insert + text[position + cut:])


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8)
    | st.sampled_from(["F32", "U8", "GT", "Device", "EXIT", "LDG", "Shared", "x"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner,
                                                                max_size=3),
    max_leaves=10)


def loads_or_program_error(data) -> None:
    try:
        Program.from_json(data)
    except ProgramError:
        pass


@relaxed
@given(JSON_VALUES)
def test_random_json_raises_only_program_error(value):
    loads_or_program_error(value)
    loads_or_program_error({"instructions": [value], "labels": {}})


@relaxed
@given(programs(), st.data())
def test_mutated_program_json_raises_only_program_error(program, data):
    document = json.loads(program.to_json())
    if document["instructions"]:
        index = data.draw(st.integers(0, len(document["instructions"]) - 1))
        item = document["instructions"][index]
        if isinstance(item, dict):
            ((name, body),) = item.items()
            if body:
                key = data.draw(st.sampled_from(sorted(body)))
                body[key] = data.draw(JSON_VALUES)
        else:
            document["instructions"][index] = data.draw(JSON_VALUES)
    loads_or_program_error(document)
    text = program.to_json()
    position = data.draw(st.integers(0, len(text)))
    loads_or_program_error(text[:position] + data.draw(st.text(max_size=2)) + text[position + 1:])


@relaxed
@given(st.binary())
def test_random_bytes_as_json_raise_only_program_error(blob):
    loads_or_program_error(blob)


def test_program_strategy_reaches_end_labels_shared_indices_and_shared_memory():
    find(programs(), lambda p: len(p) > 0 and len(p) in p.labels.values(), settings=quick)
    find(programs(), lambda p: len(set(p.labels.values())) < len(p.labels), settings=quick)
    find(programs(), lambda p: any(isinstance(getattr(i, "addr", None), (Shared, SharedIndirect))
                                   for i in p), settings=quick)


@relaxed
@given(programs())
def test_programs_pickle_and_copy_to_equal_programs(program):
    import copy
    import pickle
    for twin in (pickle.loads(pickle.dumps(program)), copy.deepcopy(program),
                 copy.copy(program)):
        assert twin == program and hash(twin) == hash(program)
        assert twin.to_text() == program.to_text()


def test_assembled_programs_keep_source_lines_through_pickle():
    import pickle
    program = assemble("; header\nmov_imm.f32 r1, nan\n\nunity.test p0, -0.0\nL:\nbra @L")
    twin = pickle.loads(pickle.dumps(program))
    assert twin == program and twin.source_lines == program.source_lines == (2, 4, 6)
    assert twin[0] == program[0] and twin.labels == program.labels
