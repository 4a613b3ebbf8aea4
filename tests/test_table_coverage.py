"""One table drives everything: every instruction has both semantics, text and JSON forms."""

from __future__ import annotations

from simt.isa import SPECS, BufferOffset, Condition, Program, Scope, make
from simt.isa.table import OPCODES, Kind
from simt.isa.types import DType
from simt.isa.doc import isa_markdown
from simt.isa.serde import program_to_json
from simt.machine.kernels import DECODERS
from simt.reference import REFERENCE

NAMES = {spec.name for spec in SPECS}


def test_vectorized_kernels_cover_the_table():
    assert set(DECODERS) == NAMES, (
        f"missing: {sorted(NAMES - set(DECODERS))}, extra: {sorted(set(DECODERS) - NAMES)}")


def test_reference_semantics_cover_the_table():
    assert set(REFERENCE) == NAMES, (
        f"missing: {sorted(NAMES - set(REFERENCE))}, extra: {sorted(set(REFERENCE) - NAMES)}")


def test_there_are_sixty_instructions_and_the_docs_name_each():
    assert OPCODES == 60 and len(SPECS) == OPCODES
    assert [s.opcode for s in SPECS] == list(range(OPCODES))
    page = isa_markdown()
    for spec in SPECS:
        assert spec.name in page and spec.mnemonic in page


def test_serde_names_are_the_table_names():
    prog = Program([make(spec.name, *_some_fields(spec)) for spec in SPECS], {"L": 0})
    text = program_to_json(prog)
    for spec in SPECS:
        assert f'"{spec.name}"' in text


def _some_fields(spec):
    values = {Kind.TYPE: DType.U32, Kind.REG: 1, Kind.PRED: 0, Kind.OPT_PRED: None,
              Kind.LABEL: "L", Kind.ADDR: BufferOffset(1, 0), Kind.COND: Condition.EQ,
              Kind.SCOPE: Scope.Block, Kind.U8: 0, Kind.U16: 0, Kind.U32: 0, Kind.U64: 0,
              Kind.F64: 0.0}
    return [values[field.kind] for field in spec.fields]


def test_address_forms_and_register_runs_are_table_facts():
    from simt.isa.table import BY_NAME, GLOBAL_ADDRESSES, SHARED_ADDRESSES
    takes_address = {s.name for s in SPECS if any(f.kind is Kind.ADDR for f in s.fields)}
    assert {s.name for s in SPECS if s.addresses} == takes_address
    assert {s.name for s in SPECS if s.admits_shared} == {"LDS", "STS"}
    assert all(s.addresses >= GLOBAL_ADDRESSES for s in SPECS if s.addresses)
    assert BY_NAME["LDS"].addresses == GLOBAL_ADDRESSES | SHARED_ADDRESSES
    for spec in SPECS:
        if spec.register_run is not None:
            base, count = spec.register_run
            assert spec.kind_of(base) is Kind.REG and spec.kind_of(count) is Kind.U32
    assert {s.name for s in SPECS if s.register_run} == {
        "ReduceAdd", "ReduceMin", "ReduceMax", "ReduceMul"}
