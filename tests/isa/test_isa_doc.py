"""docs/isa.md is generated from the instruction table and must not drift from it."""

import json
import re
from pathlib import Path

import simt
from simt.isa.doc import NOTES, isa_markdown
from simt.isa.table import SPECS, Kind
from simt.isa.text import usage

DOC = Path(__file__).resolve().parents[2] / "docs" / "isa.md"


def test_docs_isa_md_is_generated_from_the_table():
    assert DOC.read_text(encoding="utf-8") == isa_markdown(), (
        "docs/isa.md is stale: regenerate it with "
        "python -c 'from simt.isa.doc import isa_markdown; print(isa_markdown(), end=\"\")' "
        "> docs/isa.md")


def test_page_lists_every_instruction():
    page = isa_markdown()
    for spec in SPECS:
        assert f"`{usage(spec)}`" in page
        assert f"- Opcode {spec.opcode}, serde name `{spec.name}`" in page


def test_every_example_assembles_and_its_json_loads():
    page = isa_markdown()
    examples = re.findall(r"^- Example: `([^`]+)`", page, flags=re.M)
    documents = re.findall(r"^- JSON: `([^`]+)`", page, flags=re.M)
    assert len(examples) == len(documents) == len(SPECS)
    for spec, text, doc in zip(SPECS, examples, documents):
        labels = "\nbody:\ndone:" if any(f.kind is Kind.LABEL for f in spec.fields) else ""
        prog = simt.assemble(text + labels)
        assert prog[0].spec is spec
        assert simt.Program.from_json({"instructions": [json.loads(doc)],
                                       "labels": dict(prog.labels)})[0] == prog[0]


def test_notes_name_real_instructions():
    assert set(NOTES) <= {spec.name for spec in SPECS}
