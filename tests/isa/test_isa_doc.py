"""docs/isa.md is generated from the instruction table and must not drift from it."""

from pathlib import Path

from simt.isa.doc import isa_markdown
from simt.isa.table import SPECS
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
        assert f"| {spec.opcode} | `{usage(spec)}` | `{spec.name}` |" in page
